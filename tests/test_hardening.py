"""Hostile and unlucky inputs through the real command line: one line, the right exit code, no data lost.

Every case runs `bioinstruct` in a folder of its own, as a separate process (`run_cli`) where signals, the
environment or a possible hang matter and through `main` in this process (`cli`) otherwise, and asserts
the exit code, one stderr line that names the file (and the record, where there is one), no traceback,
the input files' bytes unchanged, and nothing left in the folder but what was there before (and, on
success, the output).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bioinstruct_tools import sources

from conftest import SAMPLE, cli, records, run_cli

pytestmark = pytest.mark.timeout(180)

CLEAN = records(4)
FORMATS = sources.FORMATS  # what an unreadable source's message lists


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below `folder` (hidden ones too) with a hash of its bytes."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            for path in sorted(folder.rglob("*")) if not path.is_symlink() and not path.is_fifo()}


def jsonl(rows) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


# Files that cannot be read as BioInstruct: (name, file text, what stderr must say). Exit 2 in validate.
UNREADABLE = [
    ("duplicate_key", '{"instruction": "List the drugs.", "instruction": "x", "input": "", "output": "y"}\n',
     "record 0, line 1: key 'instruction' appears twice"),
    ("nan", jsonl(CLEAN[:1]) + '{"instruction": "Rate the pain.", "input": "", "output": NaN}\n',
     "record 1, line 2: invalid JSON: NaN is not valid JSON"),
    ("infinity_in_array", '[\n' + json.dumps(CLEAN[0]) + ',\n{"instruction": "Rate it.", "input": "", "output": -Infinity}\n]',
     "record 1, line 3: invalid JSON: -Infinity is not valid JSON"),
    ("huge_integer", '{"instruction": "Count the drugs.", "input": "", "output": ' + "9" * 5000 + "}\n",
     "record 0, line 1: invalid JSON: a number of 5,000 digits"),
    ("deep_nesting", "[" * 100_000 + "]" * 100_000, "record 0, line 1: invalid JSON: nested too deeply"),
    ("empty_array", "[]\n", "holds no records"),
    ("empty_json_lines", "\n\n", "holds no records"),
    ("not_an_object", jsonl(CLEAN[:2]) + "[1, 2]\n", "record 2, line 3: expected a JSON object as the record, found array"),
    ("truncated_array", json.dumps(CLEAN, indent=2)[:-40], "invalid JSON"),
    ("data_after_array", json.dumps(CLEAN) + "\n{}", "invalid JSON: data after the closing ']'"),
    ("two_objects_on_a_line", json.dumps(CLEAN[0]) + " " + json.dumps(CLEAN[1]) + "\n",
     "record 0, line 1: invalid JSON at column"),
]


@pytest.mark.parametrize("name,text,message", UNREADABLE, ids=[case[0] for case in UNREADABLE])
@pytest.mark.parametrize("command", ["validate", "build"])
def test_unreadable_files_give_one_located_line(command, name, text, message, tmp_path):
    source = tmp_path / f"{name}.jsonl"
    source.write_text(text, encoding="utf-8")
    before = snapshot(tmp_path)
    args = ["validate", source.name] if command == "validate" else ["build", "--source", source.name, "--out", "out"]
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"{source.name}: " in line and message in line
    assert snapshot(tmp_path) == before


def test_lone_surrogates_are_a_located_schema_reason_in_validate_and_build(tmp_path):
    source = tmp_path / "surrogate.jsonl"
    source.write_text(jsonl(CLEAN[:2]) + '{"instruction": "Summarize \\ud800 it.", "input": "", "output": "x"}\n')
    before = snapshot(tmp_path)
    validated = cli("validate", source.name, "--json", "--rejects", "rejects.jsonl", cwd=tmp_path)
    assert validated.returncode == 1 and "Traceback" not in validated.stderr
    offenders = json.loads(validated.stdout)["checks"]["schema"]["offenders"]
    assert offenders == [{"reason": "invalid_unicode", "index": 2, "line": 3,
                          "detail": "field 'instruction' holds a lone surrogate U+D800, which UTF-8 cannot encode"}]
    [rejected] = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejected["record"]["instruction"] == "Summarize \ud800 it."  # the escape round-trips
    (tmp_path / "rejects.jsonl").unlink()
    built = cli("build", "--source", source.name, "--out", "out", cwd=tmp_path)
    assert built.returncode == 1 and "Traceback" not in built.stderr
    assert "record 2 (line 3): invalid_unicode" in built.stderr
    assert built.stderr.strip().splitlines()[-1].startswith(f"bioinstruct build: {source.name}: validation failed")
    assert snapshot(tmp_path) == before


def test_not_regular_files_are_refused_without_reading(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for path in ("/dev/zero", str(tmp_path / "fifo")):
        result = run_cli("validate", path, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.strip() == (
            f"bioinstruct validate: {path}: not a regular file or folder (a device or pipe); expected {FORMATS}")
    result = run_cli("validate", str(tmp_path), cwd=tmp_path)  # a folder is a source; this one holds no data file
    assert result.returncode == 2 and result.stderr.strip() == (
        f"bioinstruct validate: {tmp_path}: holds no JSON, JSON Lines, CSV or parquet file")


# Output paths that would destroy an input or cannot be written: (name, arguments, what stderr says).
def _outputs(tmp_path: Path) -> list:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "src.jsonl").write_text(jsonl(CLEAN))
    (tmp_path / "sub" / "unrelated.txt").write_text("keep me")
    os.symlink("sub/src.jsonl", tmp_path / "link.jsonl")
    return [
        (["validate", "sub/src.jsonl", "--rejects", "sub/src.jsonl"], 2, "is the input sub/src.jsonl"),
        (["validate", "sub/src.jsonl", "--rejects", "link.jsonl"], 2, "is the input sub/src.jsonl"),
        (["validate", "sub/src.jsonl", "--rejects", "sub/src.jsonl/r.jsonl"], 2, "its folder cannot be created"),
        (["validate", "sub/src.jsonl", "--rejects", "sub"], 2, "sub: not a regular file"),
        (["validate", "sub/src.jsonl", "--rejects", "/dev/full"], 2, "/dev/full: not a regular file"),
        (["build", "--source", "sub/src.jsonl", "--out", "sub", "--overwrite"], 2, "holds the input sub/src.jsonl"),
        (["build", "--source", "link.jsonl", "--out", "sub", "--overwrite"], 2, "holds the input"),
        (["build", "--source", "sub/src.jsonl", "--out", ".", "--overwrite"], 2, "holds the input"),
        (["build", "--source", str(SAMPLE), "--out", ".", "--overwrite"], 2, "is the current folder"),
        # the package's own folder: its parent might hold tmp_path too (a clone in /tmp), which is refused first
        (["build", "--source", "sub/src.jsonl", "--out", str(SAMPLE.parent.parent), "--overwrite"], 2,
         "is this package's folder or one of its parents"),
        (["build", "--source", "sub/src.jsonl", "--out", "sub/src.jsonl/inner"], 3, "cannot write here"),
        (["build", "--source", "sub/src.jsonl", "--out", "/sys/bioinstruct-out"], 3, "cannot write here"),
    ]


def test_outputs_never_overwrite_inputs_and_unwritable_ones_fail_in_one_line(tmp_path):
    for args, code, message in _outputs(tmp_path):
        before = snapshot(tmp_path)
        result = cli(*args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert "Traceback" not in result.stderr
        [line] = result.stderr.strip().splitlines()
        assert message in line, (args, line)
        assert snapshot(tmp_path) == before, args


def test_rejects_on_a_clean_file_says_zero_were_written(tmp_path):
    (tmp_path / "clean.jsonl").write_text(jsonl(CLEAN))
    result = cli("validate", "clean.jsonl", "--rejects", "r.jsonl", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "0 records written to r.jsonl"
    assert (tmp_path / "r.jsonl").read_text() == ""


def test_stdout_full_or_closed_fails_quietly(tmp_path):
    rows = [CLEAN[0]] * 3000  # thousands of duplicate offenders: a report far larger than a pipe's buffer
    (tmp_path / "dups.jsonl").write_text(jsonl(rows))
    with open("/dev/full", "w") as full:
        result = run_cli("validate", "dups.jsonl", "--json", cwd=tmp_path, stdout=full)
    assert result.returncode == 3
    assert result.stderr.strip() == ("bioinstruct validate: standard output: cannot be written "
                                     "(No space left on device)")
    process = subprocess.Popen([sys.executable, "-m", "bioinstruct_tools.cli", "validate", "dups.jsonl", "--json"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(10)
    process.stdout.close()  # `| head -c 10`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=150) == 1 and stderr == ""


def test_ctrl_c_while_the_command_loads_is_one_line(tmp_path):
    """The console entry point holds a Ctrl-C that lands while the CLI's libraries import (half a second)."""
    interrupt_the_import = (
        "import os, signal, sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'bioinstruct_tools.cli':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from bioinstruct_tools.console import console\n"
        "sys.exit(console())\n")
    result = subprocess.run([sys.executable, "-c", interrupt_the_import], cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (130, "bioinstruct: interrupted\n")


def test_push_with_the_hub_unreachable_plans_or_fails_in_one_line(tmp_path):
    (tmp_path / "clean.jsonl").write_text(jsonl(CLEAN))
    assert cli("build", "--source", "clean.jsonl", "--out", "out", cwd=tmp_path).returncode == 0
    # Network "down": nothing listens on this loopback port, and HF_HUB_OFFLINE is not set.
    down = {"HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "hf_NotARealTokenButShaped1"}
    dry = run_cli("push", "out", "--repo-id", "org/name", "--dry-run", cwd=tmp_path, env=down)
    assert dry.returncode == 0 and "Traceback" not in dry.stderr
    assert "delete: could not list the repo's files (no connection to the Hub" in dry.stdout
    pushed = run_cli("push", "out", "--repo-id", "org/name", cwd=tmp_path, env=down)
    assert pushed.returncode == 3 and "Traceback" not in pushed.stderr
    [line] = pushed.stderr.strip().splitlines()
    assert line.startswith("bioinstruct push: cannot read datasets/org/name @ main: no connection to the Hub")
    assert "hf_NotARealTokenButShaped1" not in dry.stdout + pushed.stderr


def test_truncated_parquet_in_a_push_folder_is_one_line(tmp_path):
    (tmp_path / "clean.jsonl").write_text(jsonl(CLEAN))
    assert cli("build", "--source", "clean.jsonl", "--out", "out", cwd=tmp_path).returncode == 0
    shard = tmp_path / "out" / "data" / "qa" / "train-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:100])
    result = cli("push", "out", "--repo-id", "org/name", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "train-00000-of-00001.parquet: not a readable parquet file" in line


@pytest.mark.parametrize("args,message", [
    (["push", "out", "--repo-id", "a/b/c"], "argument --repo-id"),
    (["push", "out", "--repo-id", "../x"], "argument --repo-id"),
    (["push", "out", "--repo-id", ""], "argument --repo-id"),
    *[(["validate", "f.jsonl", "--near-duplicate-threshold", value], "strictly between 0 and 1")
      for value in ("0", "1", "1.5", "-1", "nan", "inf")],
    (["validate", "f.jsonl", "--show", "-1"], "expected a number from 0"),
    (["validate", "f.jsonl", "--expect-rows", "-5"], "expected a number from 0"),
    (["validate", "f.jsonl", "--expect-rows", str(2**64)], "expected a number from 0"),
    (["contamination", "f.jsonl", "--against", "b.jsonl", "--ngram", "1"], "expected a number from 5"),
    (["contamination", "f.jsonl", "--against", "b.jsonl", "--ngram", str(2**63)], "expected a number from 5"),
])
def test_argument_ranges_are_checked_by_argparse(args, message, tmp_path):
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]


# ---------------------------------------------------------------------------------------------------
# Second pass: each case of the hardening issue, worst first, through the real command line
# ---------------------------------------------------------------------------------------------------


def one_line(result: subprocess.CompletedProcess, code: int, message: str) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert message in line, line
    return line


@pytest.fixture
def clean(tmp_path) -> Path:
    (tmp_path / "clean.jsonl").write_text(jsonl(CLEAN))
    return tmp_path


def built_folder(folder: Path) -> Path:
    assert cli("build", "--source", "clean.jsonl", "--out", "out", cwd=folder).returncode == 0
    return folder / "out"


def test_report_overwrite_replaces_only_a_folder_report_marked(clean):
    (clean / "mine").mkdir()
    (clean / "mine" / "report.json").write_text("{}")
    (clean / "mine" / "thesis.tex").write_text("precious")
    before = snapshot(clean)
    one_line(cli("report", "clean.jsonl", "--out", "mine", "--overwrite", cwd=clean), 2,
             "not a folder written by `bioinstruct report` (no .bioinstruct-report)")
    assert snapshot(clean) == before
    assert cli("report", "clean.jsonl", "--out", "rep", cwd=clean).returncode == 0
    assert (clean / "rep" / ".bioinstruct-report").is_file()
    assert cli("report", "clean.jsonl", "--out", "rep", "--overwrite", cwd=clean).returncode == 0


def test_a_folder_that_appears_during_the_run_is_never_replaced(clean, monkeypatch):
    from bioinstruct_tools import paths

    out = clean / "late"
    real_move = paths.move_into_place

    def someone_else_writes_first(staging, target, marker):
        target.mkdir()
        (target / "theirs.txt").write_text("theirs")
        return real_move(staging, target, marker)

    monkeypatch.setattr(paths, "move_into_place", someone_else_writes_first)
    from bioinstruct_tools.cli import main

    assert main(["report", str(clean / "clean.jsonl"), "--out", str(out)]) == 2
    assert (out / "theirs.txt").read_text() == "theirs" and sorted(p.name for p in out.iterdir()) == ["theirs.txt"]
    assert not [p for p in clean.iterdir() if p.name.startswith(".late.")]  # no staging left


@pytest.mark.parametrize("name", ["batch?.jsonl", "exp [v2].jsonl", "a::b.jsonl", "*.jsonl"])
def test_a_path_is_a_path_never_a_pattern_or_url(name, tmp_path):
    work = tmp_path / "w [x]?"  # the staging folder lies in here too: no part of any path may be a pattern
    work.mkdir()
    (work / name).write_text(jsonl(CLEAN[:2]))
    (work / "batch1.jsonl").write_text(jsonl(CLEAN))  # what a glob would also pick up
    (work / "exp v.jsonl").write_text(jsonl(CLEAN))
    result = cli("build", "--source", name, "--out", "out [1]", "--json", cwd=work)
    assert result.returncode == 0, result.stderr
    rows = {row["config"]: row["rows"] for row in json.loads(result.stdout)["configs"]}
    assert rows["default"] == 2 and sum(rows[c] for c in ("extraction", "generation", "qa", "other")) == 2


def test_a_benchmark_folder_with_brackets_is_read_by_its_name(clean):
    (clean / "bf[1]").mkdir()
    (clean / "bf[1]" / "test.jsonl").write_text(jsonl([{"question": CLEAN[0]["instruction"] + " and more words"}]))
    (clean / "bf1").mkdir()
    (clean / "bf1" / "test.jsonl").write_text(jsonl([{"question": "Nothing in common with any record here."}]))
    result = cli("contamination", "clean.jsonl", "--against", "bf[1]", "--ngram", "5", "--json", cwd=clean)
    assert result.returncode == 1, result.stderr
    assert list(json.loads(result.stdout)["benchmarks"]) == ["bf[1]"]


def test_push_checks_every_config_not_only_default(clean):
    out = built_folder(clean)
    import pyarrow.parquet as pq

    shard = out / "data" / "categorized" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard)
    pq.write_table(table.set_column(0, "instruction", pa_strings(["dup"] * table.num_rows)), shard)
    one_line(cli("push", "out", "--repo-id", "org/name", "--dry-run", cwd=clean), 2,
             "its rows are not the 'default' rows")


def pa_strings(values):
    import pyarrow as pa

    return pa.array(values, type=pa.string())


@pytest.mark.parametrize("name,text", [("header.csv", "question,answer\n"), ("empty.csv", ""),
                                       ("empty.jsonl", "\n"), ("empty.parquet", None)])
def test_an_empty_benchmark_holds_no_items(name, text, clean):
    if text is None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"question": pa.array([], type=pa.string())}), clean / name)
    else:
        (clean / name).write_text(text)
    one_line(cli("contamination", "clean.jsonl", "--against", name, cwd=clean), 2, "holds no items")


