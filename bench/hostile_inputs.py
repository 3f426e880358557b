"""The hostile inputs of the third hardening pass, end to end: how long each command takes and how much memory.

    python bench/hostile_inputs.py
    python bench/hostile_inputs.py --similar 20000,40000      # the all-similar clean case at other sizes

Each case runs `bioinstruct` in a child process and prints its wall time, peak RSS and exit code:
- a CSV whose header has 100,000 columns (`validate`): read in one pass over the header;
- a META file of 50 MB (`build --card-meta`): refused by its size before it is parsed;
- `clean` of records that are all near-duplicates of each other (`Do task {i} now`): Self-Instruct's greedy
  filter, counted here as it stands (the scan counts every pair, so time and memory grow with the pairs).
"""

import argparse
import json
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
    parser.add_argument("--similar", default="20000", help="sizes of the all-similar clean case, comma-separated")
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
        for size in (int(part) for part in args.similar.split(",")):
            similar = folder / f"similar-{size}.jsonl"
            with open(similar, "w", encoding="utf-8") as f:
                for i in range(size):
                    f.write(json.dumps({"instruction": f"Do task {i} now", "input": "", "output": "done"}) + "\n")
            report(f"clean, {size:,} all-similar records", ["clean", similar, "--out", folder / f"c{size}.jsonl"])


if __name__ == "__main__":
    main()
