"""Categories: deterministic rules standing in for the paper's GPT-4 labels (documented in README.md).

The loading script assigns every record its category with `categorize`; the configs of the category
subsets are cut by it. Nothing here imports `datasets`.
"""

import contextlib
import functools
import re
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from bioinstruct_tools import category_model, decision_cache, records, workers
from bioinstruct_tools.records import has_real_input

# The paper's four categories (assigned there by GPT-4) and their published shares of the full set.
CATEGORIES = ("extraction", "generation", "qa", "other")
PAPER_SHARES = {"extraction": 0.338, "generation": 0.335, "qa": 0.228, "other": 0.100}
CATEGORY_DESCRIPTIONS = {
    "extraction": "information extraction: pull entities, facts or spans out of a given text",
    "generation": "text generation: write, summarize, rewrite, translate or simplify text",
    "qa": "question answering: answer or explain a biomedical question",
    "other": "other tasks: classify, rate, rank, calculate, convert units, judge",
}

_EXTRACTION_VERBS = frozenset(
    "extract identify list find highlight locate detect recognize recognise spot pick pull annotate tag mark "
    "underline enumerate retrieve isolate capture mention point flag circle code map normalize normalise link "
    "name select gather collect track note quote cite excerpt harvest mine scan search parse index catalog catalogue "
    "inventory copy segment return pinpoint".split()
)
_GENERATION_VERBS = frozenset(
    "summarize summarise write generate compose draft create rewrite rephrase paraphrase simplify translate "
    "transform expand elaborate develop prepare produce construct design formulate outline edit revise proofread "
    "shorten condense reformulate restate continue complete fill turn adapt tailor personalize personalise "
    "brainstorm propose suggest recommend plan craft make respond reply reword modify change improve polish "
    "correct fix document narrate educate counsel advise instruct compile present phrase frame format organize "
    "organise structure provide give offer share convert prescribe role-play roleplay devise invent author pen jot script "
    "caption title recast rework restructure reorganize reorganise retell abridge synthesize synthesise simulate reassure comfort notify remind "
    "invite thank apologize apologise congratulate persuade convince motivate encourage greet welcome".split()
)
_QA_VERBS = frozenset(
    "answer explain describe discuss define clarify elucidate state tell solve diagnose interpret compare "
    "contrast justify predict outline choose infer deduce reason conclude think draw illustrate detail "
    "shed recount characterize characterise expound talk reflect weigh hypothesize hypothesise speculate argue "
    "debate defend prove demonstrate relate trace investigate explore recall emphasize emphasise".split()  # "shed light on"
) - _GENERATION_VERBS
_OTHER_VERBS = frozenset(
    "classify categorize categorise determine decide assess evaluate rate rank sort order arrange grade score "
    "calculate compute estimate quantify count tally measure match pair triage prioritize prioritise verify check judge "
    "label distinguish differentiate group cluster filter screen stratify assign sum tabulate shortlist approve reject "
    "validate audit appraise standardize standardise round".split()
)
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were does do did can could should would will may "
    "might has have must whether whats what's how's who's where's wht wat waht whta hw".split()
)
_TASK_WORDS = _QUESTION_WORDS | _EXTRACTION_VERBS | _GENERATION_VERBS | _QA_VERBS | _OTHER_VERBS
_PLAIN_LANGUAGE_VERBS = _GENERATION_VERBS | _QA_VERBS  # "Explain ... in simple terms" is generation
# Verbs that only set the stage ("Read the note and list ..."): the task is the next verb.
_STAGE_VERBS = frozenset("read review consider look examine analyze analyse study see go take use refer".split())

_LEAD_IN = re.compile(
    r"^(?:(?:edit|update|eta|ps|re|tl;?dr|original\s+post|background|context)\s*\d*\s*:\s*"  # a forum post's labels
    # courtesy to the reader, not a task ("Thank you doctor, my son ..."; "Thank the patient ..." is one)
    r"|(?:thank\s+you|thanks)(?:\s+(?:so|very|much|in|advance|a\s+lot|doctor|doc|sir|madam|ma'am))*\s*[,.!-]*\s*"
    r"|(?:please|kindly|now|next|then|also|finally|first|briefly|carefully|concisely)\b[\s,]*"
    r"|(?:can|could|would|will)\s+you\s+(?:please\s+)?"
    r"|(?:i\s+would|i'd|it\s+would\s+be)\s+(?:appreciate\s+it|be\s+grateful|grateful|great|helpful)\s+if\s+you\s+"
    r"(?:could|would|can)\s+"
    r"|(?:i\s+(?:want|need|would\s+like)\s+you\s+to|i'?d\s+like\s+you\s+to|help\s+me(?:\s+to)?|your\s+task\s+is\s+to|the\s+task\s+is\s+to"
    r"|you\s+(?:will|should|must|need\s+to|are\s+asked\s+to|are\s+to)|let'?s|try\s+to|be\s+sure\s+to)\s+"
    r"|(?:given|based\s+on|using|from|in|for|according\s+to|considering|with|upon|after|before|by|referring\s+to"
    r"|regarding|concerning|if|when|while|assuming|suppose|supposing|as|among|within|looking\s+at|taking|under"
    r"|here\s+is|below\s+is|without|following)\b[^,:;]{0,200}[,:;]\s*)",
    re.I,
)
_WOULD_YOU_MIND = re.compile(r"^(?:please\s+|kindly\s+)?(?:would|do)\s+you\s+mind\s+(?P<gerund>[a-z]+ing)\b", re.I)
_AS_ROLE_LEAD_IN = re.compile(r"as\s+an?\b[^,]*,", re.I)
_GERUNDS = {"writing": "write", "drafting": "draft", "composing": "compose", "describing": "describe",
            "explaining": "explain", "answering": "answer", "summarizing": "summarize", "asking": "ask"}