def test_a_csv_naming_a_column_twice_is_refused(clean):
    (clean / "twice.csv").write_text("question,question\na,b\n")
    one_line(cli("contamination", "clean.jsonl", "--against", "twice.csv", cwd=clean), 2,
             "names the column 'question' twice")


def test_push_uploads_only_the_layout_and_refuses_links_out(clean):
    out = built_folder(clean)
    (out / "secrets.txt").write_text("s3cr3t")
    (out / "notes").mkdir()
    (out / "notes" / "exploit.py").write_text("print('x')")
    os.symlink("/etc/passwd", out / "passwd_link.txt")
    result = cli("push", "out", "--repo-id", "org/name", "--dry-run", "--json", cwd=clean)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    added = [entry["path"] for entry in plan["add"]]
    assert "secrets.txt" not in added and all(not path.startswith("notes") for path in added)
    assert sorted(plan["not_uploaded"]) == ["notes/exploit.py", "passwd_link.txt", "secrets.txt"]
    shard = out / "data" / "qa" / "train-00000-of-00001.parquet"
    shard.unlink()
    os.symlink("/etc/passwd", shard)
    one_line(cli("push", "out", "--repo-id", "org/name", "--dry-run", cwd=clean), 2, "outside the folder")


def test_a_benchmark_folder_with_a_script_is_refused_and_never_prompts(clean):
    (clean / "bench").mkdir()
    (clean / "bench" / "bench.py").write_text("open('ran', 'w').write('ran')\n")
    (clean / "bench" / "test.jsonl").write_text(jsonl([{"question": "What is sepsis?"}]))
    result = run_cli("contamination", "clean.jsonl", "--against", "bench", cwd=clean,
                     env={"HF_DATASETS_TRUST_REMOTE_CODE": "1"})
    one_line(result, 2, "holds the script bench.py; its code is never run")
    assert not (clean / "ran").exists() and result.stdout == ""


