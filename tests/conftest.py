import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# datasets 3.6 copies the loading script and its dataset_infos.json into a modules cache, keyed by the
# script alone: a copy made before the infos changed would be read again. Each test run gets its own.
os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix="bioinstruct-hf-modules-"))

import datasets  # noqa: E402
import pytest  # noqa: E402

import bioinstruct  # noqa: E402
from bioinstruct_tools import checks, export  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample.jsonl"
SCRIPT = REPO / "bioinstruct.py"
DATASETS_MAJOR = int(datasets.__version__.split(".")[0])
sys.path.insert(0, str(REPO / "bench"))  # the benches' corpora serve the tests too


DISTINCT_INSTRUCTIONS = [
    "Extract the medication names from the note.",
    "Summarize the radiology report in one sentence.",
    "What is the first-line treatment for this infection?",
    "Classify the potassium value as low, normal or high.",
    "Rewrite the discharge advice in plain language for the family.",
    "Identify every anatomical location in the operative report.",
    "Calculate the body mass index from the weight and height given.",
    "Explain why the laboratory found a raised troponin level here.",
]


def records(n: int = 4) -> list[dict]:
    """`n` valid records whose instructions are neither duplicates nor near-duplicates of each other."""
    return [
        {"instruction": DISTINCT_INSTRUCTIONS[i], "input": f"Note {i}: aspirin {i} mg.", "output": f"answer {i}"}
        for i in range(n)
    ]


def write_jsonl(path: Path, rows, bom: bool = False) -> Path:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def write_array(path: Path, rows, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + json.dumps(rows, indent=2), encoding="utf-8")
    return path


def build_config(config_name: str, data_files, cache_dir) -> datasets.Dataset:
    """The builder class used directly: the route that works on every datasets version."""
    builder = bioinstruct.BioInstruct(config_name=config_name, data_files=data_files, cache_dir=str(cache_dir))
    builder.download_and_prepare()
    return builder.as_dataset(split="train")


def run_check(check: checks.Check, rows, **options) -> checks.CheckResult:
    """One check on `rows` (all schema-valid), as `validate` runs it."""
    records = [checks.Record(index, index + 1, row) for index, row in enumerate(rows)]
    return check.run(checks.Subject(records, records), checks.ValidationOptions(**options), checks.Hooks())


def build(source, out, **options) -> export.BuildResult:
    """`bioinstruct build` as a library call."""
    return export.build(export.BuildOptions(out_dir=str(out), source=str(source), **options))


def run_cli(*args, cwd, env=None, stdout=subprocess.PIPE, timeout=150) -> subprocess.CompletedProcess:
    """`bioinstruct` as a separate process in `cwd`, offline: for signals, hangs and whole-process behaviour."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", *map(str, args)], cwd=cwd, env=environment,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=timeout)


def cli(*args, cwd) -> subprocess.CompletedProcess:
    """`bioinstruct ARGS` run from `cwd` in this process, as `run_cli` runs it in another: a second faster."""
    from bioinstruct_tools.cli import main

    out, err, previous = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(arg) for arg in args])
    except SystemExit as exited:  # argparse's usage errors
        code = exited.code
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session", autouse=True)
def no_lock_beside_the_clone():
    """Tests make the script's builder themselves: on datasets 3.x each would leave `<the clone's parent>.lock`
    outside the clone, as a build would beside an install (`export.no_lock_beside_the_script`)."""
    with export.no_lock_beside_the_script():
        yield


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The sample built once per test process. Read it, or copy it before changing anything in it."""
    out = tmp_path_factory.mktemp("built") / "sample"
    build(SAMPLE, out)
    return out


@pytest.fixture(autouse=True)
def own_decision_cache(tmp_path_factory, monkeypatch) -> Path:
    """Each test remembers categories in a folder of its own (commands it runs inherit it): no test reads an
    answer another one wrote, and none writes to the user's cache. `categories.forget()` clears the memory."""
    folder = tmp_path_factory.mktemp("decisions")
    monkeypatch.setenv("BIOINSTRUCT_CACHE", str(folder))
    monkeypatch.delenv("BIOINSTRUCT_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def sample_rows() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def pytest_collection_modifyitems(config, items):
    """The wheel test (a build, a venv, every command: about a minute) goes first, so that on two workers the
    rest of the suite runs beside it rather than after it."""
    items.sort(key=lambda item: item.get_closest_marker("wheel") is None)
