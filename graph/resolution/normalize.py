"""Normalization: raw source-record values in, stored values and match keys out.

The first stage of resolution. Every function is pure (no I/O, no Neo4j) and total over
``object`` input: identifiers come back as a :class:`Normalized` whose ``status`` says whether
the value may be used as evidence (``"ok"``) or must not be (``"empty"``, ``"placeholder"``,
``"invalid"``); names, addresses and countries come back as plain strings. Only the date
parsers and :func:`normalize_country` raise, with :class:`ValueError` and a short reason.

The work is delegated to libraries wherever one exists: Unicode folding to ``anyascii``, phone
numbers to ``phonenumbers`` (Google's libphonenumber metadata), email syntax to
``email_validator``, countries to ``pycountry`` (ISO 3166-1 and its translations), dates to
``dateutil`` and nicknames to ``nicknames`` (Old Dominion University's name groups).
"""

from __future__ import annotations

import gettext
import string
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal

import phonenumbers
import pycountry
from anyascii import anyascii
from dateutil import parser as dateutil_parser
from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_local_part
from nicknames import NickNamer

__all__ = [
    "BLANK_PLACEHOLDERS",
    "GENERIC_EMAIL_LOCAL_PARTS",
    "GMAIL_DOMAINS",
    "PLACEHOLDER_EMAIL_LOCAL_PARTS",
    "RESERVED_EMAIL_DOMAINS",
    "STREET_WORDS",
    "Normalized",
    "Status",
    "clean_text",
    "fold",
    "fold_address",
    "is_blank",
    "name_variants",
    "normalize_country",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "normalize_postcode",
    "postcode_key",
    "parse_date",
    "parse_datetime",
]

Status = Literal["ok", "empty", "placeholder", "invalid"]


@dataclass(frozen=True, slots=True)
class Normalized:
    """One normalized value.

    ``raw`` is the value as received (non-strings as ``str(raw)``). ``value`` (to store and
    show) and ``key`` (to match on) are set only when ``status == "ok"``; ``reason`` says why
    when the status is ``"placeholder"`` or ``"invalid"``.
    """

    raw: str | None
    value: str | None
    key: str | None
    status: Status
    reason: str | None = None


def _raw(raw: object) -> str | None:
    return raw if raw is None or isinstance(raw, str) else str(raw)


def _empty(raw: object) -> Normalized:
    return Normalized(_raw(raw), None, None, "empty")


def _rejected(raw: object, status: Status, reason: str) -> Normalized:
    return Normalized(_raw(raw), None, None, status, reason)


# --- text -------------------------------------------------------------------------------------

#: What clerks type for "no value", compared case-insensitively after whitespace collapsing.
BLANK_PLACEHOLDERS = frozenset(
    {"-", "--", ".", "?", "n/a", "na", "none", "null", "nil", "unknown", "not provided",
     "x", "xx", "0"}
)

# Invisible characters that arrive from spreadsheets (byte-order mark, zero-width space).
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b")

# In fold(): separators become spaces, all other ASCII punctuation disappears (O'Brien -> obrien,
# J.R. -> jr). Commas and brackets separate too, so "Smith,John" does not fuse into one word.
_SEPARATORS = "-/\\_,;:+&|()[]{}<>"
_FOLD_TABLE = str.maketrans(
    _SEPARATORS, " " * len(_SEPARATORS),
    "".join(c for c in string.punctuation if c not in _SEPARATORS),
)


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
        if cleaned and (len(cleaned) > _LONGEST_PLACEHOLDER or
                        cleaned.lower() not in BLANK_PLACEHOLDERS):
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
_FOLD_ASCII_TABLE = str.maketrans({
    c: " " if c in _SEPARATORS else c if c.isalnum() or c.isspace() else None
    for c in map(chr, range(128))
})


def _fold_chars(text: str) -> str:
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
    folded = _fold_chars(text)
    return "" if is_blank(folded) else folded


def fold(text: str | None) -> str:
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
    folded = _fold_chars(text)
    return "" if is_blank(folded) else folded


# --- names ------------------------------------------------------------------------------------