_ROLE_TASK = re.compile(r"\b(?:and|then)\s+(?P<task>\w.*)|\b(?P<gerund>" + "|".join(_GERUNDS) + r")\b", re.I)
_ROLE_SENTENCE = re.compile(r"^(?:you\s+are|you're|imagine|pretend|act\s+as|assume\s+the\s+role|as\s+an?\b)", re.I)
# Phrasal verbs and idioms that state a task with another word ("Throw light on ..." is "explain").
_PHRASAL_VERBS = tuple((re.compile(pattern, re.I), verb) for pattern, verb in (
    (r"^let\s+(?:me|us)\s+know\b(?!\s+which\b)", "tell"), (r"^(?:throw|shed)\s+(?:some\s+)?light\s+(?:up)?on\b", "explain"),
    (r"^brief\s+me\s+(?:on|about)\b", "explain"), (r"^walk\s+me\s+through\b", "explain"),
    (r"^guide\s+me\s+(?:on|through|about)\b", "explain"), (r"^share\s+(?:your\s+)?(?:thoughts|views)\b", "discuss"),
    (r"^make\s+a\s+comparison\b", "compare"), (r"^put\s+together\b", "compose"), (r"^(?:note|jot)\s+down\b", "write"),
    (r"^write\s+down\b", "list"), (r"^spell\s+out\b", "extract"), (r"^furnish\b", "provide"),
    (r"^work\s+out\b", "calculate"), (r"^figure\s+out\b", "determine"),
    (r"^(?:say|tell\s+(?:me|us)|let\s+(?:me|us)\s+know)\s+which\b", "identify"), (r"^say\s+what\b", "identify"), (r"^say\s+(?:whether|if)\b", "determine"),
    (r"^(?:enlighten|educate|teach)\s+(?:me|us)\b", "explain"), (r"^go\s+over\b(?!.*\b(?:and|then)\b)", "explain"),
    (r"^put\s+forward\b", "propose"), (r"^dumb\s+(?:[\w'-]+\s+){0,3}?down\b", "simplify"),
    (r"^(?:respond|reply)\s+to\s+(?:this|the|a|these|the\s+following)\s+(?:exam\s+|quiz\s+|test\s+)?questions?\b"
     r"(?!\s+from\s+(?:an?|the|my|your)\s+(?:[\w'-]+\s+)?(?:parent|patient|mother|father|relative|carer|family|client)s?\b)",
     "answer"),  # answering a lay person is writing them a reply: generation
    (r"^(?:i\s+)?need\s+help\s+(?:with\s+)?(?:writing|drafting|composing|wording)\b", "write"), (r"^(?:fish|dig)\s+out\b", "extract"),
    (r"^put\s+(?:[\w'-]+\s+){0,4}?in\s+(?:order|sequence|rank\s+order)\b", "order"),
    # "Help a patient make sense of ...": advising someone, in words they follow
    (r"^help\s+(?:an?|the|your|my|this)\s+(?:[\w'-]+\s+){0,2}?(?:understand|make\s+sense|learn|cope|prepare|decide)\b",
     "advise"), (r"^come\s+up\s+with\b", "generate"),
    (r"^i\s+(?:want|would\s+like|need|wish)\s+to\s+(?:know|understand|learn)\b", "explain"),
    # "(I) wanted to check whether ...", "Was wondering if ...": a question put as a statement
    (r"^(?:i\s+)?(?:(?:wanted|want|would\s+like|need)\s+to\s+(?:check|ask|know|find\s+out|see)|(?:was|am|i'm)\s+"
     r"wondering|wonder(?:ing)?)\s+(?:whether|if)\b", "whether"),
    (r"^i\s+(?:want|would\s+like|need)\s+(?:an?|the|some)\b", "provide"),
))
_PHRASAL_AFTER_STAGE = tuple((re.compile(r"^\w+\b[^.;:]*?\b(?:and|then)\s+" + phrase.pattern.lstrip("^"), re.I), verb)
                             for phrase, verb in _PHRASAL_VERBS)
# Each list as one alternation, tried once a clause: the first alternative that matches is the one the list
# order puts first, as a loop over the list would find (nothing follows the alternation to backtrack into).
_ANY_PHRASAL_VERB, _ANY_PHRASAL_AFTER_STAGE = (
    re.compile("|".join(f"(?P<p{index}>{phrase.pattern})" for index, (phrase, _) in enumerate(phrases)), re.I)
    for phrases in (_PHRASAL_VERBS, _PHRASAL_AFTER_STAGE))


def _phrasal_verb(combined: re.Pattern, clause: str) -> Optional[str]:
    """The verb the first phrase of a list that matches `clause` stands for, or None."""
    match = combined.match(clause)
    return _PHRASAL_VERBS[int(match.lastgroup[1:])][1] if match else None


_WORD = re.compile(r"[a-z][a-z'-]*")
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")

_SOURCE_NOUNS = (
    r"text|passage|paragraph|sentences?|notes?|reports?|abstracts?|articles?|documents?|records?|summary|excerpt|"
    r"statements?|case|transcript|conversation|dialogue|dialog|description|list|prescriptions?|letter|messages?|"
    r"input|data|table|results?|history|narrative|snippet|tweet|post|scenario|vignette|chart|study|paper|label|"
    r"findings|information|content|section|entry|entries|question|options|choices|email|summaries|instructions|"
    r"sample|example|query|phrase|words?|terms?|output|details"
)
# Matched against lowercased text, without re.I (three times faster; every literal in it is lowercase).
_REFERS_TO_SOURCE = re.compile(
    rf"\b(?:following|given|provided|above|below|this|these|attached|accompanying|preceding|included|enclosed|"
    rf"supplied|presented|patient's|shared)\s+(?:[\w'-]+\s+){{0,3}}?(?:{_SOURCE_NOUNS})\b|\b(?:in|from)\s+the\s+"
    rf"(?:[\w'-]+\s+){{0,2}}?(?:{_SOURCE_NOUNS})\b"
)
_EXTRACTION_TARGET = re.compile(
    r"\b(?:mentioned|listed|described|reported|noted|documented|stated|present|found|contained|referenced|cited|"
    r"discussed|recorded|included|prescribed|appear|appears|report|reports|describe|describes|mention|mentions|"
    r"list|lists)\b(?:\s+\w+){0,2}\s+(?:in|within|by|on|throughout)\b",
    re.I,
)
_LAY_READERS = (r"patients?|layperson|laypeople|schoolchild(?:ren)?|schoolkids?|pupils?|kindergarteners?|preschoolers?|toddlers?|lay\s+(?:people|persons?|readers?|audience)|child|children|kids?|family|families|"
                r"parents?|mother|father|relatives?|carers?|caregivers?|diabetic|smoker|woman|man|teenagers?|adolescents?|"
                r"clients?|spouse|husband|wife|friend|customers?|public|beginners?|non-?experts?|non-?specialists?|"
                r"\d+-year-old")  # not "students": a pharmacology student is no lay reader
# Readers that "for ..." names as an audience: one reader with an article ("for a child", "for the family"), or
# lay readers in general ("for laypeople", "for parents"); "for children" or "for a patient with fever" is a case.
_FOR_LAY_READER = (r"\bfor\s+(?:an?|the|your)\s+(?:[\w'’-]+\s+){0,2}?(?:layperson|child|kid|family|caregiver|carer|parent|"
                   r"relative|teenager|beginner|non-?expert|non-?specialist|(?:[1-9]|1[0-7])-year-old)\b(?!['’]s)"
                   r"(?!\s+(?:with|who|man|woman|boy|girl|patient|male|female|child|infant)\b)"
                   r"|\bfor\s+(?:laypeople|lay\s+(?:people|persons|readers|audiences?)|non-?experts|non-?specialists|beginners|"
                   r"(?:the\s+)?(?:general\s+)?public|parents|caregivers|carers|families|relatives|grandparents|ordinary\s+"
                   r"(?:readers|people))\b")
