"""The hostile inputs of the third hardening pass, end to end: how long each command takes and how much memory.

    python bench/hostile_inputs.py
    python bench/hostile_inputs.py --similar 20000,80000      # the all-similar cases at other sizes
    python bench/hostile_inputs.py --huge-mb 200              # one record of 200 MB

Each case runs `bioinstruct` in a child process and prints its wall time, peak RSS and exit code:
- a CSV whose header has 100,000 columns (`validate`): read in one pass over the header;
- a META file of 50 MB (`build --card-meta`): refused by its size before it is parsed;
- `clean` of records that are all near-duplicates of each other (`Do task {i} now`): Self-Instruct's greedy
  filter compares each record with the kept ones only, so time and memory grow with the records, not the pairs;
- `validate` of the same records, which counts every pair (N^2/2): time grows with the pairs, memory stays flat;
- `validate`, `clean` and `build` of a file holding one huge record (`--huge-mb`, default 200 MB), beside what
  `datasets` alone takes to read that file as JSON and write it as parquet.
"""

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

COMMAND = [sys.executable, "-m", "bioinstruct_tools.cli"]


def report(name: str, args: list) -> None:
    seconds, peak_mb, code, stderr = run_measured(COMMAND + [str(arg) for arg in args])
    said = stderr.strip().splitlines()[-1][:110] if stderr.strip() else ""
    print(f"{name:<44} {seconds:>8.2f} s {peak_mb:>8,.0f} MB  exit {code}  {said}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--similar", default="20000,80000", help="sizes of the all-similar clean case, comma-separated")
    parser.add_argument("--similar-validate", default="5000,20000",
                        help="sizes of the all-similar validate case (N^2/2 pairs each), comma-separated")
    parser.add_argument("--huge-mb", type=int, default=200, help="size of the one-record file in MB (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        wide = folder / "wide.csv"
        header = ["instruction", "input", "output"] + [f"c{i}" for i in range(100_000)]
        wide.write_text(",".join(header) + "\n" + ",".join(["List the drugs in it.", "", "x"] + [""] * 100_000) + "\n")
        report("validate, CSV header of 100,000 columns", ["validate", wide])
        source = folder / "small.jsonl"
        source.write_text(json.dumps({"instruction": "List the drugs in the note.", "input": "", "output": "x"}) + "\n")
        meta = folder / "meta.yaml"
        meta.write_text("summary: " + "x" * 50_000_000 + "\n")
        report("build --card-meta, a 50 MB META file", ["build", "--source", source, "--out", folder / "o",
                                                          "--card-meta", meta])
        for size in sorted(set(sizes(args.similar) + sizes(args.similar_validate))):
            write_similar(folder / f"similar-{size}.jsonl", size)
        for size in sizes(args.similar):
            report(f"clean, {size:,} all-similar records", ["clean", folder / f"similar-{size}.jsonl",
                                                             "--out", folder / f"c{size}.jsonl"])
        for size in sizes(args.similar_validate):
            report(f"validate, {size:,} all-similar records", ["validate", folder / f"similar-{size}.jsonl"])
        if args.huge_mb:
            huge = folder / "huge.jsonl"
            write_huge_record(huge, args.huge_mb * 1_000_000)
            report(f"validate, one record of {args.huge_mb} MB", ["validate", huge])
            report(f"clean, one record of {args.huge_mb} MB", ["clean", huge, "--out", folder / "huge-clean.jsonl"])
            report(f"build, one record of {args.huge_mb} MB", ["build", "--source", huge, "--out", folder / "huge-built"])
            # The floor `datasets` itself sets: reading the same file and writing it as one parquet file.
            seconds, peak_mb, code, _ = run_measured([sys.executable, "-c", DATASETS_ALONE.format(
                source=str(huge), cache=str(folder / "hf-cache"), out=str(folder / "plain.parquet"))])
            print(f"{'datasets alone: json -> parquet, same file':<44} {seconds:>8.2f} s {peak_mb:>8,.0f} MB  exit {code}")


DATASETS_ALONE = """
import datasets
datasets.disable_progress_bars()
datasets.load_dataset("json", data_files={source!r}, split="train", cache_dir={cache!r}).to_parquet({out!r})
"""


def sizes(listed: str) -> list[int]:
    return [int(part) for part in listed.split(",") if part]


def write_similar(path: Path, size: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(size):
            f.write(json.dumps({"instruction": f"Do task {i} now", "input": "", "output": "done"}) + "\n")


def write_huge_record(path: Path, size: int) -> None:
    """One record whose input and output share `size` bytes of words: a clinical note pasted whole, at its worst.

    Written a piece at a time (the words need no JSON escaping): a child started by this process would otherwise
    inherit its peak RSS in the figure that wait4 reports."""
    rng = random.Random(0)
    words = ["patient", "dose", "heart", "blood", "the", "of", "mg", "renal", "acute", "chronic"]

    def words_of(length: int):
        written = 0
        while written < length:
            piece = " ".join(f"{rng.choice(words)}{rng.randrange(1000)}" for _ in range(10_000))[: length - written]
            written += len(piece)
            yield piece

    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"instruction": "Summarize the clinical note."})[:-1] + ', "input": "')
        f.writelines(words_of(size // 2))
        f.write('", "output": "')
        f.writelines(words_of(size - size // 2))
        f.write('"}\n')

if __name__ == "__main__":
    main()