def normalize_name(raw: object) -> Normalized:
    """A person-name part: value = :func:`clean_text` (hyphens, case kept), key = :func:`fold`.

    ``"placeholder"`` when the text folds to a blank placeholder ("N.A."), ``"invalid"`` when
    it has no letters or digits at all ("...").
    """
    text = clean_text(raw)
    if text is None:
        return _empty(raw)
    folded = _fold_chars(text)
    if not folded:
        return _rejected(raw, "invalid", "no letters or digits")
    if is_blank(folded):
        return _rejected(raw, "placeholder", "placeholder name")
    return Normalized(_raw(raw), text, folded, "ok")


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


# --- email ------------------------------------------------------------------------------------

#: Local parts that are junk on any domain, compared with ".", "-" and "_" removed and any
#: "+tag" dropped (so no-reply, no_reply and no.reply all match "noreply").
PLACEHOLDER_EMAIL_LOCAL_PARTS = frozenset(
    {"noemail", "nomail", "noaddress", "noreply", "donotreply", "dontreply", "unknown",
     "nobody", "noone", "none", "null", "nil", "notprovided", "notgiven", "declined",
     "refused", "test", "dummy", "fake"}
)

#: Local parts that are junk only on a reserved domain or on a domain named after themselves
#: (email@email.com, a@a.com, x@example.com) but may be real elsewhere (a@smith.family).
GENERIC_EMAIL_LOCAL_PARTS = frozenset(
    {"a", "x", "xx", "xxx", "na", "email", "mail", "abc", "asdf", "foo", "user", "name",
     "sample", "info", "customer", "me"}
)

#: Reserved for documentation and testing by RFC 2606 / RFC 6761: whole domains, and TLDs.
RESERVED_EMAIL_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost"})

#: Gmail ignores dots in the local part and treats googlemail.com as gmail.com
#: (https://support.google.com/mail/answer/7436150).
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# What people type into an email field instead of an address.
_NO_EMAIL_PHRASES = frozenset(
    {"noemail", "no email", "no mail", "no e mail", "none given", "declined", "refused"}
)


_LOCAL_PART_SEPARATORS = str.maketrans("", "", ".-_")


def _local_base(local: str) -> str:
    base = local.split("+", 1)[0]
    return base or local


def _is_placeholder_email(address: str) -> bool:
    local, _, domain = address.lower().rpartition("@")
    squeezed = _local_base(local).translate(_LOCAL_PART_SEPARATORS)
    if squeezed in PLACEHOLDER_EMAIL_LOCAL_PARTS:
        return True
    reserved = domain in RESERVED_EMAIL_DOMAINS or domain.rsplit(".", 1)[-1] in _RESERVED_TLDS
    return squeezed in GENERIC_EMAIL_LOCAL_PARTS and (reserved or domain.split(".")[0] == squeezed)


def _email_key(local: str, domain: str) -> str:
    base = _local_base(local)
    if domain in GMAIL_DOMAINS:
        return f"{base.replace('.', '')}@gmail.com"
    return f"{base}@{domain}"


def normalize_email(raw: object) -> Normalized:
    """An email address: value = the address lower-cased, key = its mailbox match key.

    Syntax is checked by ``email_validator`` (no DNS; a display name ``Bob <bob@x.com>`` and a
    ``mailto:`` prefix are accepted and dropped). The key lower-cases the whole address and
    drops a ``+tag`` on every domain, since sub-addressing is near universal (Gmail, Outlook,
    Fastmail, Proton) and a tag never names another person. Dots are removed only for Gmail
    (googlemail.com -> gmail.com): elsewhere ``jon.pike`` and ``jonpike`` are different
    mailboxes. Junk addresses (see the ``*_EMAIL_*`` constants) are ``"placeholder"``; bad
    syntax is ``"invalid"`` with the validator's message as reason. Never raises.
    """
    text = clean_text(raw)
    if text is None:
        return _empty(raw)
    value, key, status, reason = _email_verdict(text)
    return Normalized(_raw(raw), value, key, status, reason)


# (value, key, status, reason) of a Normalized, without its raw text.
_Verdict = tuple[str | None, str | None, Status, str | None]
_PLACEHOLDER_EMAIL: _Verdict = (None, None, "placeholder", "placeholder email")