def test_file_names_reach_markdown_escaped(tmp_path):
    name = "x`<b>bold</b>.jsonl".replace("/", "") + "<script>alert(1)<\\script>\n# heading.jsonl"
    (tmp_path / name).write_text(jsonl(CLEAN))
    assert cli("build", "--source", name, "--out", "out", cwd=tmp_path).returncode == 0
    assert cli("report", name, "--out", "rep", cwd=tmp_path).returncode == 0
    for text in ((tmp_path / "out" / "README.md").read_text(), (tmp_path / "rep" / "report.md").read_text()):
        assert "<script>" not in text and "\n# heading" not in text


def test_pipes_named_like_data_are_refused_before_opening(clean):
    os.mkfifo(clean / "bench.parquet")
    os.mkfifo(clean / "bench.csv")
    for name in ("bench.parquet", "bench.csv"):
        one_line(run_cli("contamination", "clean.jsonl", "--against", name, cwd=clean), 2, "not a regular file")
    out = built_folder(clean)
    shard = out / "data" / "qa" / "train-00000-of-00001.parquet"
    shard.unlink()
    os.mkfifo(shard)
    one_line(run_cli("push", "out", "--repo-id", "org/name", "--dry-run", cwd=clean), 2, "not a regular file")
    one_line(run_cli("report", "out", "--out", "rep", cwd=clean), 2, "not a regular file")