# Matched against lowercased text, without re.I: three times faster, and every literal in it is lowercase.
# Writing for a lay reader: plain or simple words, no jargon, a reader named as lay ("for a worried parent",
# "to the general public", "someone with no medical training", "a teenager could follow", "ELI5").
_PLAIN_LANGUAGE = re.compile(
    r"\b(?:(?:in|using|with)\s+(?:very\s+)?(?:simple|simpler|plain|everyday|easy|clear|basic|lay(?:man'?s|men'?s|person'?s)?|"
    r"non-?technical|non-?medical|patient-friendly|child-friendly|understandable|accessible)\s+(?:english\s+|"
    r"language\s+|words\s+|terms\s+)?(?:terms|words|language|english|way|manner|explanation)"
    r"|simply|(?:plain|simple|lay)[- ](?:language|english|words)|lay|layman'?s?|simpler|non-?scientific|non-?clinical"
    # "simple" and "plain" alone, but not as part of a medical term ("a simple partial seizure", "a plain film")
    r"|simple(?!\s+(?:examples?|terms?\s+of|partial|febrile|fractures?|cysts?|sugars?|carbohydrates?|diffusion|"
    r"squamous|columnar|cuboidal|mastectomy|pneumothorax|goit(?:re|er)|harmonic|random|linear|majority))"
    r"|plain(?![- ](?:film|radiographs?|x-?rays?|abdominal|ct)\b)|laymen'?s?|layperson'?s?|lay\s+(?:terms|language|audience|readers?|people|persons?)|everyday|"
    r"non-?technical|non-?medical|easy[- ]to[- ]understand|understandable|jargon|dumb(?:ed)?\s+(?:it\s+|this\s+)?down|"
    r"non-?(?:doctors|clinicians|scientists|medics|professionals|experts|specialists)|"
    # "patient-friendly language", not "the patient-friendly features of the pen"
    r"(?:patient|child|reader|user)-friendly\s+(?:language|terms|way|manner|explanation|words|version|format|summary|text)|"
    r"accessible\s+(?:overview|explanation|summary|introduction|account|language|way)|members\s+of\s+the\s+public|"
    r"(?:as\s+if|like)\s+(?:you'?re\s+|you\s+are\s+|you\s+were\s+)?(?:talking|speaking|explaining\s+it)\s+to\s+(?:an?|the|your|my)|"
    r"eli5|like\s+i'?m\s+(?:five|5|a\s+(?:child|kid))|non-?specialists?|non-?experts?|general\s+(?:public|audience|readers?)"
    r"|(?:high|middle|primary|elementary)\s+school\s+(?:students?|pupils?|children|kids)"
    r"|(?:no|without(?:\s+an?)?|little)\s+(?:medical|scientific|science|clinical|health(?:care)?|biology)\s+(?:background|training|"
    r"knowledge|education)"
    r"|\w+-year-old\s+(?:would|could|can|will)\s+(?:understand|follow))\b"
    rf"|{_FOR_LAY_READER}"
    r"|\bin\s+(?:words|language|terms)\s+(?:that\s+)?(?:an?\s+|the\s+)?(?:[\w'’-]+\s+){0,2}?"
    r"(?:they|he|she|patients?|parents?|child|kid|teenager|layperson|reader|anyone|someone)\s+(?:can|could|will|would)\s+"
    r"(?:understand|follow|grasp)\b"
    rf"|\bto\s+(?:an?|the|your|a\s+newly\s+diagnosed)\s+(?:[\w'’]+\s+){{0,2}}?(?:{_LAY_READERS})\b(?!['’]s)"
    r"|\b(?:child|kid|kids|children|teen|teenager|layperson|patient|parent|parents|anyone|someone|grandparent|grandmother|"
    r"grandfather|son|daughter|mum|mom|dad|mother|father|wife|husband|family)\s+"
    r"(?:can|could|would|will)\s+(?:understand|follow|relate)\b"
    r"|\bso\s+(?:that\s+)?(?:an?\s+|the\s+)?(?:[\w'’-]+\s+){0,2}?(?:child|kid|patient|parent|layperson|person|anyone|someone)\s+"
    r"(?:can|could|would|will)\s+understand\b"
    r"|\bhelp\s+(?:an?|the|your|my|this|his|her|their)\s+(?:[\w'’-]+\s+){0,2}?(?:understand|make\s+sense)\b"
    r"|\bto\s+(?:somebody|someone|anyone|a\s+person|people)\b|\bfor\s+(?:somebody|someone|anyone)\s+who\b"
    r"|\bto\s+my\s+(?:grand)?(?:mother|father|parents?|mum|mom|dad|child|children|son|daughter|kids?|family|wife|husband|"
    r"friend|neighbou?r)\b(?!['’]s)"
    r"|\b(?:doesn'?t|does\s+not|don'?t|do\s+not)\s+know\s+(?:much|anything)\s+about\s+(?:medicine|health|biology|science)\b"
    r"|\bfor\s+my\s+(?:grand)?(?:mother|father|parents?|mum|mom|dad|child|children|son|daughter|kids?|family|wife|"
    r"husband)\b(?!['’]s)",

)
# A conversation, consultation or interview the assistant is asked to open, conduct or play a part in: a
# role-played text ("Engage the user in ...", "Start a dialogue with ...", "Take my history", "Interview me").
_CONVERSATION = re.compile(
    r"^(?:engage\b|converse\b|(?:start|begin|initiate|open|conduct|hold|have|carry\s+out|run|lead|simulate|role-?play|"
    r"do|continue)\s+(?:an?\s+|the\s+|my\s+|your\s+|our\s+|this\s+)?(?:[\w'’-]+\s+){0,2}?(?:conversation|consultation|"
    r"dialogue|dialog|interview|chat|session|role-?play|call)s?\b"  # not "discussion": discussing a topic is explaining it
    r"|interview\s+(?:me|us|him|her|them|the|an?|this|my)\b|take\s+(?:an?\s+|my\s+|his\s+|her\s+|their\s+)"
    r"(?:[\w'’-]+\s+){0,2}?history\b|(?:play|take\s+on)\s+(?:the\s+(?:role|part)\s+of\s+)?(?:an?|the)\s+"
    r"|ask\s+(?:me|us|the\s+[\w'’-]+|an?\s+[\w'’-]+|them|him|her)?\s*(?:[\w'’-]+\s+){0,4}?questions?\b"
    r"|ask\s+(?:me|us)\s+about\b|check\s+in\s+(?:with|on)\s+(?:me|us|the|an?|my|your)\b|simulate\b|role-?play\b"
    r"|(?:speak|talk)\s+as\s+(?:an?|the|my)\s+"  # "Answer as a cardiologist: what ...?" stays a question
    r"|(?:lead|guide|take)\s+(?:me|us)\s+through\s+(?:an?|the|my|this)\s+(?:[\w'’-]+\s+)?(?:exercise|session|routine|"
    r"meditation|practice|drill)s?\b)", re.I)
# ... or any task done as one ("walk me through my result in a conversation", "explain it as a dialogue").
_AS_CONVERSATION = re.compile(r"\b(?:in|as)\s+(?:an?\s+)(?:[\w'’-]+\s+)?(?:conversation|dialogue|dialog|role-?play)\b", re.I)
# A part the assistant is asked to play ("Be my physiotherapist and ...", "Act as my therapist"): with no other task
# verb and no question, the answer is a role-played text; "Be my doctor: when should I ...?" is a question.
_ASSISTANT_ROLE = re.compile(r"^(?:(?:be|act\s+as|serve\s+as)\s+(?:my|our)\s+[\w'’-]+|be\s+the\s+(?:patient|client|caller|"
                             r"relative|parent|candidate|examiner|interviewer|customer)\b|pretend\s+we\s+are\b)", re.I)
# Answering or replying as the patient (or another role) the assistant plays: the answer is a role-played text.
_ANSWERS_IN_ROLE = re.compile(
    r"\b(?:as\s+(?:an?|the)\s+(?:[\w'’-]+\s+){0,2}?(?:patient|client|parent|relative|applicant|student)\s+(?:would|might)"
    r"|(?:you\s+are|you're|act\s+as|play|pretend\s+(?:to\s+be|you\s+are))\s+(?:an?|the)\s+(?:[\w'’-]+\s+){0,3}?"
    r"(?:patient|client|applicant)\b(?!['’]s))", re.I)
# An interactive quiz: the assistant asks the questions ("Quiz me on ...", "Test my knowledge of ...", "Drill me"; not
# "Test your knowledge: which ...?", a quiz item for the assistant to answer) ...
_QUIZ_ME = re.compile(
    r"^(?:(?:quiz|drill|grill)\s+(?:me|us|the\s+(?:user|reader|student|learner|class|team)s?|students|learners|trainees)"
    r"|(?:test|quiz|drill|examine)\s+(?:me|us)\s+on"
    r"|(?:check|test|see|find\s+out)\s+(?:what|how\s+much)\s+(?:i|we)\s+(?:know|remember|understand)"
    r"|(?:run|take|walk)\s+(?:me|us)\s+through\s+(?:[\w-]+\s+){0,3}?(?:questions|quiz|quizzes|flash\s?cards|drills?)"
    r"|(?:fire|throw|shoot|put)\s+(?:some\s+|a\s+few\s+|\w+\s+)?questions\s+(?:at|to)\s+(?:me|us)"
    r"|(?:test|check|examine|assess|gauge|probe)\s+(?:my|our|the\s+(?:user|reader|student|learner)['’]?s?)\s+(?:knowledge|understanding|recall|"
    r"grasp)|challenge\s+(?:me|us))\b", re.I)
