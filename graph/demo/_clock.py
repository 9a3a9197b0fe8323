"""The demo data's time line: epoch seconds in UTC, written as ISO 8601 with ``Z``.

Every timestamp the generator writes falls in ``[START, END]`` (2021-01-01 to 2026-10-31 UTC);
dates of birth fall in 1940..2007. Times are plain ``int`` seconds so they are cheap to draw.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

__all__ = [
    "DAY",
    "END",
    "START",
    "between",
    "birth_date",
    "iso",
    "iso_millis",
]

DAY = 86_400
START = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC).timestamp())
_FIRST_BIRTH = date(1940, 1, 1).toordinal()
_LAST_BIRTH = date(2007, 12, 31).toordinal()


def between(rng: random.Random, low: int, high: int) -> int:
    """A uniform time in ``[low, high]`` cut at ``END``; the lower end when that is empty."""
    low, high = min(low, END), min(high, END)
    return low if high <= low else rng.randint(low, high)


def iso(ts: int) -> str:
    """``2024-05-01T10:22:33Z`` for epoch seconds ``ts``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(ts: int) -> str:
    """``2024-05-01T10:22:33.000Z``, the service desk's style, for epoch seconds ``ts``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def birth_date(rng: random.Random, near: date | None = None, spread_years: int = 0) -> date:
    """A date of birth in 1940..2007; within ``spread_years`` of ``near`` when given."""
    low, high = _FIRST_BIRTH, _LAST_BIRTH
    if near is not None:
        low = max(low, near.toordinal() - 365 * spread_years)
        high = min(high, near.toordinal() + 365 * spread_years)
    return date.fromordinal(rng.randint(low, high))
