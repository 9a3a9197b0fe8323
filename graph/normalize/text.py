"""Text: blank placeholders, cleaning for storage, folding for comparison. Pure.

Unicode folding is delegated to ``anyascii``.
"""

from __future__ import annotations

import string
import unicodedata
from functools import lru_cache

from anyascii import anyascii

#: What clerks type for "no value", compared case-insensitively after whitespace collapsing.
BLANK_PLACEHOLDERS = frozenset(
    {
        "-",
        "--",
        ".",
        "?",
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "not provided",
        "x",
        "xx",
        "0",
    }
)

# Invisible characters that arrive from spreadsheets (byte-order mark, zero-width space).
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b")

# In fold(): separators become spaces, all other ASCII punctuation disappears (O'Brien -> obrien,
# J.R. -> jr). Commas and brackets separate too, so "Smith,John" does not fuse into one word.
_SEPARATORS = "-/\\_,;:+&|()[]{}<>"
_FOLD_TABLE = str.maketrans(
    _SEPARATORS,
    " " * len(_SEPARATORS),
    "".join(c for c in string.punctuation if c not in _SEPARATORS),
)

__all__ = ["BLANK_PLACEHOLDERS", "clean_text", "fold", "fold_chars", "is_blank"]


_LONGEST_PLACEHOLDER = max(len(p) for p in BLANK_PLACEHOLDERS)


def is_blank(raw: object) -> bool:
    """True for None, "", whitespace only, or a placeholder in :data:`BLANK_PLACEHOLDERS`."""
    if raw is None:
        return True
    if isinstance(raw, str) and len(raw) > _LONGEST_PLACEHOLDER + 2 and not raw[:3].isspace():
        return False  # the common case, decided without building a new string
    text = " ".join(str(raw).split()).casefold()
    return text == "" or text in BLANK_PLACEHOLDERS


def clean_text(raw: object) -> str | None:
    """The text to store: NFC, invisible characters dropped, whitespace collapsed and stripped.

    Case, accents and punctuation are kept. None when :func:`is_blank`.
    """
    if type(raw) is str and raw.isascii():
        # the common case: ASCII is NFC and holds no invisible characters, so collapsing the
        # whitespace is all there is to do, and one blank check of the result decides
        cleaned = " ".join(raw.split())
        if cleaned and (
            len(cleaned) > _LONGEST_PLACEHOLDER or cleaned.lower() not in BLANK_PLACEHOLDERS
        ):
            return cleaned
        return None
    if is_blank(raw):
        return None
    text = str(raw)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    cleaned = " ".join(text.translate(_INVISIBLE).split())
    return None if is_blank(cleaned) else cleaned


# _FOLD_TABLE and the letters-digits-spaces filter of fold() in one table, for ASCII text.
_FOLD_ASCII_TABLE = str.maketrans(
    {
        c: " " if c in _SEPARATORS else c if c.isalnum() or c.isspace() else None
        for c in map(chr, range(128))
    }
)


def fold_chars(text: str) -> str:
    if isinstance(text, str) and text.isascii():
        folded = text.lower()  # NFC, casefold and anyascii change nothing in ASCII but case
    else:
        folded = anyascii(unicodedata.normalize("NFC", text).casefold()).lower()
    if folded.isascii():
        kept = folded.translate(_FOLD_ASCII_TABLE)
    else:
        kept = "".join(c for c in folded.translate(_FOLD_TABLE) if c.isalnum() or c.isspace())
    return " ".join(kept.split())


@lru_cache(maxsize=200_000)
def _fold_cached(text: str) -> str:
    if is_blank(text):
        return ""
    folded = fold_chars(text)
    return "" if is_blank(folded) else folded


def fold(text: object) -> str:
    """The comparison form of ``text``: lower-case ASCII letters, digits and single spaces.

    NFC, casefold, transliteration by ``anyascii`` (Ł -> l, ø -> o, ß -> ss, accents dropped),
    hyphens, slashes, underscores, commas and brackets -> spaces, other punctuation (``'``,
    ``.``) removed. "" for None and for text that is, or folds to, a blank placeholder (so
    ``fold(fold(x)) == fold(x)``).
    """
    if isinstance(text, str):  # names, cities and streets repeat: fold each spelling once
        return _fold_cached(text)
    if text is None or is_blank(text):
        return ""
    folded = fold_chars(str(text))
    return "" if is_blank(folded) else folded
