"""The speed figures users feel (issue 29), this checkout beside a git revision, whole commands in child processes.

    python bench/speed_vs.py --vs 5cb7360                  # validate 25k and 100k, build of the sample,
                                                            # categorize --file 25k, a first validate with no kernel cache
    python bench/speed_vs.py --vs 5cb7360 --sizes 25005,100000,1000000 --runs 3

The revision is checked out with `git worktree` in a temporary folder and run from there (PYTHONPATH), with this
environment's packages. Runs alternate, new then old, so a machine that slows down during the call slows both;
each line gives the median wall time and the largest peak RSS of the runs. The corpus is bench/synthetic.py's
templated one. Categories are remembered between a case's runs (`decision_cache`; the uncounted first run fills it),
as they are between a user's commands on one file; the "first sight" lines turn that off (BIOINSTRUCT_NO_CACHE=1).
The first-run line gives numba and the category cache empty folders on every run: what a first run after
`pip install` finds.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402
from synthetic import templated_instructions, write_records  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
SAMPLE = REPOSITORY / "data" / "sample.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", required=True, metavar="REV", help="the git revision to compare with")
    parser.add_argument("--sizes", default="25005,100000", help="validate sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command on each side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        old = folder / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(old), args.vs], cwd=REPOSITORY, check=True)
        try:
            sizes = [int(size) for size in args.sizes.split(",") if size]
            for size in sorted(set(sizes) | {25_005}):
                write_records(folder / f"t{size}.json", size, make=templated_instructions)
            cases = [(f"validate, {size:,} templated", ["validate", folder / f"t{size}.json"]) for size in sizes]
            cases += [("build --source data/sample.jsonl", ["build", "--source", SAMPLE, "--out", folder / "built",
                                                            "--overwrite"]),
                      ("categorize --file, 25,005 templated", ["categorize", "--file", folder / "t25005.json"])]
            print(f"{'command':<44} {'this checkout':>22} {args.vs:>22}")
            for name, command in cases:
                compare(name, command, args.runs, old, folder)
            for name, command in cases[:1] + cases[-1:]:  # the same texts never seen before: nothing remembered
                compare(name.replace(",", ", first sight,", 1), command, args.runs, old, folder, remembered=False)
            compare("first validate of the sample, no caches", ["validate", SAMPLE], args.runs, old, folder,
                    cold=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPOSITORY, check=False)


def compare(name: str, command: list, runs: int, old: Path, folder: Path, remembered: bool = True,
            cold: bool = False) -> None:
    """Median wall time and largest peak RSS of `runs` runs a side. Categories are remembered between the runs of a
    case (the first run, not counted, fills the cache), unless `remembered` is False; `cold`: empty numba and
    category caches on every run, as a first run after `pip install` has them."""
    figures = {}
    for run in range(runs + 1):  # the first run of each side warms its caches (.pyc, numba) and is not counted
        for side, root in (("new", REPOSITORY), ("old", old)):
            env = dict(os.environ, PYTHONPATH=str(root))
            env.pop("BIOINSTRUCT_NO_CACHE", None)
            decisions = folder / f"decisions-{side}-{name}"
            if cold:
                shutil.rmtree(decisions, ignore_errors=True)
                cache = folder / f"numba-{side}"
                shutil.rmtree(cache, ignore_errors=True)
                env["NUMBA_CACHE_DIR"] = str(cache)
            env["BIOINSTRUCT_CACHE"] = str(decisions)
            if not remembered:
                env["BIOINSTRUCT_NO_CACHE"] = "1"
            seconds, peak_mb, code, stderr = run_measured(
                [sys.executable, "-m", "bioinstruct_tools.cli", *map(str, command)], env=env, cwd=root)
            if code not in (0, 1):
                sys.exit(f"{name} ({side}) exited {code}: {stderr.strip()[-300:]}")
            if run:
                figures.setdefault(side, []).append((seconds, peak_mb))
    shown = [f"{statistics.median(s for s, _ in figures[side]):>8.2f} s {max(m for _, m in figures[side]):>7,.0f} MB"
             for side in ("new", "old")]
    print(f"{name:<44} {shown[0]:>22} {shown[1]:>22}", flush=True)


if __name__ == "__main__":
    main()
