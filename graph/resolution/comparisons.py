"""Scorers: compare one field of two records, 0-100, or ``None`` when either side is missing.

The only module that imports rapidfuzz (Max Bachmann, https://github.com/rapidfuzz/RapidFuzz).
A missing value is never evidence: every scorer returns ``None`` when either input is empty, so
blank fields cannot make two strangers look alike. Thresholds live in the rule file, not here.

Scorers by name (``SCORERS``):

=================  ==========================================================================
``exact``          100 when equal, else 0
``ratio``          rapidfuzz ``fuzz.ratio`` (normalised Indel similarity)
``jaro_winkler``   rapidfuzz ``JaroWinkler.normalized_similarity`` x 100 (Winkler 1990)
``token_sort``     ``fuzz.token_sort_ratio``: word order ignored ("rowan ashby" = "ashby rowan")
``token_set``      ``fuzz.token_set_ratio``: one name a subset of the other scores 100
``partial``        ``fuzz.partial_ratio``: best matching substring
``given_name``     100 equal; 95 nickname of each other (``nicknames`` groups); 90 an initial
                   that fits ("Y." vs "Yusuf"); else Jaro-Winkler
``person_name``    (given, family) pairs: the best of token_sort over the full names and
                   min(given_name, jaro_winkler of family names)
=================  ==========================================================================

``given_name`` and ``person_name`` fold their inputs themselves (``normalize.fold``), so
``"Bob"`` and ``"robert"`` are nicknames of each other; the other scorers compare the values
as given (:mod:`graph.resolution.features` folds them first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from graph.normalize import fold, name_variants

__all__ = ["SCORERS", "Scorer", "score"]

Scorer = Callable[[Any, Any], float]


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value if not _empty(v))
    return str(value)


def _empty(value: Any) -> bool:
    """None, whitespace-only text, or a tuple whose parts are all empty (``()`` included)."""
    if value is None:
        return True
    if type(value) is str:
        return not value or value.isspace()
    if isinstance(value, tuple):
        return all(_empty(v) for v in value)
    return isinstance(value, str) and not value.strip()


def _name_key(value: Any) -> str:
    """A name in comparison form; text that folds to nothing (punctuation, a placeholder) is
    compared case-insensitively as written, so equal inputs still score as equal."""
    text = _text(value)
    return fold(text) or " ".join(text.casefold().split())


def exact(a: Any, b: Any) -> float:
    return 100.0 if a == b else 0.0


def ratio(a: Any, b: Any) -> float:
    return fuzz.ratio(_text(a), _text(b))


def jaro_winkler(a: Any, b: Any) -> float:
    return JaroWinkler.normalized_similarity(_text(a), _text(b)) * 100.0


def token_sort(a: Any, b: Any) -> float:
    return fuzz.token_sort_ratio(_text(a), _text(b))


def token_set(a: Any, b: Any) -> float:
    return fuzz.token_set_ratio(_text(a), _text(b))


def partial(a: Any, b: Any) -> float:
    return fuzz.partial_ratio(_text(a), _text(b))


def given_name(a: Any, b: Any) -> float:
    a, b = _name_key(a), _name_key(b)
    if a == b:
        return 100.0
    if b in name_variants(a) or a in name_variants(b):
        return 95.0
    short, long = sorted((a, b), key=len)
    if len(short) == 1 and long.startswith(short):
        return 90.0
    return jaro_winkler(a, b)


def _name_parts(value: Any) -> tuple[str, str]:
    given, family = value
    return ("" if _empty(given) else _name_key(given), "" if _empty(family) else _name_key(family))


def person_name(a: Any, b: Any) -> float:
    a, b = _name_parts(a), _name_parts(b)
    (given_a, family_a), (given_b, family_b) = a, b
    best = token_sort(a, b)
    if given_a and given_b and family_a and family_b:
        best = max(best, min(given_name(given_a, given_b), jaro_winkler(family_a, family_b)))
    return best


SCORERS: dict[str, Scorer] = {
    "exact": exact,
    "ratio": ratio,
    "jaro_winkler": jaro_winkler,
    "token_sort": token_sort,
    "token_set": token_set,
    "partial": partial,
    "given_name": given_name,
    "person_name": person_name,
}


def score(scorer: str, a: Any, b: Any) -> float | None:
    """Score two field values with the named scorer (0-100), ``None`` when either is missing.

    Raises ``KeyError`` for an unknown scorer name (rule files are validated before use).
    """
    if _empty(a) or _empty(b):
        return None
    return round(SCORERS[scorer](a, b), 2)