def test_a_symlink_loop_as_output_or_input_is_one_line(clean):
    os.symlink("loop", clean / "loop")
    one_line(cli("validate", "clean.jsonl", "--rejects", "loop", cwd=clean), 2, "loop")
    one_line(cli("build", "--source", "clean.jsonl", "--out", "loop", cwd=clean), 2, "loop")
    one_line(cli("report", "clean.jsonl", "--out", "loop/inner", cwd=clean), 2, "loop")
    one_line(cli("validate", "loop", cwd=clean), 2, "loop: cannot be read")


def test_non_utf8_and_non_ascii_names_under_the_c_locale(tmp_path):
    name = os.fsdecode(b"caf\xe9-\xff.jsonl")
    (tmp_path / name).write_text(jsonl(CLEAN))
    result = run_cli("validate", name, cwd=tmp_path, env={"LC_ALL": "C", "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and "Traceback" not in result.stderr and "result: PASS" in result.stdout
    one_line(run_cli("validate", "missing-\u00e9.jsonl", cwd=tmp_path, env={"LC_ALL": "C"}), 2, "no such file")


def test_a_hand_edited_card_or_bad_parquet_is_one_line(clean):
    out = built_folder(clean)
    card = (out / "README.md").read_text()
    (out / "README.md").write_text(card.replace("  splits:\n", "  splits: {train: 1}\n  oldsplits:\n", 1))
    one_line(cli("push", "out", "--repo-id", "org/name", "--dry-run", cwd=clean), 2, "README.md: not a card")
    (out / "README.md").write_text(card.replace("num_examples: ", "num_examples: one", 1))
    one_line(cli("report", "out", "--out", "rep", cwd=clean), 2, "README.md: not a card")


def test_a_saved_benchmark_with_an_image_column_reads_its_text_only(clean):
    import datasets

    features = datasets.Features({"question": datasets.Value("string"), "image": datasets.Image()})
    question = f"Please answer this: {CLEAN[2]['instruction']}"  # 8 words: long enough to count whole
    saved = datasets.Dataset.from_dict({"question": [question], "image": [None]}, features=features)
    saved.save_to_disk(str(clean / "saved"))
    result = cli("contamination", "clean.jsonl", "--against", "saved", "--json", cwd=clean)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert json.loads(result.stdout)["benchmarks"]["saved"]["records"] == 1


def test_staging_a_killed_report_left_is_removed_and_folders_follow_the_umask(clean):
    (clean / ".rep.staging-abc").mkdir()
    result = subprocess.run(["sh", "-c", f"umask 022 && {sys.executable} -m bioinstruct_tools.cli report clean.jsonl "
                                         "--out rep"], cwd=clean, capture_output=True, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in clean.iterdir() if p.name.startswith(".rep")) == []
    assert oct((clean / "rep").stat().st_mode & 0o777) == "0o755"


def test_a_refused_output_exits_2_before_validation(clean):
    (clean / "taken").mkdir()
    (clean / "taken" / "x.txt").write_text("x")
    line = one_line(cli("build", "--source", "clean.jsonl", "--out", "taken", cwd=clean), 2, "already exists")
    assert "validat" not in line


def test_a_report_inside_its_input_folder_is_refused(clean):
    built_folder(clean)
    one_line(cli("report", "out", "--out", "out/report", cwd=clean), 2, "lies inside the input folder out")


def test_categorize_csv_is_spreadsheet_safe_and_says_what_it_ignores(tmp_path):
    rows = [dict(CLEAN[0], instruction="=HYPERLINK(\"http://x\") list the drugs, caf\u00e9.")]
    (tmp_path / "f.jsonl").write_text(jsonl(rows))
    result = run_cli("categorize", "--file", "f.jsonl", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and "'=HYPERLINK" in result.stdout and "caf\u00e9" in result.stdout
    one_line(run_cli("categorize", "--file", "f.jsonl", "--input", "x", cwd=tmp_path), 2, "--input goes with TEXT")
    (tmp_path / "bad.jsonl").write_text(jsonl(rows) + "{broken\n")
    broken = run_cli("categorize", "--file", "bad.jsonl", cwd=tmp_path)
    assert broken.returncode == 2 and broken.stdout == ""


def test_split_for_a_file_and_a_benchmark_named_twice_are_refused(clean):
    (clean / "b.jsonl").write_text(jsonl([{"question": "What is sepsis?"}]))
    one_line(cli("contamination", "clean.jsonl", "--against", "b.jsonl", "--split", "test", cwd=clean), 2,
             "a file has no splits")
    one_line(cli("contamination", "clean.jsonl", "--against", "b.jsonl", "--against", "./b.jsonl", cwd=clean), 2,
             "named twice")


def test_against_is_repeatable_and_never_takes_the_file(clean):
    (clean / "b.jsonl").write_text(jsonl([{"question": "What is sepsis?"}]))
    result = cli("validate", "--against", "b.jsonl", "clean.jsonl", cwd=clean)
    assert result.returncode == 0 and "clean.jsonl: 4 records" in result.stdout


def test_sigterm_during_a_compiled_scan_stops_within_a_second(tmp_path):
    """A chunk of the near-duplicate kernel can run for many seconds on a worker thread (nogil); SIGTERM must
    not wait for it, neither in the thread pool's shutdown nor in the interpreter's exit. The chunk here is
    made to take 30 s with a sleep, which, like the kernel, holds no GIL."""
    import signal
    import time

    (tmp_path / "clean.jsonl").write_text(jsonl(CLEAN))
    slow_chunk = ("import sys, time, bioinstruct_tools.console, bioinstruct_tools.neardup as neardup\n"
                  "import bioinstruct_tools.neardup_compiled as compiled\n"
                  "neardup._COMPILED_FROM = 0  # the compiled search, even for this small file\n"
                  "real = compiled._search_chunk\n"
                  "def slow(*args):\n"
                  "    print('scanning', file=sys.stderr, flush=True)\n"
                  "    time.sleep(30)\n"
                  "    return real(*args)\n"
                  "compiled._search_chunk = slow\n"
                  "sys.exit(bioinstruct_tools.console.console())\n")
    process = subprocess.Popen([sys.executable, "-c", slow_chunk, "validate", "clean.jsonl", "--rejects", "r.jsonl"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr.readline().strip() == "scanning"
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 1.5
    assert process.returncode == 143 and stderr.strip().splitlines()[-1] == "bioinstruct validate: terminated"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clean.jsonl"]  # no partial rejects file


def test_a_huge_benchmark_item_is_a_located_error_and_small_n_grams_are_refused(clean):
    from bioinstruct_tools.benchmarks import MAX_ITEM_CHARACTERS

    huge = "w " * (MAX_ITEM_CHARACTERS // 2 + 10)
    (clean / "huge.jsonl").write_text(jsonl([{"question": "What is sepsis?"}, {"question": huge}]))
    one_line(cli("contamination", "clean.jsonl", "--against", "huge.jsonl", cwd=clean), 2,
             f"huge.jsonl: record 1, line 2: a record longer than {MAX_ITEM_CHARACTERS:,} characters")
    small = cli("contamination", "clean.jsonl", "--against", "huge.jsonl", "--ngram", "2", cwd=clean)
    assert small.returncode == 2 and "expected a number from 5" in small.stderr.strip().splitlines()[-1]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root for a private mount namespace")
def test_no_writable_temporary_folder_is_said_as_such(clean):
    """Every temporary folder read-only (/tmp, /var/tmp and the working folder remounted read-only, in a mount
    namespace of the test's own), the output in a writable folder: `build` says so in one line, exit 3, and blames
    no output."""
    writable = Path("/dev/shm")
    if not os.access(writable, os.W_OK):
        pytest.skip("no writable folder outside the temporary ones")
    out = writable / f"bioinstruct-test-{os.getpid()}-out"
    read_only = " && ".join(f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder}"
                            for folder in ("/tmp", "/var/tmp", clean))
    script = (f"{read_only} && cd {clean} && "
              f"exec {sys.executable} -m bioinstruct_tools.cli build --source clean.jsonl --out {out}")
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            capture_output=True, text=True, timeout=150,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "TMPDIR": str(clean)})
    if "mount:" in result.stderr:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    line = one_line(result, 3, "no writable temporary folder (set TMPDIR to one)")
    assert "standard output" not in line and not out.exists() and not list(writable.glob(f"{out.name}*"))


# ---------------------------------------------------------------------------------------------------
# Hardening, third pass: nothing overwritten, every record carried whole, no hang, errors that say where
# ---------------------------------------------------------------------------------------------------

PACKAGE = Path(sources.__file__).resolve().parent


def test_clean_replaces_no_existing_file_without_overwrite(clean):
    (clean / "mine.jsonl").write_text("my work\n")
    before = snapshot(clean)
    one_line(cli("clean", "clean.jsonl", "--out", "mine.jsonl", cwd=clean), 2,
             "mine.jsonl: already exists (use --overwrite to replace it)")
    (clean / "k.excluded.jsonl").write_text("my other work\n")
    before = snapshot(clean)
    one_line(cli("clean", "clean.jsonl", "--out", "k.jsonl", cwd=clean), 2,
             "k.excluded.jsonl: already exists")  # the derived name is protected as much as the given one
    assert snapshot(clean) == before
    assert cli("clean", "clean.jsonl", "--out", "mine.jsonl", "--overwrite", cwd=clean).returncode == 0
    assert (clean / "mine.jsonl").read_text().count("\n") == len(CLEAN)


@pytest.mark.parametrize("command", [
    ["clean", "clean.jsonl", "--out", "{p}/resources/category_model.json"],
    ["clean", "clean.jsonl", "--out", "x.jsonl", "--excluded", "{p}/resources/new.jsonl"],
    ["validate", "clean.jsonl", "--rejects", "{p}/resources/copy_card.md", "--overwrite"],
    ["validate", "clean.jsonl", "--pairs", "{p}/pairs.jsonl"],
    ["report", "clean.jsonl", "--out", "{p}/resources/report"],
])
def test_no_output_lands_inside_the_installed_package(clean, command):
    before = {path: path.read_bytes() for path in PACKAGE.rglob("*") if path.is_file() and "__pycache__" not in str(path)}
    args = [part.format(p=PACKAGE) for part in command]
    one_line(cli(*args, cwd=clean), 2, "lies inside the bioinstruct package")
    after = {path: path.read_bytes() for path in PACKAGE.rglob("*") if path.is_file() and "__pycache__" not in str(path)}
    assert after == before


def test_build_overwrite_names_and_keeps_files_the_build_did_not_write(clean):
    out = built_folder(clean)
    (out / "NOTES.md").write_text("precious")
    (out / "work").mkdir()
    (out / "work" / "draft.txt").write_text("precious too")
    before = snapshot(clean)
    line = one_line(cli("build", "--source", "clean.jsonl", "--out", "out", "--overwrite", cwd=clean), 2,
                    "holds files `bioinstruct build` did not write")
    assert "NOTES.md" in line and "work/draft.txt" in line
    assert snapshot(clean) == before


def test_a_field_map_that_would_drop_a_field_or_names_a_missing_one_is_refused(clean):
    rows = [{"q": "List the drugs in the note.", "a": "aspirin", "input": "Note: aspirin."}]
    (clean / "qa.jsonl").write_text(jsonl(rows))
    line = one_line(cli("clean", "qa.jsonl", "--out", "c.jsonl", "--field-map", "instruction=q,output=a,input=",
                            cwd=clean), 2, "record 0 has its own 'input' field, which this map would drop")
    assert "'q', 'a', 'input'" in line
    line = one_line(cli("validate", "qa.jsonl", "--field-map", "instruction=nonexistent,output=a", cwd=clean), 2,
                    "--field-map instruction=nonexistent: record 0 has no field 'nonexistent'")
    assert "'q', 'a', 'input'" in line
    assert not (clean / "c.jsonl").exists()


def test_clean_keeps_the_ids_of_a_keyed_object(clean):
    keyed = {f"pmid{i}": row for i, row in enumerate(CLEAN)}
    keyed["pmid9"] = dict(CLEAN[0])  # a duplicate: excluded, with its id
    (clean / "keyed.json").write_text(json.dumps(keyed))
    assert cli("clean", "keyed.json", "--out", "c.jsonl", cwd=clean).returncode == 0
    assert [r.id for r in sources.read_source(str(clean / "c.jsonl"))] == [f"pmid{i}" for i in range(len(CLEAN))]
    assert [json.loads(line)["id"] for line in (clean / "c.excluded.jsonl").read_text().splitlines()] == ["pmid9"]


@pytest.mark.parametrize("text, message", [
    ("instruction,input,output\nList the drugs.,,aspirin,EXTRA\n", "line 2: a row of 4 cells under a header of 3"),
    ('instruction,input,output\n"List the drugs.,,aspirin\n', "cannot be read as CSV"),
    ("\ninstruction,input,output\nList the drugs.,,aspirin\n", "line 1: the first line is empty"),
    ("instruction,input,output\nList the drugs.\n", "line 2: a row of 1 cells under a header of 3"),
], ids=["extra_cell", "unterminated_quote", "empty_header", "one_cell_row"])
def test_malformed_csv_is_unreadable_input(clean, text, message):
    (clean / "bad.csv").write_text(text)
    one_line(cli("clean", "bad.csv", "--out", "c.jsonl", cwd=clean), 2, message)
    assert not (clean / "c.jsonl").exists()


def test_every_instruction_keeps_a_representative_when_its_first_record_leaks(clean):
    leak, repeat, near = dict(CLEAN[0]), dict(CLEAN[0], output="another answer"), dict(CLEAN[0])
    near["instruction"] = CLEAN[0]["instruction"].replace("the note", "this note")
    leak["output"] = "The patient takes aspirin daily for the prevention of a second myocardial infarction."
    (clean / "raw.jsonl").write_text(jsonl([leak, repeat, near, CLEAN[1]]))
    (clean / "bench.jsonl").write_text(jsonl([{"question": leak["output"]}]))
    assert cli("clean", "raw.jsonl", "--out", "c.jsonl", "--against", "bench.jsonl", cwd=clean).returncode == 0
    kept = [json.loads(line) for line in (clean / "c.jsonl").read_text().splitlines()]
    excluded = {row["index"]: row["reasons"] for row in map(json.loads, (clean / "c.excluded.jsonl").read_text().splitlines())}
    assert kept == [repeat, CLEAN[1]]  # the repeat now represents the instruction
    assert [r["reason"] for r in excluded[0]] == ["benchmark_overlap"]
    assert {r.get("kept_partner") for r in excluded[2]} == {1}  # a record that was kept


def test_clean_of_all_similar_records_keeps_one_and_compares_with_kept_records_only(clean, monkeypatch):
    """Self-Instruct's greedy filter needs only the comparisons against kept records: the full pair scan,
    N^2/2 pairs here, must not run at all."""
    import bioinstruct_tools.checks as checks_module

    def no_pair_scan(*args, **kwargs):
        raise AssertionError("clean counted every pair")

    monkeypatch.setattr(checks_module, "scan_near_duplicates", no_pair_scan)
    rows = [{"instruction": f"Do task {i} now", "input": "", "output": "done"} for i in range(3_000)]
    (clean / "similar.jsonl").write_text(jsonl(rows))
    result = cli("clean", "similar.jsonl", "--out", "c.jsonl", "--json", cwd=clean)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reasons"] == {"near_duplicate": 2_999}
    assert [json.loads(line) for line in (clean / "c.jsonl").read_text().splitlines()] == rows[:1]
    partners = {r["kept_partner"] for line in (clean / "c.excluded.jsonl").read_text().splitlines()
                for r in json.loads(line)["reasons"]}
    assert partners == {0}


def test_clean_replaces_no_symlink(clean):
    (clean / "target.jsonl").write_text("keep me\n")
    os.symlink("target.jsonl", clean / "link.jsonl")
    one_line(cli("clean", "clean.jsonl", "--out", "link.jsonl", "--overwrite", cwd=clean), 2,
             "link.jsonl: is a symbolic link")
    assert (clean / "link.jsonl").is_symlink() and (clean / "target.jsonl").read_text() == "keep me\n"


def test_values_json_cannot_hold_are_refused_or_written_as_json_that_validates(clean):
    (clean / "big.jsonl").write_text('{"instruction": "Count the drugs here.", "input": "", "output": "2", '
                                     '"score": 1e400}\n')
    one_line(cli("clean", "big.jsonl", "--out", "c.jsonl", cwd=clean), 2, "record 0, line 1: invalid JSON: the "
                                                                                "number 1e400 is too large for a float")
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"instruction": [CLEAN[0]["instruction"], CLEAN[1]["instruction"]], "input": ["", ""],
                      "output": ["a", "b"], "score": [float("nan"), float("inf")],
                      "when": [datetime.datetime(2024, 6, 6, 12), datetime.datetime(2024, 6, 7)],
                      "blob": [b"\x00\xff", b""], "price": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(5, 2))})
    pq.write_table(table, clean / "odd.parquet")
    assert cli("clean", "odd.parquet", "--out", "c.jsonl", cwd=clean).returncode == 0
    first = json.loads((clean / "c.jsonl").read_text().splitlines()[0])
    assert (first["score"], first["when"], first["blob"], first["price"]) == ("NaN", "2024-06-06T12:00:00", "AP8=", "1.10")
    assert cli("validate", "c.jsonl", cwd=clean).returncode == 0
    assert cli("validate", "odd.parquet", "--rejects", "r.jsonl", cwd=clean).returncode == 0
    assert cli("categorize", "--file", "odd.parquet", "--json", cwd=clean).returncode == 0


