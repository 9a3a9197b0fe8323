"""Person names: name parts for storage and matching, and nickname variants. Pure.

Nicknames come from the ``nicknames`` package (Old Dominion University's name groups).
"""

from __future__ import annotations

from functools import lru_cache

from nicknames import NickNamer

from graph.normalize.text import clean_text, fold, fold_chars, is_blank
from graph.normalize.values import (
    Normalized,
    empty_value,
    raw_text,
    rejected_value,
)

__all__ = ["name_variants", "normalize_name"]


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
