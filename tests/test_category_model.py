"""The word model that may overrule the category rules: reproducible, deterministic, trained on dev only."""

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bioinstruct_tools import category_model
from bioinstruct_tools.categories import categorize_with_reason, rule_category

EVAL_FILE = Path(__file__).resolve().parent.parent / "data" / "category_eval.jsonl"


def labeled_rows() -> list[dict]:
    return [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]


def test_the_shipped_weights_are_a_retraining_on_the_dev_split_alone():
    shipped = json.loads(resources.files("bioinstruct_tools").joinpath("resources", "category_model.json").read_text())
    dev = [row for row in labeled_rows() if row["split"] == "dev"]
    retrained = category_model.train(dev)
    assert retrained["trained_on"] == shipped["trained_on"] == f"{len(dev)} labeled instructions (the dev split " \
                                                                "of data/category_eval.jsonl)"
    assert retrained["weights"].keys() == shipped["weights"].keys() and retrained["bias"] == shipped["bias"]
    assert retrained["weights"] == shipped["weights"]


def test_predictions_do_not_depend_on_the_hash_seed():
    script = ("import json,sys; from bioinstruct_tools.category_model import predict; "
              "rows=[json.loads(l) for l in open(sys.argv[1])][::7]; "
              "print(json.dumps([list(predict(r['instruction'], r['input'])) for r in rows]))")
    outputs = {subprocess.run([sys.executable, "-c", script, str(EVAL_FILE)], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1


def test_the_model_may_not_overrule_from_its_prior_alone():
    prediction = category_model.predict("Hmm.")  # no word known: the prior and the no-input flag speak
    assert prediction.probability >= category_model.OVERRULE_AT and prediction.word_scores == (0.0,) * 4
    assert not category_model.overrules(prediction, "other")
    assert categorize_with_reason("Hmm.") == rule_category("Hmm.") == ("other", "no task verb, no question and no topic")
    # Found trying short imperatives: "Classify it." is qa by the prior of instructions without an input,
    # but its words favour other. The rules keep it.
    prediction = category_model.predict("Classify it.")
    assert prediction.category == "qa" and prediction.probability >= category_model.OVERRULE_AT
    assert prediction.word_scores[3] > prediction.word_scores[2]
    assert categorize_with_reason("Classify it.") == rule_category("Classify it.")
    assert categorize_with_reason("Translate it.")[0] == "generation"


def test_an_overruled_rule_is_named_with_the_words_that_outweighed_it():
    instruction = ("Here are a patient's vital signs over 24 hours. Describe the trend in each and state whether "
                   "it is improving.")
    given = next(row["input"] for row in labeled_rows() if row["instruction"] == instruction)
    assert rule_category(instruction, given)[0] == "qa"
    prediction = category_model.predict(instruction, given)
    assert category_model.overrules(prediction, "qa") and prediction.category == "extraction"
    category, reason = categorize_with_reason(instruction, given)
    words = category_model.evidence(instruction, given, "extraction", "qa")
    assert category == "extraction" and len(words) == 3
    assert reason == (f"the word model decides where the rules fall back on 'qa' ({rule_category(instruction, given)[1]}): "
                      f"extraction at {prediction.probability:.0%}, from " + ", ".join(f"'{word}'" for word in words))


def test_features_are_words_pairs_openings_and_the_input_flag():
    assert category_model.features("List my meds?", " ") == sorted(
        ["list", "my", "meds", "?", "list my", "my meds", "meds ?", "^list", "^my", "^meds", "<no input>",
         "<first person>"])


# The plain reading of the word model and of the phrasal-verb list, kept here as the oracle of the faster code:
# the model as one sorted list of features summed column by column, and the phrases tried one by one in order.
def plain_predict(instruction, input=""):
    import math

    weights, bias = category_model._model()
    words, flags = [], []
    for feature in category_model.features(instruction, input):
        row = weights.get(feature)
        if row is not None:
            (flags if feature.startswith("<") else words).append(row)
    word_scores = [sum(column) for column in zip(*words)] if words else [0.0] * 4
    flag_scores = [sum(column) for column in zip(*flags)] if flags else [0.0] * 4
    scores = [start + flag + word for start, flag, word in zip(bias, flag_scores, word_scores)]
    top = max(range(4), key=scores.__getitem__)
    return category_model.Prediction(category_model.CATEGORIES[top],
                                     1.0 / sum(math.exp(s - scores[top]) for s in scores), tuple(word_scores))


def plain_phrasal_verb(phrases, clause):
    return next((verb for phrase, verb in phrases if phrase.match(clause)), None)


def every_known_instruction() -> list[tuple[str, str]]:
    sample = Path(__file__).resolve().parent.parent / "data" / "sample.jsonl"
    rows = labeled_rows() + [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines()]
    return [(row["instruction"], row.get("input", "")) for row in rows]


def test_the_fast_word_model_sums_exactly_as_the_plain_one_on_every_known_instruction():
    for instruction, given_input in every_known_instruction():
        assert category_model.predict(instruction, given_input) == plain_predict(instruction, given_input), instruction


def test_one_alternation_of_phrasal_verbs_finds_what_the_list_in_order_finds():
    from bioinstruct_tools import categories

    clauses = [instruction for instruction, _ in every_known_instruction()]
    clauses += ["let me know which drug", "put the steps in order", "say whether it is benign", "help a patient cope"]
    for clause in clauses:
        for combined, phrases in ((categories._ANY_PHRASAL_VERB, categories._PHRASAL_VERBS),
                                  (categories._ANY_PHRASAL_AFTER_STAGE, categories._PHRASAL_AFTER_STAGE)):
            assert categories._phrasal_verb(combined, clause) == plain_phrasal_verb(phrases, clause), clause


WORDS = ["let", "me", "know", "which", "walk", "through", "put", "together", "in", "order", "the", "drug", "?", "I",
         "my", "explain", "describe", "and", "then", "read", "note", "say", "whether", "help", "a", "patient", "cope"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join), st.sampled_from(["", "x", "<noinput>"]))
def test_fast_paths_equal_the_plain_ones_on_any_word_sequence(text, given_input):
    from bioinstruct_tools import categories

    assert category_model.predict(text, given_input) == plain_predict(text, given_input)
    assert categories._phrasal_verb(categories._ANY_PHRASAL_VERB, text) == \
        plain_phrasal_verb(categories._PHRASAL_VERBS, text)