# ... or a quiz, flashcards or practice questions to write, set or ask, as the verb's object ("Set a short quiz",
# "Give me ten flashcards"; not "Give the answer to the following quiz").
_QUIZ_NOUNS = re.compile(r"\b(?:quiz|quizzes|flash\s?cards?|(?:practice|case-based|mock|review)\s+questions?|scenarios?|(?:multiple|single)[- ]choice\s+"
                         r"questions|mcqs?|exam\s+questions|test\s+questions|review\s+questions|(?:clinical\s+)?"
                         r"vignettes)\b", re.I)
_QUIZ_SETTING_VERBS = frozenset("write create make give set prepare design build generate compose develop provide "
                                "draft construct devise pose ask produce craft".split())
# "Take the history into account": not taking a history.
_NOT_CONVERSATION = re.compile(r"^take\s+(?:[\w'’-]+\s+){0,3}?history\s+into\s+account\b", re.I)
# Asking for lay words in a clause of its own ("ELI5:", "In plain English, please.").
_LAY_REQUEST = re.compile(r"\b(?:eli5|like\s+i'?m\s+(?:five|5)|simple\s+enough|(?:keep|make)\s+(?:it|this|that|the\s+[\w-]+)\s+"
                          r"(?:simple|easy|short\s+and\s+simple)|(?:in|using)\s+(?:simple|plain|layman'?s|lay|everyday)\s+"
                          r"(?:terms|words|language|english)|(?:without|avoid(?:ing)?|no)\s+(?:medical\s+|technical\s+)?"
                          r"jargon)\b", re.I)
# A text of a named written form, asked for or to be written in ("in a 500-word essay", "as a guide for patients",
# "Provide a step-by-step guide", "for a school brochure"): writing it, whatever the verb.
_WRITTEN_FORMS = (r"essays?|guides?(?![-\s]?wires?)|guidebook|articles?|blogs?|blog\s+posts?|brochures?|pamphlets?|"
                  r"leaflets?|handouts?|fact\s?sheets?|newsletters?|op-?eds?|posters?|infographics?|booklets?|tutorials?|"
                  r"explainers?|cheat\s?sheets?|how-to|walkthroughs?|(?:opinion|informative|short|news|feature)\s+pieces?|"
                  r"editorials?|commentar(?:y|ies)|magazine\s+(?:features?|articles?|pieces?)|web\s?pages?|websites?|"
                  r"listicles?|(?:information|summary|fact)\s+sheets?")  # not "primer": in a lab, a primer is DNA
# What every match of `_IN_WRITTEN_FORM` holds, tried first: a substring test costs a fraction of the pattern.
_WRITTEN_FORM_STEMS = ("essay", "guide", "article", "blog", "brochure", "pamphlet", "leaflet", "handout", "fact", "newsletter",
                       "op", "poster", "infographic", "booklet", "tutorial", "explainer", "cheat", "how-to", "walkthrough",
                       "piece", "editorial", "commentar", "magazine", "web", "listicle", "sheet")
_IN_WRITTEN_FORM = re.compile(
    rf"\b(?:in|as)\s+(?:an?\s+)?(?:essay|article|guide|blog|leaflet|brochure|pamphlet|handout)\s+(?:form|format|style)\b"
    rf"|\bformatted\s+as\s+(?:an?\s+)?(?:[\w'’-]+\s+){{0,2}}?(?:{_WRITTEN_FORMS})\b"
    rf"|\b(?:in|as|into|for|in\s+the\s+form\s+of|in\s+the\s+style\s+of|written\s+as)\s+(?:an?\s+|one\s+|a\s+short\s+|"
    rf"your\s+|our\s+|my\s+)(?:[\w'’-]+\s+){{0,3}}?(?:{_WRITTEN_FORMS})\b"
    rf"|^\w+(?:\s+(?:up|together|out))?\s+(?:me\s+|us\s+)?(?:an?\s+|one\s+|your\s+)(?:[\w'’-]+\s+){{0,3}}?"
    rf"(?:{_WRITTEN_FORMS})\b", re.I)
_WHETHER = re.compile(r"^\w+\s+(?:\w+\s+){0,3}?(?:whether|if)\b|\b(?:true\s+or\s+false|yes\s+or\s+no)\b", re.I)
_CLASS_TARGET = re.compile(
    r"^\w+\s+(?:the\s+|each\s+|this\s+|its\s+)?(?:\w+\s+){0,2}?(?:type|category|class|stage|severity|grade|level|"
    r"risk|priority|urgency|sentiment|polarity|acuity|triage)\s+(?:of|for)\b",
    re.I,
)
_UNIT_CONVERSION = re.compile(
    r"\b(?:mg|mcg|kg|lbs?|pounds?|ounces?|grams?|ml|mmol|mg/dl|mmol/l|units?|celsius|fahrenheit|inches|cm|feet|"
    r"dose|dosage|bmi|teaspoons?|tablespoons?|milli(?:liters?|litres?|grams?)|micrograms?|kilo(?:grams?|meters?)|"
    r"liters?|litres?|degrees?|weight|height|temperature)\b",
    re.I,
)
# Asking what a given text says, not what follows from it: extraction, when the text is given.
_ASKS_WHAT_TEXT_SAYS = re.compile(
    r"\b(?:according\s+to|based\s+on|from|in|per|using)\s+(?:the|this|these|her|his)\s+(?:[\w'-]+\s+){0,2}?(?:notes?|records?|"
    r"chart|reports?|summary|passage|text|orders?|messages?|transcript|conversation|dialogue|abstract|letter|label|history|timeline|"
    r"paperwork|documents?|forms?|list|guide|guidelines?|leaflet|handout|pamphlet|brochure|article|essay|insert)\b"
    r"|\b(?:does|do|did)\s+the\s+(?:[\w'-]+\s+){0,2}?(?:note|record|report|summary|passage|text|radiologist|author|"
    r"message|insert|leaflet|label|guide|guideline|article|letter|handout)\s+(?:say|mention|report|recommend|list|state|"
    r"describe|document)",
    re.I,
)
# A judgement on a given item ("Is this injury prerenal or intrinsic?"): other.
# Whether a given text supports, refutes or entails a claim ("Does the sentence support ...? Answer yes, no or maybe"):
# a judgement on a given item, as natural-language inference and PubMedQA-style tasks ask.
_SUPPORTS_CLAIM = re.compile(r"^(?:does|do|did|is|are)\s+(?:the|this|these|each)\s+(?:[\w-]+\s+){0,2}?(?:sentence|statement|"
                             r"text|passage|abstract|evidence|study|trial|finding|result|premise)s?\s+(?:support|contradict|"
                             r"refute|imply|entail|confirm|prove|consistent)|\byes,?\s+no,?\s+or\s+maybe\b", re.I)
_JUDGES_GIVEN_ITEM = re.compile(r"^(?:is|are)\s+(?:this|these|the\s+following|each|the\s+(?:[\w-]+\s+){1,4}?(?:in|of|on)"
                                r"\s+(?:this|these|the\s+following))\b", re.I)