@pytest.mark.parametrize("blank", ["\u200b", "\u2800\u2800", "\u3164", "\u202e", "\ufeff", " \u200b\u00a0"])
def test_a_field_of_invisible_characters_is_blank(clean, blank):
    (clean / "blank.jsonl").write_text(jsonl([dict(CLEAN[0], instruction=blank), dict(CLEAN[1], output=blank)]))
    result = cli("validate", "blank.jsonl", cwd=clean)
    assert result.returncode == 1
    assert "record 0 (line 1): blank_instruction" in result.stdout and "record 1 (line 2): blank_output" in result.stdout


def test_a_meta_file_with_a_key_twice_a_pipe_or_50_mb_is_refused(clean):
    (clean / "twice.yaml").write_text("summary: first\nsummary: second\n")
    one_line(run_cli("build", "--source", "clean.jsonl", "--out", "o", "--card-meta", "twice.yaml", cwd=clean), 2,
             "twice.yaml: not a readable YAML file (the key 'summary' appears twice")
    os.mkfifo(clean / "fifo.yaml")
    one_line(run_cli("build", "--source", "clean.jsonl", "--out", "o", "--card-meta", "fifo.yaml", cwd=clean,
                     timeout=60), 2, "fifo.yaml: not a regular file")
    (clean / "huge.yaml").write_text("summary: " + "x" * (2 << 20) + "\n")
    one_line(run_cli("build", "--source", "clean.jsonl", "--out", "o", "--card-meta", "huge.yaml", cwd=clean), 2,
             "a META file holds at most 1,048,576")
    assert not (clean / "o").exists()


