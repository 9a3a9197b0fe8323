"""Normalization: raw source-record values in, stored values and match keys out.

The first stage of resolution, and the vocabulary every other layer cleans values with. Every
function is pure (no I/O, no Neo4j) and total over ``object`` input: identifiers come back as a
:class:`Normalized` whose ``status`` says whether the value may be used as evidence (``"ok"``)
or must not be (``"empty"``, ``"placeholder"``, ``"invalid"``); names, addresses and countries
come back as plain strings. Only the date parsers and :func:`normalize_country` raise, with
:class:`ValueError` and a short reason.

The work is delegated to libraries wherever one exists: Unicode folding to ``anyascii``, phone
numbers to ``phonenumbers`` (Google's libphonenumber metadata), email syntax to
``email_validator``, countries to ``pycountry`` (ISO 3166-1 and its translations), dates to
``dateutil`` and nicknames to ``nicknames`` (Old Dominion University's name groups).

One module per kind of value: :mod:`~graph.normalize.text`, :mod:`~graph.normalize.names`,
:mod:`~graph.normalize.email`, :mod:`~graph.normalize.phone`,
:mod:`~graph.normalize.national_id`, :mod:`~graph.normalize.places`
(countries, postcodes, addresses), :mod:`~graph.normalize.dates` and
:mod:`~graph.normalize.limits` (values refused before any of them), and
:mod:`~graph.normalize.masking` (identifiers masked for display); this package re-exports
their public names.
"""

from __future__ import annotations

from graph.normalize.dates import parse_date, parse_datetime, parse_moment
from graph.normalize.email import (
    GENERIC_EMAIL_LOCAL_PARTS,
    GMAIL_DOMAINS,
    PLACEHOLDER_EMAIL_LOCAL_PARTS,
    RESERVED_EMAIL_DOMAINS,
    normalize_email,
)
from graph.normalize.limits import control_character, number_for_text, text_problem
from graph.normalize.names import name_variants, normalize_name, person_case
from graph.normalize.national_id import normalize_national_id
from graph.normalize.phone import normalize_phone
from graph.normalize.places import (
    STREET_WORDS,
    fold_address,
    normalize_country,
    normalize_postcode,
    postcode_key,
)
from graph.normalize.text import BLANK_PLACEHOLDERS, clean_text, fold, is_blank
from graph.normalize.values import Normalized, Status

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
    "control_character",
    "fold",
    "fold_address",
    "is_blank",
    "name_variants",
    "normalize_country",
    "normalize_email",
    "normalize_name",
    "person_case",
    "normalize_national_id",
    "normalize_phone",
    "normalize_postcode",
    "number_for_text",
    "parse_date",
    "parse_datetime",
    "parse_moment",
    "postcode_key",
    "text_problem",
]
