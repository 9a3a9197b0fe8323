"""Places: countries to ISO 3166-1 alpha-2 (``pycountry`` and its translations), postcodes,
and street addresses folded for comparison. Pure.
"""

from __future__ import annotations

import gettext
from functools import lru_cache

import pycountry

from graph.normalize.text import clean_text, fold
from graph.normalize.values import (
    Normalized,
    Verdict,
    empty_value,
    raw_text,
)

__all__ = [
    "STREET_WORDS",
    "fold_address",
    "normalize_country",
    "normalize_postcode",
    "postcode_key",
]

# Names in common use that ISO 3166-1 (and so pycountry) does not list, folded.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "russia": "RU",
    "turkey": "TR",
    "ivory coast": "CI",
    "holland": "NL",
    "america": "US",
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
        return empty_value(raw)
    value, key, status, reason = _postcode_verdict(text)
    return Normalized(raw_text(raw), value, key, status, reason)


def postcode_key(raw: object) -> str | None:
    """``normalize_postcode(raw).key``, without building the :class:`Normalized`."""
    text = clean_text(raw)
    return None if text is None else _postcode_verdict(text)[1]


def _postcode_verdict(text: str) -> Verdict:
    value = text.upper()
    key = value.replace(" ", "").replace("-", "")
    if not (key.isascii() and key.isalnum()):  # (False when empty)
        return None, None, "invalid", "postcode has characters other than letters and digits"
    if not key.strip("0"):
        return None, None, "placeholder", "all-zero postcode"
    return value, key, "ok", None


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
