"""Phone numbers to E.164 with ``phonenumbers`` (Google's libphonenumber metadata); junk
numbers (too short, all one digit, runs) rejected. Pure.
"""

from __future__ import annotations

import string
from functools import lru_cache

import phonenumbers

from graph.normalize.places import normalize_country
from graph.normalize.text import clean_text
from graph.normalize.values import (
    Normalized,
    Verdict,
    empty_value,
    raw_text,
)

__all__ = ["normalize_phone"]

_MIN_PHONE_DIGITS = 6
_ASCENDING = "01234567890123456789"
_DESCENDING = "98765432109876543210"


def _phone_region(default_region: object) -> str | None:
    if default_region is None:
        return None
    try:
        return normalize_country(default_region)
    except ValueError:
        return None


def _country_code_digits(text: str, digits: str) -> str | None:
    """The digits after an international prefix (``+`` or ``00``), None without one."""
    if text.removeprefix("tel:").lstrip().startswith("+"):
        return digits
    return digits[2:] if digits.startswith("00") else None


def _short_phone_reason(text: str, digits: str) -> str:
    code = _country_code_digits(text, digits)
    if code and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        return "bare country code"
    return f"fewer than {_MIN_PHONE_DIGITS} digits"


_NOT_ASCII_DIGITS = str.maketrans(
    "", "", "".join(c for c in map(chr, range(128)) if c not in string.digits)
)


def _digits(text: str) -> str:
    """``phonenumbers.normalize_digits_only``, without its per-character loop for ASCII text
    (whose only digits are 0-9)."""
    if text.isascii():
        return text.translate(_NOT_ASCII_DIGITS)
    return phonenumbers.normalize_digits_only(text)


def _is_junk_number(national: str) -> bool:
    return len(set(national)) == 1 or national in _ASCENDING or national in _DESCENDING


def normalize_phone(raw: object, default_region: str | None = None) -> Normalized:
    """A phone number: value = key = E.164 (``"+12025550188"``). Never raises.

    ``default_region`` is the record's country (ISO alpha-2, or anything
    :func:`normalize_country` reads), used for numbers written without ``+``/``00`` and a
    country code. Parsing and validation are ``phonenumbers``'. A number is ``"ok"`` when
    valid, or when merely *possible* (right length for its country): libphonenumber's ranges
    lag new allocations and leave out Ofcom's drama ranges (07700 900xxx), and such a number
    is still a usable key. ``"placeholder"``: fewer than 6 digits, a bare country code
    (``"+43"``), one repeated digit (``"(000) 000-0000"``) or a run like ``1234567890``.
    ``"invalid"``: no digits, a national number without a region, or anything else
    phonenumbers rejects.
    """
    text = clean_text(raw)
    if text is None:
        return empty_value(raw)
    if default_region is None or type(default_region) is str:
        value, key, status, reason = _phone_verdict(text, default_region)
    else:
        value, key, status, reason = _phone_verdict.__wrapped__(text, default_region)
    return Normalized(raw_text(raw), value, key, status, reason)


@lru_cache(maxsize=65536)
def _phone_verdict(text: str, default_region: object) -> Verdict:
    """:func:`normalize_phone` of cleaned text, cached: a number may arrive from several
    sources."""
    digits = _digits(text)
    if not digits:
        return None, None, "invalid", "no digits"
    if len(digits) < _MIN_PHONE_DIGITS:
        return None, None, "placeholder", _short_phone_reason(text, digits)
    if _is_junk_number(digits):
        return None, None, "placeholder", "repeated or sequential digits"
    region = _phone_region(default_region)
    if region is None and _country_code_digits(text, digits) is None:
        return None, None, "invalid", "no +country code and no known default region"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return None, None, "invalid", f"not a phone number: {exc}"
    if _is_junk_number(phonenumbers.national_significant_number(number)):
        return None, None, "placeholder", "repeated or sequential digits"
    calling_code = str(phonenumbers.country_code_for_region(region)) if region else ""
    if (
        calling_code
        and _country_code_digits(text, digits) is None
        and digits.startswith(calling_code)
        and not text.lstrip().startswith("0")
    ):
        # "491751267623" from a German record: its country code without "+" or "00"
        try:
            international = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            international = None
        if international is not None and phonenumbers.is_valid_number(international):
            number = international
    # is_possible_number is the cheap length check; is_valid_number matches every range.
    if not (phonenumbers.is_possible_number(number) or phonenumbers.is_valid_number(number)):
        return None, None, "invalid", "not a valid number for its country"
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, e164, "ok", None