# What follows from a case: diagnosis, cause, culprit. Answering that is question answering.
_DIAGNOSTIC = re.compile(
    r"\b(?:likely|probable|underlying)\s+(?:[\w-]+\s+){0,2}?(?:diagnosis|cause|condition|organism|pathogen|disease|"
    r"etiology|tumou?r|lesion|toxin|drug|medication|culprit)\b|\bwhat\s+(?:condition|disease|diagnosis)\b"
    r"|\bwhat\s+(?:is\s+)?caus(?:ing|ed)\b"
    r"|\b(?:nerve|artery|vessel|organism|structure|enzyme|vitamin|gene|muscle|bone)\s+(?:that\s+)?(?:is|was)\s+"
    r"most\s+likely\b",
    re.I,
)
# Choosing a treatment or a test for a case ("decide which antibiotic to prescribe"): question answering.
_WHICH_TREATMENT = re.compile(r"^\w+\s+(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:antibiotics?|drugs?|medications?|"
                              r"medicines?|treatments?|therapy|tests?|investigations?|imaging|management)\s+(?:to\s+"
                              r"(?:prescribe|give|start|use|order|try|recommend)|should|would|is\s+(?:best|indicated|"
                              r"appropriate|preferred))\b", re.I)
_WHICH_RANKS = re.compile(r"\bwhich\s+(?:of\s+)?(?:the\s+)?[\w-]+\s+(?:is|are|has|have)\s+(?:at\s+)?(?:the\s+)?"
                          r"(?:highest|lowest|most|least|greatest|best|worst)\b", re.I)
_MEASURE_TARGET = re.compile(
    r"^\w+\s+(?:the\s+|this\s+|a\s+)?(?:[\w-]+\s+){0,3}?(?:class|level|score|stage|grade|category|area|index|gap|"
    r"clearance|ratio|volume|severity|acuity)\b",
    re.I,
)
_ASKS_FOR_QUESTIONS = re.compile(r"^\w+\s+(?:[\w-]+\s+){0,3}?questions\b", re.I)
# Questions for someone to ask: writing them, even about a given text ("List questions you would ask ...").
_QUESTIONS_TO_ASK = re.compile(r"\bquestions?\s+(?:to\s+ask|(?:that\s+)?(?:you|a\s+patient|the\s+patient|i|they|"
                               r"parents?|families)\s+(?:would|should|could|might|can|may)\b|for\s+(?:the|your|a)\s+"
                               r"(?:doctor|physician|surgeon|nurse|pharmacist))", re.I)
# A patient's own message: first person, perhaps after a greeting ("Hello doctor, my son has ...").
_PATIENT_VOICE = re.compile(
    r"^(?:(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|doctor|doc|sir|madam|ma'am|thank\s+you|thanks|"
    r"in\s+advance)\b[\s,.!]*)*"
    r"(?:i|i'm|im|i've|i'd|i'll|my|me|we|we're|our|since\s+my|after\s+my)\b", re.I)
# A plea that closes a patient's message ("... kindly advise", "please suggest something", "need help").
_PLEA = re.compile(r"\b(?:advise|advice|suggest|guide|help|recommend)\b(?:\s+\w+){0,2}\W*$", re.I)
# A message about one's health with no task verb: symptoms, results, medicines, ages ("28 F, missed period").
_HEALTH_TALK = re.compile(
    r"\b(?:pain|pains|ache|aches|aching|fever|cough\w*|rash|itch\w*|swell\w*|swollen|vomit\w*|nause\w*|headache|"
    r"dizz\w*|bleed\w*|blood|bp|sugar|period|periods|pregnan\w*|tired|fatigue|sore|burning|numb\w*|tingl\w*|lump|"
    r"diarrh\w*|constipat\w*|breath\w*|sleep\w*|anxi\w*|depress\w*|results?|diagnosed|diabetic|mg|tablets?|pills?|"
    r"shot|injection|symptoms?|yrs?|years?\s+old|months?\s+old|\d+\s*[mf]|feeling|mood|bit|bitten|bite|wound|"
    r"injur\w*|thirst\w*|pee\w*|urinat\w*|hurts?|heel|stomach|chest|throat|skin|ears?|eyes?|face|vision|ringing|"
    r"droop\w*|chemo\w*|temperature|seizures?|faint\w*|cramps?|bruis\w*|weight|inr|dose|levels?|readings?)\b", re.I)
_HOW_WOULD_YOU_SAY = re.compile(r"\bhow\s+would\s+you\s+(?:respond|reply|say|word|phrase|tell|break|counsel|reassure|"
                                r"talk)\b"
                                # "How would you explain a DNR order to a patient's family?": the words for someone
                                r"|\bhow\s+(?:would|should|could)\s+(?:you|i|we)\s+(?:explain|describe|communicate|convey)\b"
                                r"(?=[^?]*\bto\s+(?:an?|the|your|his|her|their|my)\s)", re.I)
_COMPARES = re.compile(r"^\w+\s+(?:between\b|(?:the\s+)?(?:main\s+|key\s+)?(?:differences?|similarities)\s+"
                       r"(?:between|of)\b)", re.I)
# What follows from a case, asked with "which" ("identify which vitamin is deficient"): question answering.
_WHICH_FROM_CASE = re.compile(
    r"^\w+\s+(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:disorder|disease|condition|diagnosis|organism|pathogen|"
    r"vitamin|deficiency|cause|syndrome|enzyme|nerve|artery|hormone|electrolyte|infection|toxin)s?\b", re.I)
# Texts one writes: what a plan, leaflet or letter is asked for with is a writing task.
_WRITTEN_NOUNS = "plan|program|programme|schedule|regimen|routine|checklist|leaflet|handout|letter|poem|story"
# A plan, programme, leaflet or letter asked for by a describing verb ("Detail a diet plan"): writing it.
# A cloze ("Fill in the missing medication", "Complete the blank"): a question answered from knowledge.
_CLOZE = re.compile(r"^(?:fill\s+in|fill|complete|supply)\s+(?:the\s+|each\s+)?(?:blanks?|gaps?|missing\s+(?:word|words|term|terms|"
                    r"drug|drugs|medication|medications|value|values|number|letters?|names?|answer|entity|entities)"
                    r"|(?:[\w-]+\s+){0,2}?blanks?)\b", re.I)
_WRITTEN_PRODUCT = re.compile(
    rf"^\w+\s+(?:an?\s+|the\s+|your\s+)?(?:[\w'-]+\s+){{0,3}}?(?:{_WRITTEN_NOUNS}|email|message)\b", re.I)
_QUESTION_ANYWHERE = re.compile(r"\b(?:what|why|how|which|should\s+i|can\s+i|is\s+it|is\s+that|is\s+this)\b", re.I)
# "Provide a ...", "Give an ...": the noun decides what is asked for.
_REQUEST_VERBS = frozenset("provide give offer share".split())
_REQUESTED_QA = re.compile(
    r"\b(?:answer|account|explanation|definition|description|reason|rationale|justification|interpretation|diagnos[ie]s|overview|"
    r"opinion|views|thoughts|meanings?|"
    r"differential|mechanism|cause|causes|dosage|dose)\b",
    re.I,
)
_REQUESTED_OTHER = re.compile(
    r"\b(?:classification|category|label|rating|score|ranking|estimate|calculation|grade|triage)\b", re.I
)
_REQUESTED_LIST = re.compile(r"^\w+\s+(?:me\s+)?(?:a|an|the)?\s*(?:\w+\s+)?(?:list|bulleted list|enumeration)\b", re.I)


# With no known task verb, what is asked for decides (see `_by_content`).
_ASKS_FOR_JUDGEMENT = re.compile(
    r"\b(?:classif\w*|categori[sz]\w*|scores?|scoring|rating|rate|rank\w*|triage|sentiment|polarity|priority|"
    r"true\s+or\s+false|yes\s+or\s+no|convert\w*|conversion)\b|\bin(?:to)?\s+(?:celsius|fahrenheit|kilograms|pounds|"
    r"grams|milligrams|millilitres|milliliters|mmol/l|mg/dl)\b", re.I)
