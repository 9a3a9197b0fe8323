"""Government ids (a US social security number, a national insurance or personal number): one
key per id however it was written. Pure.
"""

from __future__ import annotations

from graph.normalize.text import clean_text
from graph.normalize.values import Normalized, empty_value, raw_text, rejected_value

__all__ = ["normalize_national_id"]

_MIN_LENGTH = 4
_MAX_LENGTH = 20
_SEPARATORS = str.maketrans("", "", " -./\u00a0")
_ASCENDING = "01234567890123456789"
_DESCENDING = "98765432109876543210"


def normalize_national_id(raw: object) -> Normalized:
    """A government id: value = key = the id without spaces, dashes, dots or slashes, upper
    case (``"078-05-1120"`` -> ``"078051120"``, ``"ab 12 34 56 c"`` -> ``"AB123456C"``). Never
    raises.

    ``"invalid"``: anything but letters and digits left, or fewer than 4 or more than 20 of
    them. ``"placeholder"``: no digit other than 0 (``"000-00-0000"``), one repeated
    character (``"999999999"``) or a run like ``123456789``. Reasons never repeat the value:
    they are shown where the id itself must not be.
    """
    text = clean_text(raw)
    if text is None:
        return empty_value(raw)
    key = text.translate(_SEPARATORS).upper()
    if not (key.isascii() and key.isalnum()):
        return rejected_value(raw, "invalid", "has characters other than letters and digits")
    if not _MIN_LENGTH <= len(key) <= _MAX_LENGTH:
        return rejected_value(
            raw, "invalid", f"must have {_MIN_LENGTH} to {_MAX_LENGTH} letters and digits"
        )
    digits = "".join(c for c in key if c.isdigit())
    if not digits.strip("0"):
        return rejected_value(raw, "placeholder", "is a placeholder (no digit but 0)")
    if len(set(key)) == 1 or key in _ASCENDING or key in _DESCENDING:
        return rejected_value(raw, "placeholder", "is a placeholder (a repeated digit or a run)")
    return Normalized(raw_text(raw), key, key, "ok")