def test_a_meta_file_without_a_license_says_so(clean):
    (clean / "meta.yaml").write_text("summary: Patient questions.\n")
    assert cli("build", "--source", "clean.jsonl", "--out", "o", "--card-meta", "meta.yaml", cwd=clean).returncode == 0
    card = (clean / "o" / "README.md").read_text()
    assert "the license is not stated in the build's `--card-meta` file" in card
    assert "the build had no `--card-meta` file" not in card


def test_categorize_csv_quotes_line_breaks_and_prefixes_formulas_after_them(tmp_path, capsys):
    import csv
    import io

    from bioinstruct_tools.cli import main

    rows = [dict(CLEAN[0], instruction="List the drugs.\r@SUM(1+1)*cmd|' /C calc'!A0")]
    (tmp_path / "f.jsonl").write_text(jsonl(rows))
    assert main(["categorize", "--file", str(tmp_path / "f.jsonl")]) == 0
    out = capsys.readouterr().out
    [header, row] = list(csv.reader(io.StringIO(out, newline="")))
    assert row[header.index("instruction")] == "List the drugs.\r'@SUM(1+1)*cmd|' /C calc'!A0"
    assert out.count("\r\n") == 2 and '"List the drugs.\r' in out  # quoted: two rows, whatever CRs the cells hold


