"""Retrain the word model (bioinstruct_tools/category_model.py) on the dev split and write its weights.

    python scripts/train_category_model.py [--file data/category_eval.jsonl]

Only `dev` rows are read: the test splits stay unseen. The result is deterministic; the shipped
resources/category_model.json is what this writes.
"""

import argparse
import json
import os
from pathlib import Path

from bioinstruct_tools.category_model import MODEL_FILE, train

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "data" / "category_eval.jsonl"))
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    model = train([row for row in rows if row["split"] == "dev"])
    target = ROOT / "bioinstruct_tools" / "resources" / MODEL_FILE
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                       encoding="utf-8")
    os.replace(partial, target)
    print(f"{target}: {len(model['weights'])} features, {model['trained_on']}")


if __name__ == "__main__":
    main()
