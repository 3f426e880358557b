"""The word model: a small logistic regression over an instruction's words that decides where the rules fall back.

The category rules (`categories.py`) read the task verb; on text phrased unlike anything they were
written for they fall back on defaults. Trained on the same labels (the `dev` split of
data/category_eval.jsonl, never a test split), a bag-of-words model generalises differently, and where
the rules only fell back on a default and it is confident and disagrees, it decides: `categorize` then
says so, with the words that weighed most (never stop words alone).

- deterministic and offline: the weights ship as `resources/category_model.json`; predicting is a sum
  of weights in a fixed (sorted) order and one softmax, in plain Python;
- reproducible: `python scripts/train_category_model.py` retrains it from the labeled file (full-batch
  gradient descent from zero, no randomness) and tests/test_category_model.py holds the shipped
  weights to a retraining.
"""

import functools
import json
import math
import re
from importlib import resources
from typing import NamedTuple

CATEGORIES = ("extraction", "generation", "qa", "other")  # the order of the weight columns
OVERRULE_AT = 0.7  # chosen on fresh dev batches: python bench/category_model_threshold.py
TRAINING = {"l2": 1.0, "epochs": 1000, "learning_rate": 0.5}
MODEL_FILE = "category_model.json"
_WORD = re.compile(r"[a-z][a-z'-]*|\?")
_FIRST_PERSON = frozenset(("i", "my", "i'm", "i've", "me", "we", "our"))
_OPENING_WORDS = 3


class Prediction(NamedTuple):
    category: str
    probability: float
    # Each category's score from the instruction's words alone, without the prior and the input flags: what
    # the words themselves say ("Classify it." with no input is qa by its prior, other by its words).
    word_scores: tuple[float, ...]


def features(instruction: str, input: str) -> list[str]:
    """Words, adjacent word pairs, the opening words marked as such, and whether an input is given."""
    words = _WORD.findall(instruction.lower())
    return sorted(_flags(words, input) + _word_features(words))  # a fixed order: sums must not depend on hash seeds


def _word_features(words: list[str]) -> list[str]:
    found = set(words)
    found.update(f"{first} {second}" for first, second in zip(words, words[1:]))
    found.update(f"^{word}" for word in words[:_OPENING_WORDS])
    return sorted(found)


def _flags(words: list[str], input: str) -> list[str]:
    flags = ["<input>" if input.strip() else "<no input>"]
    if _FIRST_PERSON.intersection(words):
        flags.append("<first person>")
    return sorted(flags)


def _is_word(feature: str) -> bool:
    return not feature.startswith("<")  # "<input>", "<first person>": flags, not words


@functools.cache
def _model() -> tuple[dict[str, list[float]], list[float]]:
    data = json.loads(resources.files("bioinstruct_tools").joinpath("resources", MODEL_FILE).read_text("utf-8"))
    return data["weights"], data["bias"]


def _column_sums(rows: list[list[float]]) -> list[float]:
    # column by column, in the sorted order of the features: the same sum on every run
    return [sum(column) for column in zip(*rows)] if rows else [0.0] * len(CATEGORIES)


def predict(instruction: str, input: str = "", model: dict | None = None) -> Prediction:
    """The model's category for an instruction; `model` is a `train` result (the shipped weights by default).

    Word features and flags are summed apart, each in sorted order: every flag ("<input>") sorts before every
    word feature, so these are the sums `features`' single sorted list gives, without testing each feature.
    """
    weights, bias = (model["weights"], model["bias"]) if model else _model()
    words = _WORD.findall(instruction.lower())
    word_scores = _column_sums([row for row in map(weights.get, _word_features(words)) if row is not None])
    flag_scores = _column_sums([row for row in map(weights.get, _flags(words, input)) if row is not None])
    scores = [start + flag + word for start, flag, word in zip(bias, flag_scores, word_scores)]
    top = max(range(len(CATEGORIES)), key=scores.__getitem__)
    total = sum(math.exp(score - scores[top]) for score in scores)
    return Prediction(CATEGORIES[top], 1.0 / total, tuple(word_scores))


