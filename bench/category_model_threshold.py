"""How far to trust the word model over the category rules, measured on dev data written after the rules.

    python bench/category_model_threshold.py

The `dev` items with a `batch` number (1-9) in data/category_eval.jsonl were written in batches and
each batch was scored before any rule change for it. For each group of batches this replays the rules
of that time (a git revision) and trains the word model on the dev labels that existed before the
group, then counts right answers: rules alone, model alone, and rules overruled by the model at each
confidence threshold. No test split is read.
"""

import json
import sys
from pathlib import Path

from bioinstruct_tools.category_model import overrules, predict, train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from categorize_accuracy import DEFAULT_FILE, rules_at  # noqa: E402

# (first batch, last batch, the revision whose rules were current when those batches were written)
GROUPS = ((1, 6, "58f6a68"), (7, 9, "128f688"))
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    rows = [json.loads(line) for line in DEFAULT_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    dev = [row for row in rows if row["split"] == "dev"]
    totals = {"items": 0, "rules": 0, "model": 0, **{threshold: 0 for threshold in THRESHOLDS}}
    fixed = broken = 0
    for first, last, revision in GROUPS:
        rules = rules_at(revision)
        seen = [row for row in dev if row.get("batch", 0) < first]
        fresh = [row for row in dev if first <= row.get("batch", 0) <= last]
        model = train(seen)
        counts = {"items": len(fresh), "rules": 0, "model": 0, **{threshold: 0 for threshold in THRESHOLDS}}
        for row in fresh:
            by_rules = rules.categorize(row["instruction"], row["input"])
            guess = predict(row["instruction"], row["input"], model)
            counts["rules"] += by_rules == row["category"]
            counts["model"] += guess.category == row["category"]
            for threshold in THRESHOLDS:
                final = guess.category if overrules(guess, by_rules, threshold) else by_rules
                counts[threshold] += final == row["category"]
                if threshold == 0.7:
                    fixed += final == row["category"] != by_rules
                    broken += by_rules == row["category"] != final
        print(f"batches {first}-{last} (rules at {revision}, model trained on {len(seen)} labels): "
              + ", ".join(f"{name} {count}" for name, count in counts.items()))
        for name in totals:
            totals[name] += counts[name]
    n = totals["items"]
    print(f"\nall {n} fresh dev items: rules {totals['rules']} ({totals['rules'] / n:.1%}), "
          f"model {totals['model']} ({totals['model'] / n:.1%})")
    for threshold in THRESHOLDS:
        print(f"  rules overruled at {threshold}: {totals[threshold]} ({totals[threshold] / n:.1%})")
    print(f"at 0.7 the model fixes {fixed} of the rules' answers and breaks {broken}")


if __name__ == "__main__":
    main()
