"""Field mappings: each source kind's native field names to customer360's canonical names.

A source system exports its own column names (a service desk's ``FirstName``/``PersonEmail``, a
marketing platform's ``SubscriberKey``/``EmailAddress``, a commerce platform's
``customer_no``/``phone_home``). :data:`DEFAULT_MAPPINGS` maps them per source kind and file
type; a source may override or extend them in a TOML file (see :func:`load_mapping_file`)::

    [records]
    Mobile = "phone"          # native name = canonical name
    [orders]
    OrderRef = "orderId"

Canonical names are always accepted as they are, so a file already in canonical form needs no
mapping. A government id column is mapped by its common names for every kind
(:data:`NATIONAL_ID_NAMES`). Unmapped native fields are kept in the record's ``raw``
attributes, never dropped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from graph.errors import FieldError, ValidationError
from graph.models import CANONICAL_NAMES, EVENT_TYPES, SourceKind

__all__ = [
    "CANONICAL_NAMES",
    "DEFAULT_MAPPINGS",
    "NATIONAL_ID_NAMES",
    "load_mapping_file",
    "mapping_for",
    "rename",
]

_SERVICE = {
    "records": {
        "Id": "sourceId",
        "ContactId": "sourceId",
        "FirstName": "givenName",
        "LastName": "familyName",
        "Birthdate": "birthDate",
        "PersonBirthdate": "birthDate",
        "Email": "email",
        "PersonEmail": "email",
        "MobilePhone": "phone",
        "PersonMobilePhone": "phone",
        "Phone": "phone",
        "MailingStreet": "addressLine1",
        "MailingCity": "city",
        "MailingPostalCode": "postcode",
        "MailingCountry": "country",
        "MailingCountryCode": "country",
        "LoyaltyNumber__c": "loyaltyId",
        "SSN__c": "nationalId",
        "LastModifiedDate": "updatedAt",
        "SystemModstamp": "updatedAt",
    },
    "cases": {
        "CaseNumber": "caseId",
        "ContactId": "sourceId",
        "Subject": "subject",
        "Status": "status",
        "Origin": "channel",
        "CreatedDate": "openedAt",
        "ClosedDate": "closedAt",
        "LastModifiedDate": "updatedAt",
    },
    "consents": {
        "Id": "eventId",
        "ContactId": "sourceId",
        "Channel": "channel",
        "Purpose": "purpose",
        "Status": "status",
        "CaptureDate": "at",
    },
}

_MARKETING = {
    "records": {
        "SubscriberKey": "sourceId",
        "EmailAddress": "email",
        "FirstName": "givenName",
        "LastName": "familyName",
        "MobileNumber": "phone",
        "Birthday": "birthDate",
        "City": "city",
        "PostalCode": "postcode",
        "Country": "country",
        "ModifiedDate": "updatedAt",
        "DateModified": "updatedAt",
    },
    "engagement": {
        "EventID": "eventId",
        "SubscriberKey": "sourceId",
        "EventType": "type",
        "Channel": "channel",
        "CampaignName": "campaign",
        "EventDate": "at",
    },
    "consents": {
        "EventID": "eventId",
        "SubscriberKey": "sourceId",
        "Channel": "channel",
        "Purpose": "purpose",
        "Status": "status",
        "EventDate": "at",
    },
}

_COMMERCE = {
    "records": {
        "customer_no": "sourceId",
        "first_name": "givenName",
        "last_name": "familyName",
        "birthday": "birthDate",
        "email": "email",
        "phone_home": "phone",
        "phone_mobile": "phone",
        "address1": "addressLine1",
        "address2": "addressLine2",
        "city": "city",
        "postal_code": "postcode",
        "country_code": "country",
        "loyalty_id": "loyaltyId",
        "device_ids": "deviceIds",
        "cookie_ids": "cookieIds",
        "last_modified": "updatedAt",
    },
    "products": {
        "product_id": "sku",
        "product_name": "name",
        "category": "category",
        "price": "price",
        "currency": "currency",
    },
    "orders": {
        "order_no": "orderId",
        "customer_no": "sourceId",
        "creation_date": "placedAt",
        "status": "status",
        "order_total": "total",
        "currency": "currency",
        "last_modified": "updatedAt",
    },
    "order_lines": {
        "order_no": "orderId",
        "position": "lineNo",
        "product_id": "sku",
        "quantity": "quantity",
        "base_price": "unitPrice",
    },
    "carts": {
        "basket_id": "cartId",
        "customer_no": "sourceId",
        "status": "status",
        "last_modified": "updatedAt",
        "items": "items",
        "total": "total",
        "currency": "currency",
    },
    "consents": {
        "event_id": "eventId",
        "customer_no": "sourceId",
        "channel": "channel",
        "purpose": "purpose",
        "status": "status",
        "at": "at",
    },
}

_STORE = {
    "records": {
        "store_customer_id": "sourceId",
        "given_name": "givenName",
        "surname": "familyName",
        "date_of_birth": "birthDate",
        "email_address": "email",
        "telephone": "phone",
        "street": "addressLine1",
        "town": "city",
        "postcode": "postcode",
        "country": "country",
        "loyalty_card": "loyaltyId",
        "updated": "updatedAt",
    },
    "orders": {
        "receipt_no": "orderId",
        "store_customer_id": "sourceId",
        "sold_at": "placedAt",
        "status": "status",
        "amount": "total",
        "currency": "currency",
    },
    "order_lines": {
        "receipt_no": "orderId",
        "line": "lineNo",
        "sku": "sku",
        "qty": "quantity",
        "price": "unitPrice",
    },
}

#: Names a government id column goes by in any system: mapped for every source kind (OTHER
#: too), because an unmapped column would land in ``attributes``, which every role may read.
NATIONAL_ID_NAMES = ("ssn", "SSN", "soc_sec_id", "national_id", "nationalId", "NationalId__c")

#: Default native -> canonical names, per source kind and file type.
DEFAULT_MAPPINGS: dict[SourceKind, dict[str, dict[str, str]]] = {
    SourceKind.SERVICE: _SERVICE,
    SourceKind.MARKETING: _MARKETING,
    SourceKind.COMMERCE: _COMMERCE,
    SourceKind.STORE: _STORE,
    SourceKind.OTHER: {},
}


def mapping_for(
    kind: SourceKind, file_type: str, overrides: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, str]:
    """Native -> canonical names for one source kind and file type, overrides applied last."""
    mapping = dict.fromkeys(NATIONAL_ID_NAMES, "nationalId") if file_type == "records" else {}
    mapping.update(DEFAULT_MAPPINGS[kind].get(file_type, {}))
    mapping.update((overrides or {}).get(file_type, {}))
    return mapping


def rename(
    row: Mapping[str, object], mapping: Mapping[str, str], file_type: str
) -> tuple[dict[str, object], dict[str, object]]:
    """Split a native row into ``(canonical fields, unmapped extras)``.

    A canonical name present in the row is taken as is. When two native fields map to one
    canonical field (``phone_home`` and ``phone_mobile``), the first non-empty one wins.
    """
    canonical_names = CANONICAL_NAMES[file_type]
    canonical: dict[str, object] = {}
    extras: dict[str, object] = {}
    for name, value in row.items():
        target = mapping.get(name) or (name if name in canonical_names else None)
        if target is None:
            extras[name] = value
        elif canonical.get(target) in (None, ""):
            canonical[target] = value
    return canonical, extras


def load_mapping_file(path: Path) -> dict[str, dict[str, str]]:
    """Read a TOML mapping override file: ``{file_type: {native_name: canonical_name}}``.

    Raises :class:`ValidationError` naming each unknown file type or canonical field.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(FieldError("mapping", f"cannot read {path}: {exc}")) from exc
    errors: list[FieldError] = []
    result: dict[str, dict[str, str]] = {}
    for file_type, table in data.items():
        if file_type not in EVENT_TYPES or not isinstance(table, dict):
            errors.append(
                FieldError(
                    f"mapping.{file_type}",
                    f"unknown file type; use one of {', '.join(EVENT_TYPES)}",
                )
            )
            continue
        for native, target in table.items():
            if target not in CANONICAL_NAMES[file_type]:
                errors.append(
                    FieldError(
                        f"mapping.{file_type}.{native}",
                        f"{target!r} is not a canonical {file_type} field; use one of "
                        f"{', '.join(sorted(CANONICAL_NAMES[file_type]))}",
                    )
                )
        result[file_type] = {str(k): str(v) for k, v in table.items()}
    if errors:
        raise ValidationError(errors)
    return result