_WRITTEN_TEXT = re.compile(
    rf"\b(?:{_WRITTEN_NOUNS}|brochure|poster|e-?mail|script|essay|blog|slogan|dialogue|summary|vignette|quiz|menu|"
    r"recipe)s?\b", re.I)
_MIN_TOPIC_WORDS = 3

# "What score does this newborn get?", "What is the stage of this tumour?": a judgement on a given item.
_ASKS_SCORE = re.compile(r"^(?:what|which)\s+(?:is\s+(?:the|its|this|their)\s+)?(?:[\w-]+\s+)?(?:score|grade|class|stage|"
                         r"category|priority|triage\s+(?:category|level|colou?r))\b", re.I)
# Words that are nouns before "of" at the start of a clause ("List of my meds", "Summary of the trial").
_NOUNS_BEFORE_OF = frozenset("list summary outline review copy record note report sample index inventory catalog "
                             "catalogue plan draft sketch map tally score description".split())
# Asking about one's own health in the imperative ("Evaluate my symptoms", "Suggest what I should eat"):
# a patient's question. Writing verbs stay generation ("Write a letter for my employer").
_OWN_HEALTH = re.compile(r"^\w+[\s,]+(?:[\w'’-]+\s+){0,8}?(?:my|i|i'm|i've|myself|our)\b", re.I)
_ADVICE_VERBS = frozenset("check evaluate assess determine rate judge recommend suggest advise explain tell identify "
                          "compare interpret diagnose estimate predict decide".split())
# "Which of these patients is eligible ...": a judgement on given items.
_WHICH_QUALIFIES = re.compile(r"\bwhich\s+(?:of\s+)?(?:these\s+|the\s+)?(?:[\w-]+\s+){0,2}?(?:is|are)\s+(?:eligible|"
                              r"suitable|fit|contraindicated|at\s+(?:the\s+)?(?:highest|greatest|lowest)\s+risk)\b", re.I)
# "Tell me whether each statement is true or false": a judgement.
_TRUE_OR_FALSE = re.compile(r"\b(?:true\s+or\s+false|correct\s+or\s+incorrect|right\s+or\s+wrong|fact\s+or\s+myth)\b",
                            re.I)

_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r" ?\n\s*")
_MAX_LEAD_INS = 8  # stacked lead-ins stripped at most; real instructions stack two or three


def _normalize_whitespace(text: str) -> str:
    """Every run of white space as one space, or one newline if it holds one.

    With single white-space characters between words, no pattern below can match a run of spaces in
    more than one way, which keeps every regex of the categorizer linear in the text's length.
    """
    if "\n" not in text:  # the common case; str.split and the regexes' \s agree on what is white space
        return " ".join(text.split())
    return _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()


def _base_form(gerund: str) -> str:
    """"scoring" -> "score", "ranking" -> "rank", "mapping" -> "map": the task word a gerund stands for."""
    stem = gerund[:-3]
    for candidate in (stem, stem + "e", stem[:-1]):
        if candidate in _TASK_WORDS:
            return candidate
    return gerund


def _task_clauses(text: str) -> Iterator[str]:
    """Each clause that may state the task, from where its task would start: lead-ins ("Please, based on the
    note,") stripped, a polite gerund made a verb, a role sentence cut to its task or skipped."""
    for clause in _CLAUSE_SPLIT.split(text):
        polite = _WOULD_YOU_MIND.match(clause)  # "Would you mind scoring ...": the gerund is the task
        if polite:
            clause = _base_form(polite.group("gerund").lower()) + clause[polite.end():]
        if _ROLE_SENTENCE.match(clause) and not _AS_ROLE_LEAD_IN.match(clause):
            # "Act as a nurse and write ...": the task follows "and"; "Pretend you are a patient
            # writing a letter": it is a gerund. Otherwise the sentence only sets the stage.
            task = _ROLE_TASK.search(clause)
            if task is None:
                continue
            clause = task.group("task") or _GERUNDS[task.group("gerund").lower()]
        yield _without_lead_ins(clause)


def _without_lead_ins(clause: str) -> str:
    for _ in range(_MAX_LEAD_INS):  # strip stacked lead-ins: "Please, based on the note, ..."
        stripped = _LEAD_IN.sub("", clause, count=1)
        if stripped == clause:
            break
        clause = stripped
    return clause


def _task_verb(text: str) -> Optional[str]:
    """The verb (or question word) that states the task: the first one found, clause by clause."""
    return _first_verb(_clause_verbs(text))


def _clause_verbs(text: str) -> list[tuple[str, Optional[str]]]:
    """Each task clause (`_task_clauses`) with the task verb it states, if any: read once, for every rule."""
    return [(clause, _clause_verb(clause)) for clause in _task_clauses(text)]


def _first_verb(clause_verbs: list[tuple[str, Optional[str]]]) -> Optional[str]:
    return next((verb for _, verb in clause_verbs if verb), None)


def _clause_verb(clause: str) -> Optional[str]:
    words = _WORD.findall(clause.lower())
    verb = _phrasal_verb(_ANY_PHRASAL_VERB, clause)
    if verb:
        return verb
    if words and words[0] in _STAGE_VERBS:  # "Read the note and say which ...": after the stage is set
        verb = _phrasal_verb(_ANY_PHRASAL_AFTER_STAGE, clause)
        if verb:
            return verb
    if len(words) > 1 and words[1] == "of" and words[0] in _NOUNS_BEFORE_OF:
        return None  # "List of my meds below.": a heading, not a task
    if words in (["answer"], ["question"], ["task"]):
        return None  # "Using the note, answer: what ...?": the question that follows is the task
    # The first word, or, after a stage-setting verb, a verb joined by "and", "then" or "to".
    for position, word in enumerate(words[:12]):
        if word in _STAGE_VERBS:
            continue
        if position > 0 and words[position - 1] not in ("and", "then", "to"):
            continue
        if word in _TASK_WORDS:
            return word
    return None


def _rest_from(text: str, verb: str) -> str:
    """The instruction from its task verb on; a phrasal verb ("work out") reads as the verb it stands for."""
    lowered = text.lower()
    if verb in lowered:
        return text[lowered.find(verb):]
    for phrase, stands_for in _PHRASAL_VERBS:
        found = re.search(r"\b" + phrase.pattern.lstrip("^"), text, re.I) if stands_for == verb else None
        if found:
            return f"{verb} {text[found.start():]}"
    return text


def _by_content(text: str, has_source: bool, source: str) -> tuple[str, str]:
    """An instruction whose task verb the rules do not know ("Talk about ...", "Devise ...", "Recount ..."):
    what it asks for decides, and `other` needs a judgement, score or conversion to be asked for."""
    if _ASKS_FOR_JUDGEMENT.search(text):
        return "other", "no known task verb; asks for a class, score, rank or conversion"
    if has_source and _EXTRACTION_TARGET.search(text):
        return "extraction", "no known task verb; asks what a given text mentions"
    if _WRITTEN_TEXT.search(text):
        return "generation", "no known task verb; asks for a plan, letter or other text to write"
    if len(_WORD.findall(text.lower())) < _MIN_TOPIC_WORDS:
        return _fallback("other", "no task verb, no question and no topic")
    return _fallback("qa", f"no known task verb; a topic to explain, {source}")


def task_verb(instruction: str) -> Optional[str]:
    """The verb or question word that states the task ("extract", "summarize", "what"), as `categorize` reads it."""
    return _task_verb(_normalize_whitespace(instruction))


def categorize(instruction: str, input: str = "") -> str:
    """Assign one of CATEGORIES to an instruction (and its input), deterministically and without a model.

    The rules read the task verb ("Extract ...", "Summarize ...", "What is ...", "Classify ...") and
    refine it by whether the task works on a given text (an input, or "the following note") and by its
    object ("in plain language", "whether ...", "the most likely diagnosis"). See README.md, "Categories".
    """
    return categorize_with_reason(instruction, input)[0]