def test_a_pipe_inside_a_saved_folder_never_blocks(tmp_path):
    import datasets

    datasets.Dataset.from_list(CLEAN).save_to_disk(str(tmp_path / "saved"))
    shard = next((tmp_path / "saved").glob("*.arrow"))
    shard.unlink()
    os.mkfifo(shard)
    for command in (["validate", "saved"], ["clean", "saved", "--out", "c.jsonl"],
                    ["contamination", "clean.jsonl", "--against", "saved"]):
        (tmp_path / "clean.jsonl").write_text(jsonl(CLEAN))
        one_line(run_cli(*command, cwd=tmp_path, timeout=60), 2, "not a regular file")


def test_a_saved_folder_cannot_point_outside_itself(tmp_path):
    import datasets

    datasets.DatasetDict({"train": datasets.Dataset.from_list(CLEAN)}).save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "saved" / "dataset_dict.json").write_text('{"splits": ["../elsewhere"]}')
    one_line(cli("validate", "saved", cwd=tmp_path), 2, "not a list of plain names")


def test_a_csv_header_of_100000_columns_is_read_in_linear_time(tmp_path):
    header = ["instruction", "input", "output"] + [f"c{i}" for i in range(100_000)]
    (tmp_path / "wide.csv").write_text(",".join(header) + "\n" + ",".join(["List the drugs in it.", "", "x"]
                                                                          + [""] * 100_000) + "\n")
    result = run_cli("validate", "wide.csv", cwd=tmp_path, timeout=60)  # took 330 s with a quadratic check
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("args, message", [
    (["validate", "clean.jsonl", "--show", "1000000000"], "expected a number from 0 to 10,000"),
    (["clean", "clean.jsonl", "--out", "newdir/"], "newdir/: names a folder"),
    (["clean", "clean.jsonl", "--out", "x" * 300 + ".jsonl"], "a name of 306 bytes"),
])
def test_refused_arguments_and_paths_exit_2_and_create_nothing(clean, args, message):
    before = snapshot(clean)
    result = cli(*args, cwd=clean)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert snapshot(clean) == before


