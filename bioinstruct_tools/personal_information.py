"""Personal information: the identifiers of HIPAA's Safe Harbor method (45 CFR 164.514(b)(2)) that text can hold.

A biomedical copy built from clinical notes or patient messages can carry a patient's identity. This module
finds the Safe Harbor kinds in a text, each with its span, by patterns in the manner of Presidio's pattern
recognizers: a shape (a phone number, an e-mail address, a date) and, where the shape alone is ambiguous in
clinical text, a context that must come with it (a label such as "MRN:", "DOB", "fax", a title before a name).
Recall matters more than precision here, as in clinical de-identification, but clinical text is full of look-alikes
that must not fire: blood pressures and fractions (120/80, 1/2 tablet), doses, lab values and clock times,
eponyms (Parkinson's, Crohn's), scores and codes (Glasgow, ICD-10, CPT, NDC), room numbers, 911 and 988, a
year alone, and ages of 89 or under.

What it cannot see, and the card says so: a bare name with no title, label or naming phrase ("John said ..."),
a place named without a street, state or ZIP, a date written in words without a person's event beside it, and
identifiers in images or in text that spells digits out. Presidio's analyzer was considered: it needs spaCy and
a language model that is not on the package index, so this runs on patterns alone (`re`), offline.

`find(text)` gives the findings of one text; `redact(text, findings)` replaces each span with its kind in
brackets (`[PHONE]`). tests/test_personal_information.py holds every kind and every trap; bench/ measures recall
by kind and the trap set's false-positive rate on the frozen split of data/personal_information_eval.jsonl.
"""

import re
from typing import Iterator, NamedTuple

# The kinds, in the order the card lists them. Safe Harbor's 18 identifiers, less those text cannot hold
# (biometrics, full-face photographs) and the geographic units smaller than a state folded into ADDRESS and ZIP.
KINDS = {
    "NAME": "names (with a title, in a Name:/Patient: field, or introduced as a person's name)",
    "ADDRESS": "street addresses, and cities given with a state and ZIP code",
    "ZIP": "ZIP codes",
    "DATE": "dates tied to a person (birth, admission, discharge, death, visit), to the day or month",
    "AGE": "ages over 89",
    "PHONE": "telephone numbers",
    "FAX": "fax numbers",
    "EMAIL": "e-mail addresses",
    "URL": "web addresses (other than public health, government and academic sites)",
    "IP": "IP addresses",
    "SSN": "social security numbers",
    "MRN": "medical record numbers",
    "HEALTH_PLAN": "health plan beneficiary and member numbers",
    "ACCOUNT": "account and card numbers",
    "LICENSE": "certificate and licence numbers",
    "VEHICLE": "vehicle identifiers and licence plates",
    "DEVICE": "device identifiers and serial numbers",
    "OTHER_ID": "any other labelled identifying number",
}
CANNOT_SEE = ("a bare name with no title, label or naming phrase; a town named without a street, state or ZIP; "
              "a date in words with no event of the person beside it; digits spelled out in words")


# What bench/personal_information.py printed on the frozen test split when the check was written; the card quotes it.
MEASURED = ("On the package's frozen test split of clinical phrasings (data/personal_information_eval.jsonl), it "
            "flagged 55 of 56 records holding an identifier and 1 of 30 look-alikes.")
# A field longer than this is not read: the patterns cost about half a second a megabyte, so a 100 MB field would
# take minutes. The check reports such a field as unchecked, never as clean (a clinical note is far shorter).
MAX_CHECKED_CHARACTERS = 1_000_000


class Finding(NamedTuple):
    kind: str
    start: int
    end: int
    text: str


_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# A day-or-month-precise date: 03/14/2021, 3-14-21, 2021-03-14, March 14, 2021, 14 March 2021, March 2021, 3/2021.
_FULL_DATE = (rf"\b(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)?\d{{2}}|(?:19|20)\d{{2}}-\d{{1,2}}-\d{{1,2}}|"
              rf"{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?"
              rf"{_MONTH}\.?,?\s+(?:19|20)\d{{2}})\b")
_PARTIAL_DATE = (rf"\b(?:{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b|"
                 rf"{_MONTH}\.?,?\s+(?:19|20)\d{{2}}\b|\d{{1,2}}/(?:19|20)\d{{2}}\b|\d{{1,2}}/\d{{1,2}}\b)")