def overrules(prediction: Prediction, rule: str, threshold: float = OVERRULE_AT) -> bool:
    """Whether the model's prediction replaces the rules' category `rule`: it disagrees, it is confident,
    and the instruction's words themselves favour it, not only its prior ("Hmm." is 87% qa with no word known)."""
    toward, away = CATEGORIES.index(prediction.category), CATEGORIES.index(rule)
    return (prediction.category != rule and prediction.probability >= threshold
            and prediction.word_scores[toward] > prediction.word_scores[away])


def evidence(instruction: str, input: str, category: str, over: str, model: dict | None = None) -> tuple[str, ...]:
    """The (at most three) words or word pairs of an instruction that weigh most for `category` over `over`,
    leaving out those made only of stop words ("the", "of", "^the", "in the"): they say nothing of a task. Empty
    when nothing else weighs for it; `categories` then lets the rules' default stand."""
    weights = model["weights"] if model else _model()[0]
    toward, away = CATEGORIES.index(category), CATEGORIES.index(over)
    margin = {feature: weights[feature][toward] - weights[feature][away]
              for feature in features(instruction, input)
              if feature in weights and _is_word(feature) and not _stop_words_only(feature)}
    return tuple(sorted((feature for feature in margin if margin[feature] > 0), key=lambda f: -margin[f])[:3])


# English function words: articles, prepositions, pronouns, auxiliaries and conjunctions. Task words ("what",
# "how", "list") are not among them: they are what the rules read.
STOP_WORDS = frozenset(
    "a an the of in on at to for from by with about into onto over under than as and or but nor so if then that "
    "this these those it its it's is are was were be been being am do does did has have had having i me my we us "
    "our you your he him his she her they them their there here not no yes all any some each every more most such "
    "very can could would should will shall may might must also just only own same other".split())


def _stop_words_only(feature: str) -> bool:
    return all(word in STOP_WORDS for word in feature.lstrip("^").split())


def train(rows: list[dict]) -> dict:
    """Weights fitted to labeled rows ({instruction, input, category}); numpy only here, at training time.

    The feature matrix is binary and sparse: it is kept as (row, column) index pairs, and products are
    sums taken in index order with `np.add.at`, so a retraining gives the same weights on any machine.
    """
    import numpy as np

    row_features = [features(row["instruction"], row["input"]) for row in rows]
    vocabulary = sorted({feature for found in row_features for feature in found})
    column = {feature: index for index, feature in enumerate(vocabulary)}
    row_index = np.array([index for index, found in enumerate(row_features) for _ in found])
    column_index = np.array([column[feature] for found in row_features for feature in found])
    labels = np.eye(len(CATEGORIES))[[CATEGORIES.index(row["category"]) for row in rows]]
    weights = np.zeros((len(vocabulary), len(CATEGORIES)))
    bias = np.zeros(len(CATEGORIES))
    # `np.add.at` on the matrices' flat positions makes the same additions in the same order as on their rows, on
    # numpy's fast path for one-dimensional indices (four times faster)
    each_category = np.arange(len(CATEGORIES))
    score_at = (row_index[:, None] * len(CATEGORIES) + each_category).ravel()
    gradient_at = (column_index[:, None] * len(CATEGORIES) + each_category).ravel()
    for _ in range(TRAINING["epochs"]):
        scores = np.tile(bias, (len(rows), 1))
        np.add.at(scores.reshape(-1), score_at, weights[column_index].reshape(-1))
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = probabilities - labels
        gradient = TRAINING["l2"] * weights
        np.add.at(gradient.reshape(-1), gradient_at, error[row_index].reshape(-1))
        weights -= TRAINING["learning_rate"] * gradient / len(rows)
        bias -= TRAINING["learning_rate"] * error.mean(axis=0)
    kept = {feature: [round(float(value), 3) for value in weights[index]] for index, feature in enumerate(vocabulary)}
    return {
        "trained_on": f"{len(rows)} labeled instructions (the dev split of data/category_eval.jsonl)",
        "training": TRAINING,
        "bias": [round(float(value), 3) for value in bias],
        # a feature whose weights all round to zero changes no prediction
        "weights": {feature: values for feature, values in kept.items() if any(values)},
    }
