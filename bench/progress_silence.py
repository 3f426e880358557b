"""How long a command stays silent in a terminal: the first output and the longest gap between outputs (issue 29).

    python bench/progress_silence.py                      # validate of 100,000 templated records
    python bench/progress_silence.py --size 25005 --command categorize

The command runs in a pseudo-terminal (so its progress bars draw, as a user sees them), with the category cache in
a fresh folder (nothing remembered: the slower case). Every chunk it writes is stamped as it arrives; the figures
are the time to the first chunk, the longest gap after it, and the whole run.
"""

import argparse
import os
import pty
import select
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import templated_instructions, write_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--command", choices=("validate", "categorize"), default="validate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"t{args.size}.json"
        write_records(source, args.size, make=templated_instructions)
        command = [sys.executable, "-m", "bioinstruct_tools.cli", args.command]
        command += ["--file", str(source)] if args.command == "categorize" else [str(source)]
        env = dict(os.environ, BIOINSTRUCT_CACHE=str(Path(folder) / "decisions"), COLUMNS="120")
        env.pop("TQDM_DISABLE", None)
        env.pop("HF_DATASETS_DISABLE_PROGRESS_BARS", None)
        stamps, total = run_in_terminal(command, env)
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    print(f"{args.command}, {args.size:,} templated records, in a terminal:")
    print(f"  first output after {stamps[0]:.2f} s; longest silence after it {max(gaps, default=0):.2f} s; "
          f"{len(stamps)} writes; whole run {total:.2f} s")


def run_in_terminal(command: list[str], env: dict) -> tuple[list[float], float]:
    """The times (from the start) at which the command wrote to its terminal, and its whole run."""
    start = time.perf_counter()
    pid, terminal = pty.fork()
    if pid == 0:
        os.execve(command[0], command, env)
    stamps = []
    while True:
        ready, _, _ = select.select([terminal], [], [], 0.05)
        if ready:
            try:
                data = os.read(terminal, 65536)
            except OSError:  # the command closed the terminal
                break
            if not data:
                break
            stamps.append(time.perf_counter() - start)
    os.waitpid(pid, 0)
    return stamps, time.perf_counter() - start


if __name__ == "__main__":
    main()