def categorize_with_reason(instruction: str, input: str = "") -> tuple[str, str]:
    """`categorize`, with the rule that decided it, for auditing a subset (`bioinstruct categorize`).

    The rules decide. Where they only fell back on a default (`Fallback`), the word model (`category_model.py`)
    decides if it disagrees with at least `OVERRULE_AT` confidence and words that are not stop words alone; the
    reason then names both and the model's strongest words.
    Remembered: a build categorizes each record in its validation, and the loading script then asks
    again for the same texts; the second time costs a dictionary look-up, not the rules.
    """
    key = (instruction, input)
    decided = _remembered.get(key)
    if decided is None:
        decided = _remember(key, _decide(instruction, input))
    return decided


def categorize_many(pairs: Sequence[tuple[str, str]],
                    progress: Callable[[int], None] = lambda done: None) -> list[tuple[str, str]]:
    """`categorize_with_reason` of each (instruction, input) pair, in order, with `progress(done)` as they come."""
    with categorizing(pairs) as pending:
        return pending.result(progress)


@contextlib.contextmanager
def categorizing(pairs: Sequence[tuple[str, str]]) -> Iterator["Categorizing"]:
    """Start deciding the categories of `pairs`, in the background when the batch is large; `result` collects them.

    A large batch is spread over the cores (Linux: workers forked here inherit the pairs, so no text is copied
    to them; each sends back only its categories and reasons), while the caller goes on with other work. The
    decisions are the same: each worker runs the same rules and model. Leaving the block stops the workers.
    """
    pending = Categorizing(pairs)
    try:
        yield pending
    finally:
        pending.stop()


class Categorizing:
    """Categories being decided: remembered ones looked up (this process's, then the disk's), the rest by forked
    workers or, for a small batch or off Linux, here when asked."""

    def __init__(self, pairs: Sequence[tuple[str, str]]):
        self.pairs = pairs
        self._known, self._keys = _recalled(pairs)
        self._todo = [index for index, answer in enumerate(self._known) if answer is None]
        todo = [pairs[index] for index in self._todo]
        if len(todo) >= _PARALLEL_FROM:
            _decide("Warm up.", "")  # the model and every lazily imported module are loaded once, before the fork
        self._deciding = workers.ForkedMap(_decide_pair, todo, _PARALLEL_FROM, _CHUNK)

    def result(self, progress: Callable[[int], None] = lambda done: None) -> list[tuple[str, str]]:
        decided = list(self._known)
        if len(self._todo) < len(decided):
            progress(len(decided) - len(self._todo))
        answers = self._deciding.results(progress)
        for index, answer in zip(self._todo, answers):
            decided[index] = _remember(self.pairs[index], answer)
        if self._keys is not None:
            _keep_on_disk([(self._keys[index], answer) for index, answer in zip(self._todo, answers)])
        return decided

    def stop(self) -> None:
        self._deciding.stop()


def _recalled(pairs: Sequence[tuple[str, str]]) -> tuple[list[Optional[tuple[str, str]]], Optional[list]]:
    """The answers this process remembers, then the ones on disk (`decision_cache`), None for the rest; and the disk
    key of each pair this process did not remember (None: the disk cache is off, and no key is made)."""
    known = [_remembered.get(pair) for pair in pairs]
    missing = [index for index, answer in enumerate(known) if answer is None]
    if not missing or decision_cache.cache_folder() is None:
        return known, None
    keys: list[Optional[bytes]] = [None] * len(pairs)
    for index in missing:
        keys[index] = decision_cache.key_of(*pairs[index])
    with decision_cache.opened(_CACHE_NAME, _deciding_version()) as cache:
        found = cache.look_up([keys[index] for index in missing]) if cache is not None else []
    for index, answer in zip(missing, found):
        if answer is not None and answer[0] in CATEGORIES:  # anything else is not an answer of ours
            known[index] = _remember(pairs[index], answer)
    return known, keys


def _keep_on_disk(answers: list[tuple[bytes, tuple[str, str]]]) -> None:
    if answers:
        with decision_cache.opened(_CACHE_NAME, _deciding_version()) as cache:
            if cache is not None:
                cache.store(answers)


_CACHE_NAME = "categories"


@functools.cache
def _deciding_version() -> str:
    """What decides a category: these rules, the records' notion of a real input, the word model and its weights; and
    the cache's own code, which writes and reads the answers (a file it wrote another way is never read)."""
    model = Path(category_model.__file__)
    return decision_cache.version_of([Path(__file__), model, Path(records.__file__),
                                      model.parent / "resources" / category_model.MODEL_FILE,
                                      Path(decision_cache.__file__)])


_REMEMBER_AT_MOST = 1 << 21  # about a million records of a build, twice over; then memory comes first
_remembered: dict[tuple[str, str], tuple[str, str]] = {}
_PARALLEL_FROM = 8192  # below this, starting the workers costs about what they save
_CHUNK = 2048


def forget() -> None:
    """Forget every remembered decision (a bench times the rules, not the memo of its previous pass)."""
    _remembered.clear()


def _remember(key: tuple[str, str], decided: tuple[str, str]) -> tuple[str, str]:
    if len(_remembered) >= _REMEMBER_AT_MOST:
        _remembered.clear()
    _remembered[key] = decided
    return decided


def _decide_pair(pair: tuple[str, str]) -> tuple[str, str]:
    return _decide(*pair)


def _decide(instruction: str, input: str) -> tuple[str, str]:
    """The rules' answer, unless they only fell back on a default and the word model, confident, with words that
    mean something, disagrees. A cue the guideline documents is never overruled."""
    decision = rule_category(instruction, input)
    category, reason = decision
    if not isinstance(decision, Fallback):
        return category, reason
    model = category_model.predict(instruction, input)
    if category_model.overrules(model, category):
        words = category_model.evidence(instruction, input, model.category, category)
        if words:  # evidence of stop words alone ("the", "of") is no evidence: the rules' default stands
            return model.category, (f"the word model decides where the rules fall back on '{category}' ({reason}): "
                                    f"{model.category} at {model.probability:.0%}, from "
                                    + ", ".join(f"'{word}'" for word in words))
    return category, reason


class Fallback(tuple):
    """A rules' (category, reason) where no documented cue fired, only a default: the task verb's own class, a
    question word with nothing more specific, or no task verb at all. Only here may the word model decide.
    Equal to the plain tuple."""


def _fallback(category: str, reason: str) -> Fallback:
    return Fallback((category, reason))