@lru_cache(maxsize=65536)
def _email_verdict(text: str) -> _Verdict:
    """:func:`normalize_email` of cleaned text, cached: one address arrives from several
    sources."""
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    if "@" not in text and fold(text) in _NO_EMAIL_PHRASES:
        return _PLACEHOLDER_EMAIL
    if "@" in text and _is_placeholder_email(text):
        return _PLACEHOLDER_EMAIL
    try:
        local, domain = _checked_address(text)
    except EmailNotValidError as exc:
        return None, None, "invalid", str(exc)
    if _is_placeholder_email(f"{local}@{domain}"):
        return _PLACEHOLDER_EMAIL
    return f"{local}@{domain}", _email_key(local, domain), "ok", None


@lru_cache(maxsize=65536)
def _checked_domain(domain: str) -> str:
    """email_validator's verdict on a domain, cached: domains repeat across millions of
    addresses and their check is most of the validator's cost (~70 us an address)."""
    return validate_email(f"a@{domain}", check_deliverability=False).domain.lower()


def _checked_address(text: str) -> tuple[str, str]:
    """(local part, domain) lower-cased, as email_validator accepts them; raises
    ``EmailNotValidError``. A plain ``local@domain`` is checked in two library calls (the
    local part, then the cached domain); anything else (display names, quoting) whole."""
    local, at, domain = text.rpartition("@")
    if at and local and domain and not any(c in text for c in ' <>"(),;:\\[]'):
        validate_email_local_part(local, allow_smtputf8=True)
        return local.lower(), _checked_domain(domain.lower())
    checked = validate_email(text, check_deliverability=False, allow_display_name=True)
    return checked.local_part.lower(), checked.domain.lower()


# --- phone ------------------------------------------------------------------------------------

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


_NOT_ASCII_DIGITS = str.maketrans("", "", "".join(c for c in map(chr, range(128))
                                                  if c not in string.digits))


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
        return _empty(raw)
    if default_region is None or type(default_region) is str:
        value, key, status, reason = _phone_verdict(text, default_region)
    else:
        value, key, status, reason = _phone_verdict.__wrapped__(text, default_region)
    return Normalized(_raw(raw), value, key, status, reason)


@lru_cache(maxsize=65536)
def _phone_verdict(text: str, default_region: object) -> _Verdict:
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
    if (calling_code and _country_code_digits(text, digits) is None
            and digits.startswith(calling_code) and not text.lstrip().startswith("0")):
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


# --- country and postcode ---------------------------------------------------------------------

# Names in common use that ISO 3166-1 (and so pycountry) does not list, folded.
_COUNTRY_ALIASES = {
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "russia": "RU", "turkey": "TR",
    "ivory coast": "CI", "holland": "NL", "america": "US",
}

