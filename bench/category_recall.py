"""Remembered categories read back from disk (`decision_cache`), alone and beside a busy thread.

    python bench/category_recall.py                  # 25,005 templated instructions
    python bench/category_recall.py --size 100000 --busy-limit 30

The answers are stored in a fresh cache folder, then looked up again in a new process's way (`categories._recalled`,
this process's memo cleared): once with nothing else running, once beside a thread that spins in Python, as numba
loading its kernels does while `validate` starts its checks. A look-up stepped row by row hands the GIL over at every
row; `--busy-limit` stops waiting for such a look-up after that many seconds (it then prints "over").
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import templated_instructions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_005)
    parser.add_argument("--repeat", type=int, default=5, help="look-ups timed alone; the median is printed")
    parser.add_argument("--busy-limit", type=float, default=60, help="seconds before a look-up beside a busy "
                                                                      "thread is given up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BIOINSTRUCT_CACHE"] = folder  # read at each call: set before the package decides anything
        from bioinstruct_tools import categories, decision_cache

        pairs = [(text, "") for text in templated_instructions(args.size)]
        answers = categories.categorize_many(pairs)  # decided and stored: the first run a user makes
        keys = [decision_cache.key_of(*pair) for pair in pairs]
        with decision_cache.opened("bench", "0" * 24) as cache:
            started = time.perf_counter()
            cache.store(list(zip(keys, answers)))
            stored = time.perf_counter() - started

        def recall() -> float:
            categories.forget()
            started = time.perf_counter()
            known, _ = categories._recalled(pairs)
            assert known == answers, "the cache gave back other answers"
            return time.perf_counter() - started

        alone = statistics.median(recall() for _ in range(args.repeat))
        print(f"{args.size:,} answers, cache in a fresh folder")
        print(f"  store of every answer         {stored:8.3f} s")
        print(f"  look-up alone                 {alone:8.3f} s  (median of {args.repeat})")
        print(f"  look-up beside a busy thread  {_beside_a_busy_thread(recall, args.busy_limit)}")


def _beside_a_busy_thread(recall, limit: float) -> str:
    done, result = threading.Event(), []

    def spin():
        while not done.is_set():
            pass

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    looking = threading.Thread(target=lambda: result.append(recall()), daemon=True)
    looking.start()
    looking.join(limit)
    done.set()
    return f"{result[0]:8.3f} s" if result else f"    over {limit:.0f} s (given up)"


if __name__ == "__main__":
    main()
