"""The package as users get it: the built wheel (and sdist) in a fresh venv, every command run from another folder.

The fresh venv holds only the wheel; its dependencies come from this test environment's site-packages
through a `.pth` line (which does not process this environment's editable-install hooks), so the test
needs no second download of numba, datasets and matplotlib. The same commands then run as `nobody` with
no writable HOME and a read-only install: numba compiles in memory, and nothing writes beside the code.
"""

import json
import os
import shutil
import site
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE

pytestmark = [pytest.mark.wheel, pytest.mark.timeout(900)]
BENCH_SAMPLE = REPO / "data" / "bench_sample.jsonl"


def _run(args, cwd, env=None, user=None, timeout=600) -> subprocess.CompletedProcess:
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if user == "nobody" else []
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PYTHON", "VIRTUAL_ENV", "NUMBA_"))}
    environment.update({"HF_HUB_OFFLINE": "1", **(env or {})})
    return subprocess.run(prefix + [str(arg) for arg in args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed():
    """(bioinstruct command, python, a folder anyone can read) for the wheel in a fresh venv.

    Outside pytest's temporary folders, which pytest keeps private (0700) and `nobody` could not enter.
    """
    root = Path(tempfile.mkdtemp(prefix="bioinstruct-wheel-"))
    try:
        yield _install(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _install(root: Path):
    dist = root / "dist"
    # From a copy of the sources: setuptools writes build/ and *.egg-info beside them, which another build (or
    # another test process) must not share.
    source = root / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "*.egg-info", "__pycache__",
                                                                 ".hypothesis", "out"))
    built = _run([sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", dist, source], cwd=root)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bioinstruct.py" in names and "bioinstruct_tools/resources/card.md" in names
    assert "bioinstruct_tools/resources/copy_card.md" in names
    assert "bioinstruct_tools/resources/dataset_infos.json" in names
    assert {"bioinstruct_tools/resources/hub_licenses.txt", "bioinstruct_tools/resources/META.example.yaml",
            "bioinstruct_tools/commands/push.py"} <= set(names)
    assert any(name.endswith("resources/card.md") for name in tarfile.open(sdist).getnames())
    assert any(name.endswith("resources/copy_card.md") for name in tarfile.open(sdist).getnames())
    venv = root / "venv"
    assert _run([sys.executable, "-m", "venv", venv], cwd=root).returncode == 0
    python = venv / "bin" / "python"
    installed = _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel], cwd=root)
    assert installed.returncode == 0, installed.stderr[-2000:]
    target = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=root).stdout.strip())
    (target / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    root.chmod(0o755)  # mkdtemp's folder is private: let `nobody` in
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
    return venv / "bin" / "bioinstruct", python, root


def _every_command(command: Path, python: Path, work: Path, user=None, env=None) -> None:
    sample, bench = shutil.copy(SAMPLE, work), shutil.copy(BENCH_SAMPLE, work)  # the checkout may be private

    def ok(*args):
        result = _run([command, *args], cwd=work, env=env, user=user)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, (args, result.stderr[-3000:])
        return result

    assert ok("--version").stdout.startswith("bioinstruct 1.")
    assert "result: PASS" in ok("validate", sample).stdout
    built = ok("build", "--source", sample, "--out", "built")
    assert "built built from" in built.stdout
    loaded = _run([python, "-c", "import datasets; print(datasets.load_dataset('built', 'qa', split='train',"
                                 " cache_dir='hf-cache').num_rows)"], cwd=work, env=env, user=user)
    assert loaded.returncode == 0 and int(loaded.stdout.split()[-1]) > 0, loaded.stderr[-2000:]
    assert "wrote" in ok("report", "built", "--out", "report").stdout
    assert "CONTAMINATED" in ok("contamination", sample, "--against", bench).stdout
    assert ok("categorize", "--file", sample).stdout.startswith("index,line,id,category")
    assert json.loads(ok("clean", sample, "--out", "clean/sample.jsonl", "--json").stdout)["excluded"] == 0
    assert "result: PASS" in ok("validate", "built").stdout  # a built folder reads back through the one reader
    plan = json.loads(ok("push", "built", "--repo-id", "org/name", "--dry-run", "--json").stdout)
    assert any(entry["path"] == "README.md" for entry in plan["add"])
    assert "Dataset Card for Instruction records in BioInstruct's format" in (work / "built" / "README.md").read_text()
    example = _run([python, "-c", "import bioinstruct_tools.card_meta as m; print(m.EXAMPLE_PATH.read_text())"],
                   cwd=work, env=env, user=user).stdout
    (work / "META.yaml").write_text(example)  # the README's step: the shipped example builds as it is
    described = ok("build", "--source", sample, "--out", "described", "--card-meta", "META.yaml")
    assert described.returncode == 0 and "license: cc-by-nc-4.0" in (work / "described" / "README.md").read_text()
    refused = _run([command, "card", "--check"], cwd=work, env=env, user=user)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "installed copy" in refused.stderr


def _others_can_read(path: str) -> bool:
    return all(os.stat(folder).st_mode & 0o005 == 0o005 for folder in [path, *map(str, Path(path).parents)])


def _can_become_nobody() -> bool:
    return (os.geteuid() == 0 and shutil.which("setpriv") is not None
            and all(_others_can_read(p) for p in site.getsitepackages()))


def test_every_command_runs_from_the_installed_wheel_in_another_folder(installed):
    """As `nobody` with no home where this machine allows it (a read-only install: nothing may be written beside
    the package), else as the current user: each command once, from a folder outside the checkout."""
    command, python, root = installed
    work = root / "work"
    work.mkdir()
    if not _can_become_nobody():
        _every_command(command, python, work)
        return
    work.chmod(0o777)
    env = {"HOME": "/nonexistent", "XDG_CACHE_HOME": "/nonexistent/cache"}
    _every_command(command, python, work, user="nobody", env=env)
    nobody = int(_run(["id", "-u", "nobody"], cwd=work).stdout)
    assert not [path for path in command.parent.parent.rglob("*") if path.lstat().st_uid == nobody]  # wrote nothing there