_PERSON_EVENT = (r"\b(?:born|birth|dob|d\.o\.b\.?|birthday|admit(?:ted)?|admission|discharged?|died|death|deceased|"
                 r"expired|passed\s+away|visit(?:ed)?|seen|presented|surgery|operated|delivered|date\s+of\s+service|"
                 r"dos|appointment|follow-up\s+on|injured|accident)\b")
# A value that is an identifier: letters, digits and dashes, holding at least two digits.
_ID_VALUE = r"(?=[A-Z0-9-]*\d[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,}[A-Z0-9]"
_LABEL_GAP = r"\s*(?:number|num|no\.?|#|id)?\s*(?:is\s+|was\s+|of\s+)?[:#=]?\s*"


def _labelled(label: str) -> str:
    return rf"\b(?:{label}){_LABEL_GAP}(?P<value>{_ID_VALUE})\b"


_TITLE = r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sr|Fr)\.?"
# A name's word: a capital (Latin, with accents: José, Zoë, İlker, Łukasz) and letters of any script after it.
_CAPITAL = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
_NAME_WORD = rf"[{_CAPITAL}][^\W\d_]*(?:[-'’][{_CAPITAL}]?[^\W\d_]+)?"
# Capitalised words after "Patient:" that are not names.
_NOT_NAMES = frozenset("""male female man woman boy girl adult child infant baby newborn elderly unknown none
    anonymous deidentified redacted he she they the a an this that patient case history age sex gender yes no
    presents presented complains reports denies admitted is was has had with without mr mrs ms dr""".split())
