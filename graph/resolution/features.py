"""Comparison features of a source record: the folded, normalised values rules compare.

Built from the record's stored properties (already cleaned at ingest), so resolution never
re-reads raw input. Pure; no Neo4j.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph.normalize import fold, fold_address, normalize_email, postcode_key

__all__ = ["Features", "features_of", "national_id_key", "record_features"]


@dataclass(frozen=True, slots=True)
class Features:
    """What the rules compare for one record (``key`` is ``source:id``).

    Text fields are folded (case, accents, punctuation); ``email`` is the match key (Gmail dots
    and +tags removed), ``phone`` E.164, ``postcode`` without spaces, ``birthDate`` ISO.
    Missing values are ``None`` or ``""`` and never count as evidence.
    """

    key: str
    source: str = ""
    givenName: str = ""
    familyName: str = ""
    birthDate: str | None = None
    email: str | None = None
    phone: str | None = None
    loyaltyId: str | None = None
    address: str = ""
    postcode: str | None = None
    city: str = ""
    country: str | None = None
    nationalId: str | None = None

    @property
    def fullName(self) -> tuple[str, str]:
        return (self.givenName, self.familyName)

    def get(self, field: str) -> Any:
        """The value of a rule field (see ``rules.FEATURE_FIELDS``)."""
        return getattr(self, field)


def features_of(props: Mapping[str, Any], email_key: str | None = None) -> Features:
    """Features from a record's property map (``key``, ``source``, ``givenName`` ...).

    ``birthDate`` may be a ``date``/neo4j ``Date`` or an ISO string. ``email_key``, when the
    caller has it (the record's EMAIL identifier), saves normalising the email again.
    """
    email = props.get("email")
    return record_features(
        props["key"],
        props.get("source"),
        props,
        email_key or (normalize_email(email).key if email else None),
        props.get("phone"),
        props.get("loyaltyId"),
    )


def record_features(
    key: object,
    source: object,
    props: Mapping[str, Any],
    email: str | None,
    phone: str | None,
    loyalty: object,
) -> Features:
    """:func:`features_of` with the key, source, email key, phone and loyalty id given apart
    from ``props`` (whose own ``email``, ``phone`` and ``loyaltyId`` are not read)."""
    get = props.get
    birth = get("birthDate")
    line1, line2 = get("addressLine1"), get("addressLine2")
    if line1 and line2:
        address = str(line1) + " " + str(line2)
    else:
        address = str(line1 or line2) if line1 or line2 else ""
    return Features(
        key=str(key),
        source=str(source or ""),
        givenName=fold(get("givenName")),
        familyName=fold(get("familyName")),
        birthDate=str(birth)[:10] if birth else None,
        email=email,
        phone=phone or None,
        loyaltyId=str(loyalty).strip().upper() if loyalty else None,
        address=fold_address(address) if address else "",
        postcode=postcode_key(get("postcode")),
        city=fold(get("city")),
        country=get("country") or None,
        nationalId=national_id_key(get("nationalId")),
    )


def national_id_key(raw: object) -> str | None:
    """A national id (SSN-like) in comparison form: its letters and digits, upper case, so
    ``"123-45 678"`` == ``"12345678"``; None when it has none."""
    if raw is None:
        return None
    key = "".join(c for c in str(raw) if c.isalnum()).upper()
    return key or None
