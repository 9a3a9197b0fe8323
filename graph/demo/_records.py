"""Source records in each demo system's native field names (see :mod:`graph.ingest.mappings`).

:data:`PROFILES` says how each system mangles people (rules as data); :func:`record_row` writes
one noisy :class:`~graph.demo._noise.Identity` as that system's row. Missing values are ``""``
in CSV files and ``null`` in JSON Lines files.
"""

from __future__ import annotations

import random
import uuid

from graph.demo._clock import iso, iso_millis
from graph.demo._noise import Identity, NoiseProfile
from graph.demo._people import LOCALES, TruePerson

__all__ = ["PROFILES", "RECORD_COLUMNS", "record_id", "record_row"]

PROFILES: dict[str, NoiseProfile] = {
    "service_desk": NoiseProfile(
        missing_email=0.10,
        missing_phone=0.15,
        missing_birth=0.30,
        missing_address=0.20,
        missing_country=0.03,
        upper=0.02,
        lower=0.01,
        fold_accents=0.05,
        phone_formats=(("E164", 0.8), ("INTERNATIONAL", 0.2)),
    ),
    "marketing": NoiseProfile(
        missing_email=0.02,
        missing_phone=0.35,
        missing_birth=0.90,
        missing_address=0.25,
        missing_country=0.05,
        upper=0.03,
        lower=0.08,
        fold_accents=0.10,
        phone_formats=(("DIGITS", 0.6), ("E164", 0.4)),
    ),
    "commerce": NoiseProfile(
        missing_email=0.01,
        missing_phone=0.25,
        missing_birth=0.30,
        missing_address=0.10,
        missing_country=0.02,
        upper=0.02,
        lower=0.05,
        fold_accents=0.08,
        phone_formats=(("NATIONAL", 0.7), ("E164", 0.15), ("INTERNATIONAL", 0.15)),
    ),
    "store_db": NoiseProfile(
        missing_email=0.35,
        missing_phone=0.15,
        missing_birth=0.20,
        missing_address=0.10,
        missing_country=0.05,
        upper=0.30,
        lower=0.02,
        fold_accents=0.20,
        phone_formats=(("COMPACT", 0.6), ("NATIONAL", 0.3), ("INTERNATIONAL", 0.1)),
        placeholders=0.02,
    ),
}

#: Column order of each CSV records file (JSON Lines files keep the same key order).
RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "service_desk": (
        "Id",
        "FirstName",
        "LastName",
        "PersonEmail",
        "PersonMobilePhone",
        "PersonBirthdate",
        "MailingStreet",
        "MailingCity",
        "MailingPostalCode",
        "MailingCountry",
        "LastModifiedDate",
    ),
    "marketing": (
        "SubscriberKey",
        "EmailAddress",
        "FirstName",
        "LastName",
        "MobileNumber",
        "Birthday",
        "City",
        "PostalCode",
        "Country",
        "ModifiedDate",
    ),
    "commerce": (
        "customer_no",
        "first_name",
        "last_name",
        "birthday",
        "email",
        "phone_home",
        "address1",
        "city",
        "postal_code",
        "country_code",
        "loyalty_id",
        "device_ids",
        "last_modified",
    ),
    "store_db": (
        "store_customer_id",
        "given_name",
        "surname",
        "date_of_birth",
        "email_address",
        "telephone",
        "street",
        "town",
        "postcode",
        "country",
        "loyalty_card",
        "updated",
    ),
}

_BY_COUNTRY = {locale.country: locale for locale in LOCALES}
_SERVICE_ID_MULTIPLIER = 387_420_489_271  # coprime with 10**12: sequence -> id is one-to-one


def record_id(source: str, number: int, rng: random.Random) -> str:
    """The native id of the ``number``-th record of ``source`` (1-based), unique per source
    (marketing keys are random UUIDs, unique but for a negligible collision)."""
    if source == "service_desk":
        return f"003{(number * _SERVICE_ID_MULTIPLIER + 500_000_000_000) % 10**12:012d}"
    if source == "marketing":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if source == "commerce":
        return f"{number:08d}"
    return str(1_000_000 + number)


def record_row(
    source: str,
    native_id: str,
    ident: Identity,
    person: TruePerson,
    rng: random.Random,
    updated: int,
) -> dict[str, object]:
    """``ident`` as a row of ``source``'s records file, keys in :data:`RECORD_COLUMNS` order."""
    locale = _BY_COUNTRY.get(ident.country)
    if source == "service_desk":
        return {
            "Id": native_id,
            "FirstName": ident.given,
            "LastName": ident.family,
            "PersonEmail": ident.email,
            "PersonMobilePhone": ident.phone,
            "PersonBirthdate": ident.birth_date,
            "MailingStreet": ident.street,
            "MailingCity": ident.city,
            "MailingPostalCode": ident.postcode,
            "MailingCountry": locale.country_name if locale else "",
            "LastModifiedDate": iso_millis(updated),
        }
    if source == "marketing":
        return {
            "SubscriberKey": native_id,
            "EmailAddress": ident.email,
            "FirstName": ident.given,
            "LastName": ident.family,
            "MobileNumber": ident.phone,
            "Birthday": ident.birth_date,
            "City": ident.city,
            "PostalCode": ident.postcode,
            "Country": ident.country,
            "ModifiedDate": iso(updated),
        }
    if source == "commerce":
        devices = [
            str(uuid.UUID(int=rng.getrandbits(128), version=4))
            for _ in range(rng.choices(range(4), (40, 35, 18, 7))[0])
        ]
        return {
            "customer_no": native_id,
            "first_name": ident.given or None,
            "last_name": ident.family or None,
            "birthday": ident.birth_date or None,
            "email": ident.email or None,
            "phone_home": ident.phone or None,
            "address1": ident.street or None,
            "city": ident.city or None,
            "postal_code": ident.postcode or None,
            "country_code": ident.country or None,
            "loyalty_id": _loyalty(person, rng, 0.85) or None,
            "device_ids": devices,
            "last_modified": iso(updated),
        }
    return {
        "store_customer_id": native_id,
        "given_name": ident.given,
        "surname": ident.family,
        "date_of_birth": ident.birth_date,
        "email_address": ident.email,
        "telephone": ident.phone,
        "street": ident.street,
        "town": ident.city,
        "postcode": ident.postcode,
        "country": locale.alpha3 if locale else "",
        "loyalty_card": _loyalty(person, rng, 0.90),
        "updated": iso(updated),
    }


def _loyalty(person: TruePerson, rng: random.Random, shown: float) -> str:
    if person.loyalty_id is None or rng.random() >= shown:
        return ""
    return person.loyalty_id