def _style(text: str, verb: Optional[str], clause_verbs: list[tuple[str, Optional[str]]]) -> Optional[tuple[str, str]]:
    """The four styles the guideline files under generation whatever the task verb: an interactive quiz, a
    conversation or consultation to conduct, an answer given in a role, a text of a written form (an essay, a
    guide), and a later clause that asks for lay words ("What is sepsis? Answer for someone with no training.")."""
    for position, (clause, clause_verb) in enumerate(clause_verbs):
        lowered = clause.lower()
        first_word = _WORD.search(lowered)
        first = first_word.group() if first_word else ""
        if _QUIZ_ME.match(clause) or first in _QUIZ_SETTING_VERBS and _QUIZ_NOUNS.search(" ".join(clause.split()[:6])):
            return "generation", "an interactive quiz or its questions: writing them"
        if (_CONVERSATION.match(clause) or _AS_CONVERSATION.search(clause)) and not _NOT_CONVERSATION.match(clause):
            return "generation", "a conversation, consultation or interview to conduct: a role-played text"
        if clause_verb in _PLAIN_LANGUAGE_VERBS \
                and any(form in lowered for form in _WRITTEN_FORM_STEMS) and _IN_WRITTEN_FORM.search(clause):
            return "generation", f"'{clause_verb}' an essay, guide, article or leaflet: writing it"
        if position and not _PATIENT_VOICE.match(text) and (
                clause_verb in _PLAIN_LANGUAGE_VERBS and _PLAIN_LANGUAGE.search(lowered)
                or clause_verb is None and _LAY_REQUEST.search(clause)):  # a patient's "... for my son" is no audience
            return "generation", "a later clause asks for plain language or a lay reader"
    if verb in ("answer", "reply", "respond", None) and _ANSWERS_IN_ROLE.search(text):
        return "generation", "an answer in the role of a patient or client: a role-played text"
    if verb is None and "?" not in text and any(_ASSISTANT_ROLE.match(_without_lead_ins(clause))
                                                for clause in _CLAUSE_SPLIT.split(text)):
        return "generation", "a role to play, no other task: a role-played text"
    return None


def rule_category(instruction: str, input: str = "") -> tuple[str, str]:
    """The category the rules alone give, and the rule that decided it (README.md, Categories)."""
    text = _normalize_whitespace(instruction)
    clause_verbs = _clause_verbs(text)
    verb = _first_verb(clause_verbs)
    given = bool(input) and has_real_input(input)
    lowered = text.lower()
    has_source = given or bool(_REFERS_TO_SOURCE.search(lowered))
    source = "a given text" if has_source else "no text given"
    style = _style(text, verb, clause_verbs)
    if style:
        return style
    if _PATIENT_VOICE.match(text) and (verb is None or _PLEA.search(text)):
        return "qa", "a patient's own message (symptoms, a question or a plea for help)"
    if verb is None:  # patient voice and typos: a question anywhere is a question
        if "?" in text or _QUESTION_ANYWHERE.search(text):
            return _fallback("qa", "no task verb; a question")
        if _ROLE_SENTENCE.match(text):
            return "generation", "a role to play, no other task: a role-played text"
        if _HEALTH_TALK.search(text):
            return "qa", "no task verb; a message about one's health (symptoms, results, medicines)"
        return _by_content(text, has_source, source)
    rest = _rest_from(text, verb)

    if verb in _PLAIN_LANGUAGE_VERBS and _PLAIN_LANGUAGE.search(lowered):
        return "generation", f"'{verb}' in plain language or for a lay audience"
    if (verb in _ADVICE_VERBS or verb in _REQUEST_VERBS and not _WRITTEN_TEXT.search(rest)) and _OWN_HEALTH.match(rest):
        return "qa", f"'{verb}' about the writer's own health: a patient's question"
    if _COMPARES.match(rest) and verb not in _QUESTION_WORDS:
        return "qa", f"'{verb}' the differences between: a comparison"
    if verb in ("elaborate", "expand") and (not has_source or re.match(r"^\w+\s+(?:up)?on\b", rest, re.I)):
        return "qa", f"'{verb}' on a topic, no text to expand: an explanation"
    if verb in _QA_VERBS and _WRITTEN_PRODUCT.match(rest):
        return "generation", f"'{verb}' a plan, leaflet or letter: writing it"
    if verb in _EXTRACTION_VERBS | _GENERATION_VERBS and _QUESTIONS_TO_ASK.search(rest):
        return "generation", f"'{verb}' questions for someone to ask: writing them"
    if verb in ("identify", "determine", "name", "find", "state") and _WHICH_FROM_CASE.match(rest) \
            and not _EXTRACTION_TARGET.search(rest):
        return "qa", f"'{verb}' which condition, cause or deficiency: reasoning from a case"
    if verb in _QUESTION_WORDS:
        if _HOW_WOULD_YOU_SAY.search(text):
            return "generation", "'how would you respond': writing the reply"
        if has_source and (_JUDGES_GIVEN_ITEM.match(rest) or _ASKS_SCORE.match(rest) or _SUPPORTS_CLAIM.search(rest)):
            return "other", f"question '{verb}' judging a given item"
        if has_source and (_EXTRACTION_TARGET.search(text) or _ASKS_WHAT_TEXT_SAYS.search(text)) \
                and not _DIAGNOSTIC.search(text):
            return "extraction", f"question '{verb}' about what a given text says"
        return _fallback("qa", f"question '{verb}'")
    if _CLOZE.match(rest):
        return "qa", f"'{verb}' the blank or the missing word: a question"
    if verb in _REQUEST_VERBS:
        if _REQUESTED_LIST.match(rest):
            return ("extraction" if has_source else "qa"), f"'{verb}' a list, {source}"
        head = " ".join(rest.split()[:6])
        if _REQUESTED_OTHER.search(head):
            return "other", f"'{verb}' a classification, score or estimate"
        if _REQUESTED_QA.search(head) and not re.search(r"\bsummar", head, re.I):
            return "qa", f"'{verb}' an answer, explanation or diagnosis"
        return "generation", f"'{verb}' a text to write"
    if verb == "convert":
        if _UNIT_CONVERSION.search(text):
            return "other", "'convert' units or doses"
        return "generation", "'convert' a text"
    if verb in ("identify", "determine", "decide", "detect", "find", "name", "assess", "evaluate", "select") \
            and _DIAGNOSTIC.search(rest):
        return "qa", f"'{verb}' the likely diagnosis or cause"
    if verb in ("decide", "determine", "choose", "select", "identify") and _WHICH_TREATMENT.match(rest):
        return "qa", f"'{verb}' which treatment or test: a question about the case"
    if verb in ("identify", "determine", "decide", "select") and has_source and _WHICH_QUALIFIES.search(rest):
        return "other", f"'{verb}' which of the given items qualifies: a judgement"
    if verb in ("identify", "determine", "decide") and _WHICH_RANKS.search(rest):
        return "other", f"'{verb}' which ranks highest or lowest"
    if verb in ("determine", "assess", "evaluate", "estimate") and _MEASURE_TARGET.match(rest):
        return "other", f"'{verb}' a score, class or measure"
    if verb == "draw":
        if re.search(r"\bconclusions?\b", rest, re.I):
            return "qa", "'draw' a conclusion"
        return "generation", "'draw' (a drawing)"
    if verb in ("determine", "assess", "evaluate", "identify", "check", "verify", "decide", "label", "detect", "predict"):
        if _WHETHER.search(rest) or _CLASS_TARGET.match(rest) or re.match(r"^label\b.*\bas\b", rest, re.I):
            return "other", f"'{verb}' whether, or the type, stage or class"
        if verb in ("determine", "identify", "detect"):
            return _fallback("extraction" if has_source else "qa", f"'{verb}', {source}")
    if verb in ("tell", "state", "say", "indicate", "answer") and _TRUE_OR_FALSE.search(rest):
        return "other", f"'{verb}' whether statements are true or false: a judgement"
    if verb in ("select", "pick", "choose") and re.search(r"\b(?:correct|best|right|most\s+appropriate|option|answer)\b", rest, re.I):
        return "qa", f"'{verb}' the correct option"
    if verb in _EXTRACTION_VERBS:
        if not has_source and _ASKS_FOR_QUESTIONS.match(rest):
            return "generation", f"'{verb}' questions to ask, no text given: writing them"
        return _fallback("extraction" if has_source else "qa", f"extraction verb '{verb}', {source}")
    if verb in _GENERATION_VERBS:
        return _fallback("generation", f"generation verb '{verb}'")
    if verb in _QA_VERBS:
        return _fallback("qa", f"question-answering verb '{verb}'")
    return _fallback("other", f"verb '{verb}' (classify, rate, rank, calculate and the like)")
