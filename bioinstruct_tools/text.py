"""Text normalisation: the one way text is compared word for word, and rouge_score's tokens.

`normalized_words` serves `--strict` uniqueness and benchmark contamination alike: NFKC, format
characters (zero-width spaces, a stray BOM) deleted, case-folded, split on every run of punctuation,
symbols and white space. `rouge_tokens` is not a normaliser of ours but rouge_score's tokenizer,
reproduced for speed, because near-duplicates must be scored exactly as Self-Instruct scores them.
"""

import functools
import re
import sys
import unicodedata
from typing import Optional, Sequence

_WORD = re.compile(r"[^\W_]+")
# ASCII text is NFKC already, holds no format character, and casefold() is lower() on it: its words are
# the runs of [a-z0-9], found fastest by turning every other byte into a space and splitting.
_ASCII_SEPARATORS = bytes(byte if chr(byte) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32 for byte in range(256))
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")


@functools.cache
def _format_characters() -> dict[int, None]:
    """A `str.translate` table deleting every format character (Unicode category Cf: U+200B, U+FEFF, ...)."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}


# Characters that render as nothing though they are neither white space nor format characters: the Hangul and
# Braille fillers, the combining grapheme joiner, Khmer's inherent vowels and the variation selectors.
_INVISIBLE_FILLERS = ("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0"
                      + "".join(map(chr, range(0x180B, 0x1810))) + "".join(map(chr, range(0xFE00, 0xFE10)))
                      + "".join(map(chr, range(0xE0100, 0xE01F0))))


@functools.cache
def _invisible_characters() -> dict[int, None]:
    """A `str.translate` table deleting every character that shows nothing: format characters and the fillers."""
    return {**_format_characters(), **{ord(character): None for character in _INVISIBLE_FILLERS}}


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing: empty once white space, format characters (U+200B, U+202E, U+FEFF, ...) and
    invisible fillers (U+2800, U+3164, ...) are removed. Blank is blank, whatever it is made of."""
    if text.isascii():
        return not text.strip()
    return not text.translate(_invisible_characters()).strip()


def normalized_words(text: str) -> list[str]:
    """The words of `text` after NFKC, without format characters, case-folded (tests hold `_WORD` as the oracle)."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    return _WORD.findall(unicodedata.normalize("NFKC", text).translate(_format_characters()).casefold())


def normalized_text(text: str) -> str:
    """`normalized_words` joined by single spaces: the key two texts are compared by."""
    return " ".join(normalized_words(text))


def rouge_tokens(text: str) -> list[str]:
    """Tokens exactly as `rouge_score.rouge_scorer.RougeScorer(["rougeL"])` (no stemmer) makes them.

    rouge_score lowercases, turns every run of other characters into a space, splits and keeps the
    `[a-z0-9]+` tokens: the maximal runs of `[a-z0-9]` of the lowercased text. Here every other character
    becomes one byte that `_ASCII_SEPARATORS` turns into a space, and the text is split: C calls only, twice as
    fast as a regular expression's `findall` (`lower` first: it turns some non-ASCII letters, such as the Kelvin
    sign, into ASCII ones). rouge_score's `tokenize` is the oracle in tests/test_neardup.py.
    """
    return text.lower().encode("ascii", "replace").translate(_ASCII_SEPARATORS).decode("ascii").split()


ROUGE_END = "\x00"  # `rouge_tokens_of_many`'s mark after each text's tokens: no token of rouge_score's holds it
_ASCII_SEPARATORS_BUT_END = b"\x00" + _ASCII_SEPARATORS[1:]


def rouge_tokens_of_many(texts: Sequence[str]) -> list[str]:
    """Every text's `rouge_tokens`, each text's followed by ROUGE_END, in one list.

    Made for all the texts at once, with a handful of C calls instead of a handful per text (the near-duplicate
    search tokenizes a million instructions): the texts are joined by " ROUGE_END ", which survives the same
    lowering, encoding and translation as a token of its own, then split once. `lower` and the encoding act
    character by character, so the joined text's tokens are each text's. A text that holds ROUGE_END itself is
    tokenized on its own.
    """
    joined = f" {ROUGE_END} ".join(texts) + f" {ROUGE_END}"
    if joined.count(ROUGE_END) != len(texts):
        return [token for text in texts for token in (*rouge_tokens(text), ROUGE_END)]
    return joined.lower().encode("ascii", "replace").translate(_ASCII_SEPARATORS_BUT_END).decode("ascii").split()


def rouge_token_count(text: str) -> int:
    """`len(rouge_tokens(text))` without the list: a 100 MB field would make 12 million strings."""
    return sum(1 for _ in _ROUGE_TOKEN.finditer(text.lower()))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def markdown_literal(text: str) -> str:
    """`text` (a file name, say) as inert Markdown: one line, no code span, link, heading or HTML of its own."""
    one_line = " ".join(text.split())
    html_safe = one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html_safe)


# In prose, only these change what Markdown means: HTML and the card's `<!--` markers, link and image brackets,
# code spans, emphasis that could swallow a link, and a line that opens a heading, list, quote or table.
_PROSE_INLINE = re.compile(r"([\\`\[\]])")
_PROSE_LINE_START = re.compile(r"^(\s*)(?:([#>|+*-])|(\d+)([.)]))", re.M)


def markdown_prose(text: str) -> str:
    """A maintainer's paragraph as Markdown that reads as written ("GPT-4", "clinician-style", "(demo)" stay as
    they are) and holds no HTML, link, image, code span, heading, list, quote or table of its own."""
    html_safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    inline_safe = _PROSE_INLINE.sub(r"\\\1", html_safe)
    return _PROSE_LINE_START.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"), inline_safe)


# What a terminal acts on instead of showing: C0 and C1 controls (ESC starts a redraw, CR and LF forge lines),
# DEL, and the bidirectional overrides and isolates that reorder what follows them.
_TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` (a file name, say) with every control character written as its escape (`\\x1b`, `\\n`), so that
    printing it cannot move the cursor, erase a line or start a new one."""
    return _TERMINAL_CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception as one short line, for messages that name a file: `ValueError: what it said`."""
    return f"{type(error).__name__}: {' '.join(str(error).split())[:limit]}"


def plural(count: int, word: str, plural_form: Optional[str] = None) -> str:
    """`1 record`, `2,000 records`: a count with thousands separators and the word agreeing with it."""
    return f"{count:,} {word if count == 1 else plural_form or word + 's'}"
