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
from typing import Optional

_WORD = re.compile(r"[^\W_]+")
# ASCII text is NFKC already, holds no format character, and casefold() is lower() on it: its words are
# the runs of [a-z0-9], found fastest by turning every other byte into a space and splitting.
_ASCII_SEPARATORS = bytes(byte if chr(byte) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32 for byte in range(256))
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")


@functools.cache
def _format_characters() -> dict[int, None]:
    """A `str.translate` table deleting every format character (Unicode category Cf: U+200B, U+FEFF, ...)."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}


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
    `[a-z0-9]+` tokens: the maximal runs of `[a-z0-9]`, found here in one pass (twice as fast; its
    `tokenize` is the oracle in tests/test_neardup.py).
    """
    return _ROUGE_TOKEN.findall(text.lower())


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def markdown_literal(text: str) -> str:
    """`text` (a file name, say) as inert Markdown: one line, no code span, link, heading or HTML of its own."""
    one_line = " ".join(text.split())
    html_safe = one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html_safe)


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception as one short line, for messages that name a file: `ValueError: what it said`."""
    return f"{type(error).__name__}: {' '.join(str(error).split())[:limit]}"


def plural(count: int, word: str, plural_form: Optional[str] = None) -> str:
    """`1 record`, `2,000 records`: a count with thousands separators and the word agreeing with it."""
    return f"{count:,} {word if count == 1 else plural_form or word + 's'}"