# Words that follow a title but are not a person ("Dr. Note", "Ms. Word").
_EPONYM_CONTEXT = re.compile(r"^(?:'s|’s)?\s+(?:disease|syndrome|sign|test|score|scale|law|criteria|classification|"
                             r"reflex|phenomenon|maneuver|manoeuvre|triad|lymphoma|palsy)\b", re.I)

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    ("URL", re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.I)),
    # Digit-led shapes begin with their digits, so that the scan skips to digits in C; what must not come before
    # them (a word character, a dot) is checked on each match (`_SHAPE_NOT_AFTER`).
    ("IP", re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b(?![\d.]*\d)")),
    ("SSN", re.compile(r"\d{3}-\d{2}-\d{4}\b")),  # area 000, 666 or 9xx, group 00, serial 0000: not issued
    ("SSN_LABELLED", re.compile(r"\b(?:ssn|social\s+security(?:\s+number)?)\s*(?:no\.?|#|number)?\s*[:#]?\s*"
                                r"(?P<value>\d{9})\b", re.I)),
    ("FAX", re.compile(r"\bfax(?:\s+(?:number|no\.?|#))?\s*[:#]?\s*(?P<value>(?:\+?1[-.\s]?)?\(?\d{3}\)?[-.\s]?\d{3}"
                       r"[-.\s]?\d{4})\b", re.I)),
    ("PHONE", re.compile(r"(?:\+?1[-.\s])?(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}\b|"
                         r"\+\d{1,3}[-.\s]\d{2,4}[-.\s]\d{3,4}[-.\s]\d{3,4}\b")),
    ("PHONE_LABELLED", re.compile(r"\b(?:phone|tel|telephone|cell|mobile|call|text|contact)\s*(?:number|no\.?|#)?\s*"
                                  r"[:#]?\s*(?:me\s+at\s+|at\s+)?(?P<value>\d{10})\b", re.I)),
    # Labelled identifiers, in one pattern: the label's group names the kind ("license plate" is tried as a
    # licence number first, and backtracks to a plate when no number follows "license").
    ("LABELLED", re.compile(
        r"\b(?:(?P<MRN>mrn|medical\s+record(?:\s+number)?|med\s+rec|record|chart|hospital\s+number|unit\s+number|"
        r"patient\s+number)"
        r"|(?P<HEALTH_PLAN>(?:health\s+plan|insurance|insurer|policy|member|subscriber|beneficiary|medicaid|medicare|"
        r"group)(?:\s+(?:id|number|no\.?))?)"
        r"|(?P<ACCOUNT>(?:bank\s+|billing\s+|patient\s+)?account|acct|iban)"
        r"|(?P<LICENSE>(?:driver'?s?\s+|driving\s+|medical\s+|nursing\s+)?licen[cs]e|certificate|dea|npi|passport|"
        r"permit)"
        r"|(?P<VEHICLE>(?:licen[cs]e\s+)?plate|registration|vin|vehicle(?:\s+id(?:entification)?)?)"
        r"|(?P<DEVICE>serial|s/n|sn|device(?:\s+(?:id|identifier|serial))?|udi|imei|lot|pacemaker|implant|pump)"
        r"|(?P<OTHER_ID>patient\s+id|identifier|case(?:\s+number)?|encounter|visit\s+id|accession|employee|student|"
        r"badge|claim|ref(?:erence)?|id))" + _LABEL_GAP + rf"(?P<value>{_ID_VALUE})\b", re.I)),
    ("ACCOUNT", re.compile(r"\b(?:\d{4}[- ]){3}\d{4}\b|\b(?:\d{4}[- ]\d{6}[- ]\d{5})\b")),
    ("VEHICLE", re.compile(r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b")),
    ("AGE", re.compile(r"\b(?P<value>9\d|1[0-4]\d)(?:[-\s]?(?:years?|yrs?)[-\s]?old|[-\s]?(?:yo|y/o|y\.o\.)(?!\w)|"
                       r"-year-old)|\b(?:aged?|age\s*:)\s*(?P<value2>9\d|1[0-4]\d)\b(?!\s*(?:%|mg|kg|mmhg|bpm|/))",
                       re.I)),
    ("ZIP", re.compile(r"\b(?i:zip(?:\s*code)?|postal\s+code)\s*[:#]?\s*(?P<value>\d{5}(?:-\d{4})?)\b|"
                       r"\b(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|"
                       r"S[CD]|T[NX]|UT|V[TA]|W[AVIY])\s+(?P<value2>\d{5}(?:-\d{4})?)\b")),
    ("ADDRESS", re.compile(r"\b\d{1,6}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|"
                           r"Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|"
                           r"Square|Sq|Trail|Trl)\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Unit|#)\.?\s*\w+)?|"
                           r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s+(?:[A-Z]{2}|[A-Z][a-z]+)\s+\d{5}(?:-\d{4})?\b")),
    # Names: after a title (case matters: "Dr Smith", not "dr"); in a labelled field; introduced as a person's name.
    ("NAME_TITLED", re.compile(rf"\b{_TITLE}\s+(?P<value>{_NAME_WORD}(?:\s+{_NAME_WORD})?)")),
    # A field labelled as a name takes one word or more; a person's field ("Patient:", as in a transcript, where
    # speech follows) takes a first and a last name followed by no lower-case word.
    ("NAME_FIELD", re.compile(rf"\b(?i:patient(?:'s)?\s+name|(?:first|last|full|sur)?\s*name)\s*:\s*(?P<value>"
                              rf"{_NAME_WORD}(?:\s+[A-Z]\.)?(?:\s+{_NAME_WORD})?)|"
                              rf"\b(?i:patient|pt|client|resident|mother|father|spouse|next\s+of\s+kin|"
                              rf"emergency\s+contact|guardian)\s*:\s*(?P<value2>{_NAME_WORD}(?:\s+[A-Z]\.)?\s+"
                              rf"{_NAME_WORD})(?!\s+[a-z])")),
    ("NAME_INTRODUCED", re.compile(rf"\b(?i:named|called|my\s+name\s+is|her\s+name\s+is|his\s+name\s+is|"
                                   rf"name\s+is|I\s+am|I'm|this\s+is|signed|sincerely,?)\s+"
                                   rf"(?P<value>{_NAME_WORD}\s+{_NAME_WORD})\b")),
]
_PATTERN = dict(_PATTERNS)
# Patterns whose every match starts where one of a few words starts: they are tried only there, at the places one
# case-sensitive scan of the lower-cased text finds (a pattern run with re.I over every position costs ten times
# as much, which a 100 MB field makes minutes).
_ANCHORS = {name: re.compile(anchor) for name, anchor in {
    "LABELLED": r"\b(?:mrn|medical|med|record|chart|hospital|unit|patient|health|insur|policy|member|subscriber|"
                r"beneficiary|medicaid|medicare|group|bank|billing|account|acct|iban|driv|nursing|licen|certificate|"
                r"dea|npi|passport|permit|plate|registration|vin|vehicle|serial|s/n|sn|device|udi|imei|lot|pacemaker|"
                r"implant|pump|identifier|case|encounter|visit|accession|employee|student|badge|claim|ref|id)",
    "FAX": r"\bfax",
    "SSN_LABELLED": r"\b(?:ssn|social)",
    "PHONE_LABELLED": r"\b(?:phone|tel|cell|mobile|call|text|contact)",
    "URL": r"\b(?:https?:|www\.)",
    "NAME_FIELD": r"\b(?:patient|name|first|last|full|sur|pt|client|resident|mother|father|spouse|next|emergency|"
                  r"guardian)",
    "NAME_INTRODUCED": r"\b(?:named|called|my|her|his|name|i|this|signed|sincerely)",
}.items()}
_PUBLIC_HOSTS = re.compile(r"^(?:https?://)?(?:www\.)?[^/\s]*(?:\.gov|\.edu|\.mil|who\.int|nih\.gov|doi\.org|"
                           r"ncbi\.nlm\.nih\.gov|pubmed|clinicaltrials\.gov|wikipedia\.org|cochrane\.org|"
                           r"nhs\.uk|europa\.eu)(?:[/:?#]|$)", re.I)
_VERSION_BEFORE = re.compile(r"\b(?:version|release|v)\.?\s*$", re.I)  # "version 1.2.3.4" is not an address
_DATES = re.compile(_FULL_DATE + "|" + _PARTIAL_DATE, re.I)
_FULL_DATES = re.compile(_FULL_DATE, re.I)
_PERSON_EVENTS = re.compile(_PERSON_EVENT, re.I)
_EVENT_WINDOW = 40  # characters either side of a date in which a person's event ties it to them
# Which patterns can match a text is decided first by cheap tests (C-speed `in` and `translate`), so that the
# patterns run only on the few fields that could hold their kind: most fields of instruction data hold none.
_DIGITS = str.maketrans("", "", "0123456789")
# The fewest digits a text must hold for each pattern to match it.
_DIGITS_NEEDED = {"IP": 4, "SSN": 9, "SSN_LABELLED": 9, "FAX": 10, "PHONE": 10, "PHONE_LABELLED": 10, "ACCOUNT": 15, "VEHICLE": 5, "ZIP": 5, "ADDRESS": 1}
# Shapes some patterns need, looked for only in texts with digits.
_ID_LIKE = re.compile(r"\d[\w-]{3,}|[\w-]{3}\d")  # a token of 5 characters or more holding a digit
_DATE_LIKE = re.compile(r"\d\s?[/.-]\s?\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.I)
_TITLE_AS_WRITTEN = re.compile(r"(?:M(?:rs?|s|x|iss)|Dr|Prof|Sr|Fr)[. ]")  # "Dr. Smith", "Dr Smith"; not "Drug"
_AGE_WORDS = ("age", "year", "yo", "y/o", "y.o", "yr")
_DIGITS = str.maketrans("", "", "0123456789")


def find(text: str) -> list[Finding]:
    """Every identifier in `text`, in order of position; overlapping findings keep the earlier, longer one."""
    if not text:
        return []
    lower = text.lower()
    found = []
    for name in _patterns_that_may_match(text, lower):
        if name == "DATE":
            found += _person_dates(text)
            continue
        for match in _matches(name, text, lower):
            start, end = _value_span(match)
            value, kind = text[start:end], _kind(name, match)
            if kind == "URL" and _PUBLIC_HOSTS.match(value):
                continue
            if name in _SHAPE_NOT_AFTER and start and _SHAPE_NOT_AFTER[name].match(text, start - 1):
                continue  # inside a longer number or word
            if kind == "IP" and _VERSION_BEFORE.search(text[max(0, start - 12):start]):
                continue
            if name == "SSN" and not _issued_ssn(value):
                continue
            if kind == "NAME" and not _is_a_name(value, text, end):
                continue
            found.append(Finding(kind, start, end, value))
    return _without_overlaps(found)


def _matches(name: str, text: str, lower: str) -> Iterator[re.Match]:
    pattern, anchor = _PATTERN[name], _ANCHORS.get(name)
    if anchor is None or len(lower) != len(text):  # lower-casing changed the length: positions would not agree
        yield from pattern.finditer(text)
        return
    end = 0
    for place in anchor.finditer(lower):
        if place.start() >= end:  # matches do not overlap, as finditer's do not
            match = pattern.match(text, place.start())
            if match:
                end = match.end()
                yield match


def _patterns_that_may_match(text: str, lower: str) -> list[str]:
    """The patterns that can match `text` at all, by `in` tests and a digit count: far cheaper than running them."""
    if text.isascii():  # bytes.translate deletes in C, four times faster than str.translate
        digits = len(text) - len(text.encode("ascii").translate(None, b"0123456789"))
    else:
        digits = len(text) - len(text.translate(_DIGITS))
    names = [name for name, needed in _DIGITS_NEEDED.items() if digits >= needed] if digits else []
    if digits >= 2 and _ID_LIKE.search(text):
        names.append("LABELLED")
    if digits >= 2 and any(word in lower for word in _AGE_WORDS):
        names.append("AGE")
    if digits and _DATE_LIKE.search(text):
        names.append("DATE")
    if "@" in text:
        names.append("EMAIL")
    if "://" in text or "www." in lower:
        names.append("URL")
    if _TITLE_AS_WRITTEN.search(text):
        names.append("NAME_TITLED")
    if ":" in text:
        names.append("NAME_FIELD")
    if ("name" in lower or "called" in lower or "i am" in lower or "i'm" in lower or "this is" in lower
            or "signed" in lower or "sincerely" in lower):
        names.append("NAME_INTRODUCED")
    return names


_SHAPE_NOT_AFTER = {"IP": re.compile(r"[\w.]"), "SSN": re.compile(r"\w"), "PHONE": re.compile(r"[\w/.-]")}


def _issued_ssn(value: str) -> bool:
    area, group, serial = value.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def _kind(name: str, match: re.Match) -> str:
    if name == "LABELLED":  # the label's group names the kind
        return next(kind for kind in KINDS if kind in match.re.groupindex and match.group(kind))
    return "NAME" if name.startswith("NAME") else name.removesuffix("_LABELLED")


def _value_span(match: re.Match) -> tuple[int, int]:
    for group in ("value", "value2", "value3"):
        if group in match.re.groupindex and match.group(group) is not None:
            return match.span(group)
    return match.span()


def _is_a_name(value: str, text: str, end: int) -> bool:
    first = value.split()[0].lower()
    return first not in _NOT_NAMES and not _EPONYM_CONTEXT.match(text[end:end + 30])


def _person_dates(text: str) -> list[Finding]:
    """Full dates (day, month and year) always: in clinical text they belong to a patient's events. A day or month
    without the year, or a month and year, only with a person's event (born, admitted, discharged ...) beside it."""
    found = []
    for match in _DATES.finditer(text):
        value = match.group()
        if not _FULL_DATES.fullmatch(value):
            window = text[max(0, match.start() - _EVENT_WINDOW):match.end() + _EVENT_WINDOW]
            if not _PERSON_EVENTS.search(window) or _is_a_fraction(value, text, match.end()):
                continue
        found.append(Finding("DATE", match.start(), match.end(), value))
    return found


def _is_a_fraction(value: str, text: str, end: int) -> bool:
    """'1/2 tablet', '3/4 weeks', '120/80': a slash between two small numbers is a fraction or a pressure unless it
    reads as a month and a day."""
    if "/" not in value:
        return False
    first, second = value.split("/")
    if not (first.isdigit() and second.isdigit()):
        return False
    return not (1 <= int(first) <= 12 and 1 <= int(second) <= 31) or bool(re.match(r"\s*(?:of\s+)?[a-z]", text[end:end + 12]))


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def redact(text: str, findings: list[Finding]) -> str:
    """`text` with each finding's span replaced by its kind in brackets: '[PHONE]'."""
    pieces, position = [], 0
    for finding in findings:
        pieces += [text[position:finding.start], f"[{finding.kind}]"]
        position = finding.end
    return "".join(pieces) + text[position:]
