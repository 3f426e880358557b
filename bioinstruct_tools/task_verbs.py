"""Task verbs as the BioInstruct and Self-Instruct papers draw them: the root verb of an imperative
instruction and the head noun of its direct object ("Write a referral letter to ..." -> write, letter).

Rules, not a parser (no part-of-speech model ships with the package, and none may download at run time):
- the verb is the categorizer's task verb (`categories.task_verb`, which skips lead-ins such as "Given
  the note," "Please", "Can you", "As a nurse,"), or else the first word of a plain imperative ("Kindly
  detail ...", "Talk about ..."); an instruction asking a question ("What ...", "Is ...", "Should I ...")
  has no task verb: it is counted as a question, never as a verb;
- the object is the last word of the noun phrase right after the verb (after a particle such as "down"),
  the phrase ending at a preposition, conjunction, clause word or punctuation; participles, adverbs and
  numbers at its end are passed over. A clause or a preposition right after the verb ("Explain why ...",
  "Talk about ...") means no direct object.

`data/verb_eval.jsonl` holds 50 instructions labeled with their verb and object; tests/test_report.py
holds the rules to it.
"""

import re
from typing import Optional

from bioinstruct_tools.categories import task_verb

QUESTION = "question"
# Question words and auxiliaries: what a question starts with, never a task verb.
QUESTION_WORDS = frozenset(
    "what which how why when where who whom whose is are am was were do does did can could should would will "
    "shall may might must has have had".split())
_POLITE = frozenset("kindly please now also then".split())
_PARTICLES = frozenset("down up out off back".split())
_DETERMINERS = frozenset("a an the this that these those all any each every some its their his her your our my "
                         "such another other both either".split())
_PRONOUNS = frozenset("it them me us him her you one ones something everything".split())
# Words a patient's message opens with that are not tasks ("Thank you doctor ...", "Think I have the flu").
_NOT_TASKS = frozenset("thank thanks think hope wonder wondering feel guess believe".split())
_NOT_IMPERATIVES = _DETERMINERS | _NOT_TASKS | frozenset("i you he she we they it me doctor hi hello dear there here".split())
# Adjectives, quantifiers and pronoun-like words that may end a phrase but are not its head noun ("the current
# understanding", "tell me more"): passed over on the way to the noun.
_NOT_HEADS = frozenset("current more less most further some any many much few several various other certain "
                       "new old main key general specific possible potential common different additional".split())
# Words that end the noun phrase of a direct object.
_BOUNDARIES = frozenset(
    "of for to in on at from with about into between by as using based within after before during under over "
    "across through per via without among against than like and or but nor so that which who whom whose what "
    "whether if how why when where while because since until unless below above given including according".split())
_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten twenty hundred first second third".split())
# A longer token is not an English word ("immunohistochemically" has 21 letters). Found trying a 3 MB
# instruction: taken for a verb, it became a tick label that matplotlib could not render.
_LONGEST_WORD = 30
_TOKEN = re.compile(r"[a-z][a-z'’-]*|\d[\d.,/%-]*|[^\sa-z\d]")


def verb_and_object(instruction: str) -> tuple[Optional[str], Optional[str]]:
    """(verb, object) of an instruction: `(QUESTION, None)` for a question, `(None, None)` with no task verb."""
    tokens = _TOKEN.findall(" ".join(instruction.split()[:60]).lower())
    verb = task_verb(instruction)
    if verb in QUESTION_WORDS or verb == "whether":  # "(I was) wondering whether ...": a question as a statement
        return QUESTION, None
    if verb in _NOT_TASKS:  # "Thank you doctor, ...": a patient's message, not a task
        verb = None
    if verb is None:
        verb = _plain_imperative(tokens, instruction)
        if verb is None:
            return (QUESTION, None) if instruction.rstrip().endswith("?") else (None, None)
    try:
        start = tokens.index(verb) + 1
    except ValueError:
        return verb, None
    return verb, _head_noun(tokens[start:start + 16])


def _plain_imperative(tokens: list[str], instruction: str) -> Optional[str]:
    """The first word of "Kindly detail ...", "Talk about ...": a base-form word the categorizer does not know."""
    words = [token for token in tokens if token not in _POLITE]
    if not words or instruction.rstrip().endswith("?"):
        return None
    first = words[0]
    following = words[1] if len(words) > 1 else ""
    if not first.isalpha() or len(first) > _LONGEST_WORD or first in QUESTION_WORDS or first in _NOT_IMPERATIVES \
            or following == ",":
        return None
    if first.endswith(("ed", "ing", "s")) and not first.endswith("ss"):  # "Patient reports ...", "Having ..."
        return None
    return first


def _head_noun(words: list[str]) -> Optional[str]:
    if words and words[0] in _PARTICLES:
        words = words[1:]
    phrase = []
    for word in words:
        if word in _BOUNDARIES or not (word[0].isalnum()):
            break
        phrase.append(word)
    for position in range(len(phrase) - 1, -1, -1):
        word = phrase[position]
        if word in _DETERMINERS or word in _PRONOUNS or word in _NUMBER_WORDS or word in QUESTION_WORDS \
                or word in _NOT_HEADS or word[0].isdigit() or len(word) > _LONGEST_WORD or word in _POLITE:
            continue  # "my rash please", "tell me more"
        if word.endswith("ly"):
            continue
        # A participle closing the phrase ("the note provided") is passed over; after a determiner or an
        # adjective it is the noun itself ("the current understanding").
        before = phrase[position - 1] if position else ""
        if word.endswith(("ed", "ing")) and position == len(phrase) - 1 and position > 0 \
                and before not in _DETERMINERS and before not in _NOT_HEADS:
            continue
        return word.rstrip("'’")
    return None
