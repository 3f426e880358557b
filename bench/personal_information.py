"""The personal-information check, measured: recall by kind and the look-alikes' false-positive rate on the labeled
set's frozen test split, and the time the check adds to `validate` at 25,005 records.

    python bench/personal_information.py                 # the test split, and the time at 25,005 records
    python bench/personal_information.py --split dev     # the items the patterns were written against

The labeled set is data/personal_information_eval.jsonl: each item is a text, the kinds it holds (none for a
look-alike: a blood pressure, a dose, an eponym, a code) and its split. A kind counts as found when the check finds
that kind anywhere in the text; a look-alike is a false positive when the check finds anything in it. The time is
the check's own seconds in `validate --json` on the templated corpus of bench/synthetic.py.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synthetic import templated_instructions, write_records  # noqa: E402

from bioinstruct_tools.personal_information import KINDS, find  # noqa: E402

LABELED = HERE.parent / "data" / "personal_information_eval.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--size", type=int, default=25_005)
    args = parser.parse_args()
    items = [json.loads(line) for line in LABELED.read_text(encoding="utf-8").splitlines()]
    items = [item for item in items if item["split"] == args.split]
    planted, found, traps, fired = Counter(), Counter(), 0, []
    for item in items:
        kinds = {finding.kind for finding in find(item["text"])}
        if not item["kinds"]:
            traps += 1
            if kinds:
                fired.append((item["text"], sorted(kinds)))
        for kind in item["kinds"]:
            planted[kind] += 1
            found[kind] += kind in kinds
    print(f"split {args.split}: {sum(planted.values())} planted identifiers, {traps} look-alike texts")
    print(f"{'kind':<12} {'found':>6} {'of':>4} {'recall':>7}")
    for kind in KINDS:
        if planted[kind]:
            print(f"{kind:<12} {found[kind]:>6} {planted[kind]:>4} {found[kind] / planted[kind]:>7.0%}")
    records = sum(1 for item in items if item["kinds"])
    held = sum(1 for item in items if item["kinds"] and {f.kind for f in find(item["text"])})
    print(f"records holding an identifier that were flagged: {held} of {records} ({held / records:.0%})")
    print(f"look-alikes flagged: {len(fired)} of {traps} ({len(fired) / traps:.1%})")
    for text, kinds in fired:
        print(f"  {kinds}: {text}")
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "templated.json"
        write_records(corpus, args.size, make=templated_instructions)
        done = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "validate", str(corpus), "--json"],
                              capture_output=True, text=True)
        seconds = json.loads(done.stdout)["checks"]["personal_information"]["seconds"]
        print(f"the check's own time in validate, {args.size:,} templated records: {seconds:.2f} s")


if __name__ == "__main__":
    main()