# Languages whose pycountry (iso-codes) translations are searched for country names.
_COUNTRY_NAME_LANGUAGES = ("de", "fr", "es", "it", "nl", "pl", "pt", "sv", "da")


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Folded English and translated ISO 3166-1 names -> alpha-2, built once."""
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in _COUNTRY_NAME_LANGUAGES
    ]
    names: dict[str, str] = dict(_COUNTRY_ALIASES)
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            english = getattr(country, attr, None)
            if english is None:
                continue
            for spelling in [english, *(t.gettext(english) for t in translations)]:
                names.setdefault(fold(spelling), country.alpha_2)
    return names


def normalize_country(raw: object) -> str | None:
    """ISO 3166-1 alpha-2, upper case, from a code, an English name or a translated name.

    ``"gb"``, ``"GBR"``, ``"826"``, ``"United Kingdom"``, ``"UK"`` -> ``"GB"``;
    ``"Deutschland"`` -> ``"DE"`` (pycountry's de/fr/es/it/nl/pl/pt/sv/da translations).
    None when blank: note that ``"NA"`` is a blank placeholder, so Namibia must arrive as
    ``"NAM"`` or by name. Raises ``ValueError("unknown country 'Xyz'")`` otherwise.
    """
    return _country(raw) if isinstance(raw, str) else _country_uncached(raw)


@lru_cache(maxsize=4096)
def _country(raw: str) -> str | None:
    return _country_uncached(raw)


def _country_uncached(raw: object) -> str | None:
    text = clean_text(raw)
    if text is None:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    code = _country_names().get(fold(text))
    if code is None:
        raise ValueError(f"unknown country '{text}'")
    return code


def normalize_postcode(raw: object) -> Normalized:
    """A postcode: value upper case with whitespace collapsed (``"NR2 4AB"``, ``"31-147"``),
    key without spaces and hyphens (``"NR24AB"``, ``"31147"``).

    ``"placeholder"`` for all zeros (``"00000"``), ``"invalid"`` when anything but letters,
    digits, spaces and hyphens is left.
    """
    text = clean_text(raw)
    if text is None:
        return _empty(raw)
    value, key, status, reason = _postcode_verdict(text)
    return Normalized(_raw(raw), value, key, status, reason)


def postcode_key(raw: object) -> str | None:
    """``normalize_postcode(raw).key``, without building the :class:`Normalized`."""
    text = clean_text(raw)
    return None if text is None else _postcode_verdict(text)[1]


def _postcode_verdict(text: str) -> _Verdict:
    value = text.upper()
    key = value.replace(" ", "").replace("-", "")
    if not (key.isascii() and key.isalnum()):  # (False when empty)
        return None, None, "invalid", "postcode has characters other than letters and digits"
    if not key.strip("0"):
        return None, None, "placeholder", "all-zero postcode"
    return value, key, "ok", None


# --- addresses --------------------------------------------------------------------------------

#: Street words folded to one token per meaning. English abbreviations follow USPS
#: Publication 28, appendix C1; the others are the usual abbreviations on French, Spanish,
#: German and Polish mail.
STREET_WORDS: dict[str, tuple[str, ...]] = {
    # English
    "st": ("street", "strasse", "str"),  # German Straße/Str. written as a separate word
    "rd": ("road",),
    "ave": ("avenue", "av", "avenida", "avda"),  # also French av., Spanish avda.
    "ln": ("lane",),
    "dr": ("drive",),
    "ct": ("court",),
    "pl": ("place", "plac", "plaza", "pza", "platz"),  # also French, Polish, Spanish, German
    "sq": ("square",),
    "blvd": ("boulevard", "bd", "bvd"),
    "cres": ("crescent",),
    "ter": ("terrace",),
    "hwy": ("highway",),
    "apt": ("apartment",),
    "ste": ("suite",),
    # French
    "ch": ("chemin",),
    "imp": ("impasse",),
    "fbg": ("faubourg",),
    "rte": ("route",),
    # Spanish ("C/" for calle is handled as a first word, see fold_address)
    "pso": ("paseo",),
    "ctra": ("carretera",),
    # Polish
    "ulica": ("ul",),
    "aleja": ("al", "aleje"),
    "osiedle": ("os",),
}
_STREET_TOKENS = {v: canon for canon, variants in STREET_WORDS.items() for v in variants}

# Ordinal indicators and the degree sign typed for them ("2ºB", "N° 5") vanish, as anyascii
# would turn them into letters; a dot separates words ("ul.Długa", "Hauptstr.5").
_ADDRESS_TABLE = str.maketrans({"º": None, "ª": None, "°": None, ".": " "})
_COMPOUND_STREET = "strasse"


def _street_token(token: str, first: bool) -> str:
    if first and token == "c":
        return "calle"
    if token.endswith(_COMPOUND_STREET) and len(token) > len(_COMPOUND_STREET):
        return token.removesuffix(_COMPOUND_STREET) + "str"  # Hauptstraße == Hauptstr.
    return _STREET_TOKENS.get(token, token)


def fold_address(raw: object) -> str:
    """An address line in comparison form: :func:`fold` plus street-word normalization.

    ``"4 Mill Lane"`` == ``"4 mill ln"``, ``"C/ del Olmo 7"`` -> ``"calle del olmo 7"``,
    ``"Calle del Olmo 7, 2ºB"`` -> ``"calle del olmo 7 2b"``, ``"ul. Długa 5/3"`` ->
    ``"ulica dluga 5 3"``. See :data:`STREET_WORDS`. "" when blank.
    """
    text = clean_text(raw)
    if text is None:
        return ""
    tokens = fold(text.translate(_ADDRESS_TABLE)).split()
    words = [_street_word(token) for token in tokens]
    if words and tokens[0] == "c":
        words[0] = _street_token("c", True)
    return " ".join(words)


@lru_cache(maxsize=65536)  # house numbers and street names repeat
def _street_word(token: str) -> str:
    return _street_token(token, False)


# --- dates ------------------------------------------------------------------------------------

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
