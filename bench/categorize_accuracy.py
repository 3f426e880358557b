"""Accuracy of the category rules (`bioinstruct_tools/categories.py`) on the labeled file: dev and test splits, confusion matrices.

    python bench/categorize_accuracy.py [--file data/category_eval.jsonl] [--misses] [--vs REV]

The labels in data/category_eval.jsonl were written for this project by following the labelling
guideline in README.md (Categories); they are not GPT-4's labels. Each item is in the `dev` split (rules
may be tuned on it), the `test` split (written before an earlier rule change and never read for misses),
or the `test_new` split: 100 instructions in styles the first labels lacked (patient messages without a
question, forum posts, polite imperatives, role-play, long multi-sentence instructions, tasks with a given
case), written before the rules were changed for those styles and never read for misses, or the
`test_dec` split: 100 more in those styles and patient messages, each labeled with its `style`, written
after two rounds of rules for those styles and before the next, and never read for misses, or the
`test_styles` split: 100 written before the guideline named four more styles (writing for a lay audience, an
essay or guide, a role-played conversation or consultation, an interactive quiz) and before the rules for
them: 21 for each style (16 quizzes), look-alikes that are not the style among them, and 21 of every kind,
each labeled with its `style`; never read for misses. `--misses`
prints the dev misses only. `--vs REV` prints every split again under the rules of a git revision (the
old rules beside the new), and each split says how many patient messages (the items labeled with that
style) the rules put in `other`.
"""

import argparse
import json
import statistics
import subprocess
import time
import types
from collections import Counter
from pathlib import Path

from bioinstruct_tools import categories
from bioinstruct_tools.categories import CATEGORIES, categorize

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "category_eval.jsonl"
SPLITS = ("dev", "test", "test_new", "test_dec", "test_styles")
MESSAGE_STYLES = ("patient",)  # the `style` of labeled items written as a patient's message
REPOSITORY = Path(__file__).resolve().parent.parent
PASSES = 5


def report(name: str, rows: list[dict], predicted: list[str]) -> None:
    messages = [guess for row, guess in zip(rows, predicted) if row.get("style") in MESSAGE_STYLES]
    confusion = Counter((row["category"], guess) for row, guess in zip(rows, predicted))
    correct = sum(count for (gold, guess), count in confusion.items() if gold == guess)
    with_input = sum(1 for row in rows if row["input"].strip())
    print(f"\n{name}: {len(rows)} labeled instructions ({with_input} with input)")
    print(f"accuracy: {correct / len(rows):.1%} ({correct}/{len(rows)})")
    labels = CATEGORIES
    print("confusion (rows: label, columns: predicted)")
    print(f"{'':<12}" + "".join(f"{label:>12}" for label in labels) + f"{'recall':>9}")
    for gold in labels:
        total = sum(confusion[(gold, guess)] for guess in labels)
        print(f"{gold:<12}" + "".join(f"{confusion[(gold, guess)]:>12}" for guess in labels)
              + f"{confusion[(gold, gold)] / total if total else 0:>9.1%}")
    styles = Counter(row["style"] for row in rows if row.get("style") and row["style"] not in MESSAGE_STYLES)
    for style in sorted(styles):
        hits = sum(1 for row, guess in zip(rows, predicted) if row.get("style") == style and guess == row["category"])
        print(f"style {style}: {hits}/{styles[style]}")
    if messages:
        in_other = messages.count("other")
        print(f"patient messages in other: {in_other / len(messages):.1%} ({in_other}/{len(messages)})")


def rules_at(revision: str) -> types.ModuleType:
    """The categorizer as it was at a git revision, loaded beside today's: its rules, and its word model with the
    weights it shipped then (a retraining since must not pass for the old rules); before the model, rules only."""
    rules = _module_at(revision, "categories")
    if hasattr(rules, "category_model"):
        model = _module_at(revision, "category_model")
        weights = json.loads(_source_at(revision, f"bioinstruct_tools/resources/{model.MODEL_FILE}"))
        model._model = lambda: (weights["weights"], weights["bias"])
        rules.category_model = model
    return rules


def _module_at(revision: str, name: str) -> types.ModuleType:
    module = types.ModuleType(f"{name}_at_{revision}")
    exec(compile(_source_at(revision, f"bioinstruct_tools/{name}.py"), f"{revision}:{name}.py", "exec"), module.__dict__)
    return module


def _source_at(revision: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{revision}:{path}"], cwd=REPOSITORY, capture_output=True, text=True,
                          check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(DEFAULT_FILE))
    parser.add_argument("--misses", action="store_true", help="print every misclassified dev instruction")
    parser.add_argument("--vs", metavar="REV", help="also print each split under the rules of this git revision")
    args = parser.parse_args()

    rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    timings = []
    for _ in range(PASSES):  # one pass is noisy on a shared machine: the median of five
        categories.forget()  # time the rules, not the memo of the previous pass
        start = time.perf_counter()
        predicted = [categorize(row["instruction"], row["input"]) for row in rows]
        timings.append(time.perf_counter() - start)
    per_instruction = statistics.median(timings) / len(rows) * 1e6
    print(f"{args.file}: {len(rows)} labeled instructions; categorize: {per_instruction:.1f} us each "
          f"(median of {PASSES} passes)")
    runs = [("", predicted)]
    if args.vs:
        old = rules_at(args.vs)
        runs.insert(0, (f" (rules at {args.vs})", [old.categorize(row["instruction"], row["input"]) for row in rows]))
    for split in SPLITS:
        chosen = [i for i, row in enumerate(rows) if row.get("split", "dev") == split]
        for label, guesses in runs:
            report(split + label, [rows[i] for i in chosen], [guesses[i] for i in chosen])
    if args.misses:
        print("\ndev misses (label -> predicted):")
        for row, guess in zip(rows, predicted):
            if row.get("split", "dev") == "dev" and guess != row["category"]:
                print(f"  {row['category']:>10} -> {guess:<10} {row['instruction'][:110]}")


if __name__ == "__main__":
    main()
