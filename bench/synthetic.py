"""Realistic synthetic instruction corpora for the benchmarks, with planted exact and near-duplicates.

Words follow a Zipf law over a vocabulary that starts with the common words of biomedical instructions
and continues with made-up terms, so token frequencies look like real text (a few very common words,
a long tail); instruction lengths are drawn between 5 and 40 words. A share of the instructions are
exact copies of earlier ones and another share are light edits (1-3 words inserted, deleted or
replaced), the two kinds of duplicate Self-Instruct's filter is there to catch.
"""

import itertools
import json
import random

COMMON = (
    "the of and to a in for with patient is on from that by this as or be are an what following "
    "list extract identify summarize explain describe write provide note report clinical treatment "
    "symptoms diagnosis medication dose drug disease blood risk history given based text study "
    "results test care management effects side adverse hospital discharge lab level heart pain "
    "infection chronic acute therapy trial outcome plan signs mg daily children adults cancer "
    "diabetes hypertension kidney liver lung brain cell gene protein"
).split()
SYLLABLES = "ba ce di fo gu ha ki lo me nu pa ri so te vu xa zy qu bre cla dro fle gri pho thi ste".split()


def vocabulary(size: int = 12_000) -> list[str]:
    terms = ("".join(parts) for n in (2, 3, 4) for parts in itertools.product(SYLLABLES, repeat=n))
    return COMMON + list(itertools.islice(terms, size - len(COMMON)))


def instructions(count: int, seed: int = 0, exact_share: float = 0.01, near_share: float = 0.03) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary()
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(words))]
    corpus: list[str] = []
    fresh_batch: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if corpus and roll < exact_share:
            corpus.append(rng.choice(corpus))
            continue
        if corpus and roll < exact_share + near_share:
            edited = rng.choice(corpus).split()
            for _ in range(rng.randint(1, 3)):
                kind = rng.random()
                if kind < 0.33 and len(edited) > 2:
                    edited.pop(rng.randrange(len(edited)))
                elif kind < 0.66:
                    edited.insert(rng.randrange(len(edited) + 1), rng.choice(COMMON))
                else:
                    edited[rng.randrange(len(edited))] = rng.choice(COMMON)
            corpus.append(" ".join(edited))
            continue
        if not fresh_batch:
            fresh_batch = rng.choices(words, weights=weights, k=40_000)
        length = rng.randint(5, 40)
        sentence, fresh_batch = fresh_batch[:length], fresh_batch[length:]
        corpus.append(" ".join(sentence).capitalize() + ".")
    return corpus


def write_records(path, count: int, seed: int = 0, output_words: int = 80) -> None:
    """A JSON array of records in the upstream shape; inputs on about 60% of them."""
    rng = random.Random(seed + 1)
    words = vocabulary(2_000)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for index, instruction in enumerate(instructions(count, seed)):
            record = {
                "instruction": instruction,
                "input": " ".join(rng.choices(words, k=rng.randint(10, 40))) if rng.random() < 0.6 else "",
                "output": " ".join(rng.choices(words, k=rng.randint(output_words // 2, output_words * 3 // 2))),
            }
            f.write(("," if index else "") + json.dumps(record, ensure_ascii=False) + "\n")
        f.write("]\n")
