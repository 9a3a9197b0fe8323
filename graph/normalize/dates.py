"""Dates and moments in the many formats source systems write (``dateutil``), within
plausible bounds. Pure; the parsers raise :class:`ValueError` with a short reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from dateutil import parser as dateutil_parser

from graph.normalize.text import clean_text, is_blank

__all__ = ["parse_date", "parse_datetime", "parse_moment"]

_MIN_YEAR = 1900
# Two defaults for dateutil: a part missing from the text takes a different value from each,
# so the two results differ and the gap is caught instead of silently filled.
_DATEUTIL_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_THRESHOLD = 10**11  # epoch seconds pass 10^11 only in the year 5138


@lru_cache(maxsize=65536)  # a birth date arrives from several sources
def _date_from_text(text: str, dayfirst: bool) -> date:
    for iso_parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            parsed = iso_parse(text)
        except ValueError:
            continue
        return parsed.date() if isinstance(parsed, datetime) else parsed
    # Year first is always year-month-day ("1986/08/30"); without this dateutil would read
    # "1986-13-01" as the 13th of January.
    year_first = text[:4].isdigit()
    try:
        first, second = (
            dateutil_parser.parse(
                text, dayfirst=dayfirst and not year_first, yearfirst=year_first, default=default
            )
            for default in _DATEUTIL_DEFAULTS
        )
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unparseable date '{text}'") from exc
    if first.date() != second.date():
        raise ValueError(f"incomplete date '{text}': needs year, month and day")
    return first.date()


def _plausible(parsed: date, text: str) -> date:
    if parsed.year < _MIN_YEAR:
        raise ValueError(f"implausible date '{text}': before {_MIN_YEAR}")
    if parsed > datetime.now(UTC).date():
        raise ValueError(f"implausible date '{text}': in the future")
    return parsed


def parse_date(raw: object, *, dayfirst: bool = True) -> date | None:
    """A calendar date (a birth date, say) from the formats source systems write.

    ISO (``1986-08-30``, ``19860830``, an ISO datetime: its date as written), then
    ``dateutil`` for ``30.08.1986``, ``30/08/1986``, ``30 Aug 1986``, ``August 30, 1986``...
    ``dayfirst`` settles ``03/04/1986``; a day above 12 is recognised either way. None when
    blank. Raises ``ValueError`` for text that is unparseable, lacks a year, month or day
    (``"Aug 1986"``), is before 1900 or is in the future.
    """
    if isinstance(raw, datetime):
        return _plausible(raw.date(), raw.isoformat())
    if isinstance(raw, date):
        return _plausible(raw, raw.isoformat())
    text = clean_text(raw)
    if text is None:
        return None
    return _plausible(_date_from_text(text, dayfirst), text)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_epoch(number: int | float) -> datetime:
    try:
        if abs(number) > _MS_THRESHOLD:
            return _EPOCH + timedelta(milliseconds=number)
        return _EPOCH + timedelta(seconds=number)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"epoch time out of range: {number!r}") from exc


def parse_datetime(raw: object) -> datetime | None:
    """A timezone-aware UTC datetime (an ``updatedAt``, say).

    Accepts datetimes (naive ones are taken as UTC), dates (midnight UTC), ISO 8601 text with
    ``Z``, an offset or none (UTC), and epoch seconds or milliseconds (above 10^11) as int,
    float or a string of digits. None when blank (``0`` and ``"0"`` included). Raises
    ``ValueError`` for anything else.
    """
    if isinstance(raw, datetime):
        return _as_utc(raw)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        raise ValueError(f"not a timestamp: {raw!r}")
    if isinstance(raw, int | float):
        return _from_epoch(raw)
    text = clean_text(raw) or ""
    if text.isascii() and text.isdigit():
        return _from_epoch(int(text))
    try:
        return _as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 timestamp or epoch time: '{text}'") from exc


def parse_moment(raw: object) -> datetime:
    """:func:`parse_datetime` for a value that must be a moment (a query bound, a stored
    timestamp): a timezone-aware UTC datetime. Raises ``ValueError`` for blank text and
    placeholders too (``"0"``, ``"n/a"``), which :func:`parse_datetime` reads as no value."""
    moment = parse_datetime(raw)
    if moment is None:
        raise ValueError(f"not a timestamp: {raw!r} is blank or a placeholder")
    return moment
