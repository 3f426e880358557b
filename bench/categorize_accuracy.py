"""Accuracy of `bioinstruct.categorize` on the labeled file, with the confusion matrix and the misses.

    python bench/categorize_accuracy.py [--file data/category_eval.jsonl] [--misses]

The labels in data/category_eval.jsonl were written for this project by reading each instruction the
way the paper's categories describe it (see README.md, Categories); they are not GPT-4's labels.
"""

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import bioinstruct

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "category_eval.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(DEFAULT_FILE))
    parser.add_argument("--misses", action="store_true", help="print every misclassified instruction")
    args = parser.parse_args()

    rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    start = time.perf_counter()
    predicted = [bioinstruct.categorize(row["instruction"], row["input"]) for row in rows]
    seconds = time.perf_counter() - start
    confusion = Counter((row["category"], guess) for row, guess in zip(rows, predicted))
    correct = sum(count for (gold, guess), count in confusion.items() if gold == guess)

    print(f"{args.file}: {len(rows)} labeled instructions "
          f"({sum(1 for r in rows if r['input'].strip())} with input)")
    print(f"accuracy: {correct / len(rows):.1%} ({correct}/{len(rows)})")
    labels = bioinstruct.CATEGORIES
    print("\nconfusion (rows: label, columns: predicted)")
    print(f"{'':<12}" + "".join(f"{label:>12}" for label in labels) + f"{'recall':>9}")
    for gold in labels:
        total = sum(confusion[(gold, guess)] for guess in labels)
        print(f"{gold:<12}" + "".join(f"{confusion[(gold, guess)]:>12}" for guess in labels)
              + f"{confusion[(gold, gold)] / total if total else 0:>9.1%}")
    print(f"\ncategorize: {seconds / len(rows) * 1e6:.1f} us per instruction")
    if args.misses:
        for row, guess in zip(rows, predicted):
            if guess != row["category"]:
                print(f"  {row['category']:>10} -> {guess:<10} {row['instruction'][:100]}")


if __name__ == "__main__":
    main()
