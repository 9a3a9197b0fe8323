"""Person names: name parts for storage and matching, nickname variants, and a person's own
casing of a name written all in capitals or all in lower case. Pure.

Nicknames come from the ``nicknames`` package (Old Dominion University's name groups); the
casing from ``nameparser``'s capitalisation (particles, Mc, O', hyphens, Unicode).
"""

from __future__ import annotations

import re
from functools import lru_cache

from nameparser import parse as parse_human_name
from nameparser.config import CONSTANTS as NAME_CONSTANTS
from nicknames import NickNamer

from graph.normalize.text import clean_text, fold, fold_chars, is_blank
from graph.normalize.values import (
    Normalized,
    empty_value,
    raw_text,
    rejected_value,
)

__all__ = ["name_variants", "normalize_name", "person_case"]

_MAC_SPLIT = re.compile(r"\bMac(\w)")
# "Saint" abbreviated is written capitalised, never as a particle ("St. John", "Ste. Marie")
_SAINT = re.compile(r"\b(?:st|ste)\b(?=\.|\s|$)", re.IGNORECASE)


# words nameparser treats other than by plain capitalisation: those go through the parser
_SPECIAL_WORDS = frozenset(
    str(word).lower()
    for words in (
        NAME_CONSTANTS.prefixes,
        NAME_CONSTANTS.titles,
        NAME_CONSTANTS.suffix_acronyms,
        NAME_CONSTANTS.suffix_not_acronyms,
        NAME_CONSTANTS.conjunctions,
        NAME_CONSTANTS.capitalization_exceptions,
    )
    for word in words
)


@lru_cache(maxsize=65_536)
def person_case(text: str, *, family: bool = False) -> str:
    """``text`` (a given name, or a family name when ``family``) as a person writes it, when
    the source wrote it in one case: ``"JASON"`` -> ``"Jason"``, ``"mcdonald"`` ->
    ``"McDonald"``, ``"VAN DER BERG"`` -> ``"van der Berg"``, ``"O'NEIL"`` -> ``"O'Neil"``.
    Text in mixed case is returned as written (``"McDonald"``, ``"van der Berg"``, ``"DeVito"``).

    nameparser's capitalisation does the work, with one change: it reads every "Mac" as a
    prefix (``"MacIej"``, ``"MacHado"``), so a word starting with "Mac" is title-cased instead
    (``"Maciej"``, ``"Machado"``, ``"Macdonald"``); "Mc" is always a prefix. And it lowers "St."
    as a particle (``"st. John"``): an abbreviated Saint is capitalised (``"St. John"``).
    """
    if not (text.isupper() or text.islower()):
        return text
    if _plain_word(text):  # most names: what the parser gives, without parsing (~90x faster)
        return text.capitalize()
    return _parsed_case(text, family)


def _parsed_case(text: str, family: bool) -> str:
    """:func:`person_case` by nameparser, for text in one case."""
    # the part alone would be read as a given name: parse it beside a stand-in for the other
    probe, start = (f"{text}, x", 0) if family else (f"x, {text}", 3)
    chars = list(probe)
    for token in parse_human_name(probe).capitalized(force=True).tokens:
        span = token.span
        if span is not None and span.end - span.start == len(token.text):
            chars[span.start : span.end] = token.text
    cased = "".join(chars)[start : start + len(text)]
    if cased.lower() != text.lower():  # repair changes case only; anything else: keep it
        return text
    cased = _MAC_SPLIT.sub(lambda m: "Mac" + m.group(1).lower(), cased)
    return _SAINT.sub(lambda m: m.group(0).capitalize(), cased)


def _plain_word(text: str) -> bool:
    """One word of ASCII letters the parser would only capitalise: no prefix, title, suffix,
    conjunction or exception of nameparser's, no Mc/Mac (tests hold this to the parser)."""
    if not (text.isascii() and text.isalpha()) or len(text) < 3:
        return False
    lower = text.lower()
    return (
        not lower.startswith("mc") and not lower.startswith("mac") and lower not in _SPECIAL_WORDS
    )


def normalize_name(raw: object) -> Normalized:
    """A person-name part: value = :func:`clean_text` (hyphens, case kept), key = :func:`fold`.

    ``"placeholder"`` when the text folds to a blank placeholder ("N.A."), ``"invalid"`` when
    it has no letters or digits at all ("...").
    """
    text = clean_text(raw)
    if text is None:
        return empty_value(raw)
    folded = fold_chars(text)
    if not folded:
        return rejected_value(raw, "invalid", "no letters or digits")
    if is_blank(folded):
        return rejected_value(raw, "placeholder", "placeholder name")
    return Normalized(raw_text(raw), text, folded, "ok")


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


def name_variants(given_key: str) -> frozenset[str]:
    """The folded given name with its nicknames and canonical names (``nicknames`` package).

    ``"bob"`` gives a set containing ``"robert"`` and ``"robert"`` one containing ``"bob"``.
    The groups are one step wide, so test ``b in name_variants(a)`` (or the reverse); two
    nicknames of different names (``"al"`` of albert and of alfred) share a member without
    being variants of each other. Empty for a blank key.
    """
    key = fold(given_key)
    if not key:
        return frozenset()
    return _variants_of(key)


@lru_cache(maxsize=65536)
def _variants_of(key: str) -> frozenset[str]:
    namer = _nicknamer()
    related = namer.nicknames_of(key) | namer.canonicals_of(key)
    return frozenset({key} | {fold(name) for name in related} - {""})
