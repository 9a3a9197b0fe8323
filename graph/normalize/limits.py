"""Values no normaliser should see: over-long text, control characters, numbers for names.

Pure. Each function returns the reason a value is refused (a short sentence naming the
limit or the character) or None when the value may be normalised.
"""

from __future__ import annotations

import re

__all__ = ["control_character", "number_for_text", "text_problem"]

# C0 and C1 control characters (Unicode category Cc) and DEL, except tab, line feed and
# carriage return, which clean_text folds into spaces; plus lone surrogates (not text at all).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(text: str) -> str | None:
    """``U+0000 at character 5`` for the first control character in ``text``, else None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X} at character {found.start() + 1}"


def text_problem(value: object, max_chars: int) -> str | None:
    """Why text ``value`` is refused: longer than ``max_chars`` characters, or holding a
    control character; None for a value that is fine or is not text."""
    if not isinstance(value, str):
        return None
    if len(value) > max_chars:
        return f"is {len(value):,} characters long; the limit is {max_chars:,}"
    where = control_character(value)
    return None if where is None else f"contains the control character {where}"


def number_for_text(value: object) -> str | None:
    """The reason a JSON number is refused where a name or place belongs, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"is a number ({value!r}), not text"
    return None