def test_a_write_error_names_the_file_not_standard_output(tmp_path):
    from bioinstruct_tools import paths

    with pytest.raises(paths.OutputUnavailable, match="out.jsonl: cannot be written"):
        with paths.atomic_file(tmp_path / "out.jsonl") as f:
            f._file = open("/dev/full", "w")  # the next write fails as a full disk does
            f.write("x" * 100_000)
            f._file.flush()
    assert list(tmp_path.iterdir()) == []


def test_a_signal_after_the_work_still_prints_one_line(tmp_path):
    late = ("import os, signal, sys\n"
            "import bioinstruct_tools.cli as cli\n"
            "from bioinstruct_tools.console import console\n"
            "cli.main = lambda argv=None: (os.kill(os.getpid(), signal.SIGTERM), 0)[1]\n"
            "sys.exit(console())\n")
    result = subprocess.run([sys.executable, "-c", late], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (143, "bioinstruct: terminated (after the command had finished its "
                                                       "work)\n")


@pytest.mark.parametrize("code, threads", [(0, "none"), (1, "none"), (2, "none"), (0, "thread"), (0, "pool")])
def test_the_console_ends_without_teardown_yet_keeps_what_an_exit_owes(tmp_path, code, threads):
    """The process ends before the interpreter frees everything, but as a normal exit would end it: its code, all
    of a large output, `atexit` handlers (temporary folders are removed by one); and, while a thread that is not a
    daemon still works or a thread pool was left open, by Python's own exit, which waits for the one and stops
    the other."""
    script = ("import atexit, concurrent.futures, sys, threading, time, tempfile\n"
              "import bioinstruct_tools.cli as cli\n"
              "from bioinstruct_tools.console import console\n"
              "kept = tempfile.TemporaryDirectory(dir='.')\n"
              "def work(argv=None):\n"
              "    sys.stdout.write('x' * 1_000_000 + '\\n')  # more than any pipe buffer holds\n"
              "    atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
              "    if sys.argv[1] == 'thread':\n"
              "        threading.Thread(target=lambda: (time.sleep(0.5), open('thread.txt', 'w').write('done'))).start()\n"
              "    elif sys.argv[1] == 'pool':  # its idle worker waits until Python's shutdown tells it to stop\n"
              "        concurrent.futures.ThreadPoolExecutor(1).submit(lambda: open('thread.txt', 'w').write('done'))\n"
              "    else:\n"
              "        open('thread.txt', 'w').write('done')\n"
              f"    return {code}\n"
              "cli.main = work\n"
              "sys.exit(console())\n")
    result = subprocess.run([sys.executable, "-c", script, threads], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (code, "x" * 1_000_000 + "\n", "atexit ran\n")
    assert (tmp_path / "thread.txt").read_text() == "done"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["thread.txt"]


def test_locks_live_beside_the_output_whatever_tmpdir_and_are_removed(clean, tmp_path_factory):
    from bioinstruct_tools import paths

    with paths.output_lock(clean / "out", "bioinstruct build"):
        other_tmp = tmp_path_factory.mktemp("other-tmp")
        one_line(run_cli("build", "--source", "clean.jsonl", "--out", "out", cwd=clean, env={"TMPDIR": str(other_tmp)}),
                 3, "another `bioinstruct build` is writing it")
    with paths.output_lock(clean / "c.jsonl", "bioinstruct clean"):
        one_line(run_cli("clean", "clean.jsonl", "--out", "c.jsonl", cwd=clean), 3, "another `bioinstruct clean`")
    assert run_cli("build", "--source", "clean.jsonl", "--out", "out", cwd=clean).returncode == 0
    assert run_cli("clean", "clean.jsonl", "--out", "c.jsonl", cwd=clean).returncode == 0
    assert not [path for path in clean.iterdir() if path.name.endswith(".bioinstruct-lock")]


def test_cjk_instructions_draw_without_matplotlib_warnings(tmp_path):
    rows = [{"instruction": "列出患者的药物名称和剂量。", "input": "患者服用阿司匹林。", "output": "阿司匹林"},
            {"instruction": "요약하십시오 환자 기록을 간단히.", "input": "", "output": "요약"}, CLEAN[0]]
    (tmp_path / "cjk.jsonl").write_text(jsonl(rows))
    result = run_cli("report", "cjk.jsonl", "--out", "r", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_kernel_cache_folder_someone_else_made_is_never_used(tmp_path, monkeypatch):
    from bioinstruct_tools import compiled

    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    mine = compiled.private_cache_folder()
    assert mine == str(tmp_path / f"bioinstruct-numba-{os.getuid()}") and (os.stat(mine).st_mode & 0o777) == 0o700
    os.chmod(mine, 0o777)  # others could plant compiled code in it
    assert compiled.private_cache_folder() is None
    os.rmdir(mine)
    os.symlink(tmp_path, mine)  # a link someone left in its place
    assert compiled.private_cache_folder() is None


def test_a_read_only_folder_is_exit_3_whether_the_output_exists_or_not(clean):
    """A read-only file system (a folder remounted read-only in a mount namespace of the test's own)."""
    (clean / "ro" / "exists").mkdir(parents=True)
    commands = [["build", "--source", "clean.jsonl", "--out", "ro/new"],
                ["build", "--source", "clean.jsonl", "--out", "ro/exists/new"],
                ["clean", "clean.jsonl", "--out", "ro/c.jsonl"],
                ["clean", "clean.jsonl", "--out", "ro/exists/c.jsonl"]]
    runs = " ; ".join(f"{sys.executable} -m bioinstruct_tools.cli {' '.join(command)} ; echo \"exit $?\""
                      for command in commands)
    script = f"mount --bind {clean}/ro {clean}/ro && mount -o remount,ro,bind {clean}/ro && cd {clean} && {{ {runs} ; }}"
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if "mount:" in result.stderr:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    assert result.stdout.split() == ["exit", "3"] * 4, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4 and all("Read-only file system" in line and "Traceback" not in line for line in lines), lines
    assert sorted(path.name for path in (clean / "ro").rglob("*")) == ["exists"]
