"""Turn one canonical row of each file type into write parameters, or collect its errors.

Each ``parse_*`` function takes the row's canonical fields (see :mod:`graph.ingest.mappings`) and
returns a plain dict of Cypher parameters, or raises :class:`ValidationError` listing every bad
field at once. A source record is the exception: only a missing key rejects it, and its other
malformed values are kept as received, marked invalid (see :func:`parse_record`). Values are
normalised with :mod:`graph.normalize`; the raw row is kept on the source record as JSON, so
nothing a source sent is lost.

Limits (:class:`graph.settings.InputLimits`, set for the process with :func:`set_input_limits`)
come first: a row larger than ``max_row_bytes`` as UTF-8 JSON is rejected whatever its type
(field ``row``), and a key (``sourceId``, ``orderId`` ...) longer than ``max_field_chars`` or
holding a control character rejects its row; in a source record any other canonical field
that does is kept as invalid (a long value only by its first characters), never stored.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.models import Source, event_key, record_key
from graph.normalize import (
    Normalized,
    clean_text,
    is_blank,
    normalize_country,
    normalize_email,
    normalize_national_id,
    normalize_phone,
    normalize_postcode,
    number_for_text,
    parse_date,
    parse_datetime,
    person_case,
    text_problem,
)
from graph.resolution.blocking import probabilistic_keys
from graph.resolution.features import record_features
from graph.settings import InputLimits

__all__ = ["PARSERS", "event_key", "input_limits", "record_key", "set_input_limits"]

_limits = InputLimits()


def set_input_limits(limits: InputLimits) -> None:
    """Use ``limits`` for every row this process parses from now on (the CLI and the API set
    them from :attr:`graph.settings.Settings.input_limits` when they start)."""
    global _limits
    _limits = limits


def input_limits() -> InputLimits:
    """The limits rows are parsed with now."""
    return _limits


CONSENT_STATUS = {
    "GRANTED": "GRANTED",
    "OPT_IN": "GRANTED",
    "OPTIN": "GRANTED",
    "OPTED_IN": "GRANTED",
    "YES": "GRANTED",
    "TRUE": "GRANTED",
    "Y": "GRANTED",
    "SUBSCRIBED": "GRANTED",
    "WITHDRAWN": "WITHDRAWN",
    "OPT_OUT": "WITHDRAWN",
    "OPTOUT": "WITHDRAWN",
    "OPTED_OUT": "WITHDRAWN",
    "NO": "WITHDRAWN",
    "FALSE": "WITHDRAWN",
    "N": "WITHDRAWN",
    "DENIED": "WITHDRAWN",
    "UNSUBSCRIBED": "WITHDRAWN",
    "REVOKED": "WITHDRAWN",
}
CART_STATUS = frozenset({"OPEN", "ABANDONED", "CONVERTED"})


class _Collector:
    """Gathers field errors while a row is parsed; ``done()`` raises them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, reason: str) -> None:
        self.errors.append(FieldError(field, reason))

    def required(self, row: Mapping[str, Any], field: str) -> str | None:
        """An identifier field: any non-empty text counts ("0", "NA" and "X" are real ids)."""
        raw = row.get(field)
        problem = text_problem(raw, _limits.max_field_chars)
        if problem is not None:
            self.fail(field, problem)
            return None
        value = None if raw is None else " ".join(unicodedata.normalize("NFC", str(raw)).split())
        if not value:
            self.fail(field, "is required")
            return None
        return value

    def convert(
        self,
        row: Mapping[str, Any],
        field: str,
        fn: Callable[[Any], Any],
        *,
        required: bool = False,
    ) -> Any:
        raw = row.get(field)
        if is_blank(raw):
            if required:
                self.fail(field, "is required")
            return None
        try:
            return fn(raw)
        except (ValueError, TypeError, InvalidOperation) as exc:
            self.fail(field, str(exc) or f"cannot read {raw!r}")
            return None

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _upper(raw: Any) -> str:
    text = clean_text(raw)
    if text is None:
        raise ValueError("is empty")
    return text.upper().replace(" ", "_").replace("-", "_")


def _decimal(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"must be a number, got {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"must be a finite number, got {raw!r}")
    return value


def _money(raw: Any) -> float:
    value = _decimal(raw)
    if value < 0:
        raise ValueError(f"must not be negative, got {raw!r}")
    return float(round(value, 2))


def _positive_int(raw: Any) -> int:
    value = _decimal(raw)
    if value != value.to_integral_value() or value <= 0:
        raise ValueError(f"must be a whole number above 0, got {raw!r}")
    return int(value)


def _currency(raw: Any) -> str:
    code = str(raw).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"must be a 3-letter ISO 4217 code, got {raw!r}")
    return code


def _id_list(raw: Any) -> list[str]:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            raw = json.loads(text)
        else:
            raw = text.replace(";", "|").split("|")
    if not isinstance(raw, list):
        raise ValueError("must be a list of ids")
    return sorted({str(v).strip() for v in raw if not is_blank(v)})


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


# json.dumps(value, **options) builds a new encoder on every call; these are built once.
_SORTED_JSON = json.JSONEncoder(sort_keys=True, default=_json_default)
_RAW_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_default)


#: Canonical text fields of a record: a JSON object or list there is refused, not stringified.
_TEXT_FIELDS = (
    "sourceId",
    "givenName",
    "familyName",
    "email",
    "phone",
    "addressLine1",
    "addressLine2",
    "city",
    "postcode",
    "country",
    "loyaltyId",
    "nationalId",
)
#: Fields where a JSON number or text without a single letter is no value at all.
_WORD_FIELDS = ("givenName", "familyName", "city", "addressLine1", "addressLine2", "country")
_LETTER_FIELDS = ("givenName", "familyName", "city")
#: How much of an over-long invalid value ``invalidFields`` keeps (characters).
_KEPT_CHARS = 100
#: How far ahead of this machine's clock an ``updatedAt`` may be (clock skew between systems).
FUTURE_TOLERANCE = timedelta(days=1)


def _as_received(raw: Any) -> str:
    """A value as the source sent it, as text (JSON for an object or a list)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping | list | tuple):
        return _RAW_JSON.encode(raw)
    return str(raw)


class _Invalid:
    """Malformed values of a record: kept as received with the reason, never used."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row
        self.fields: dict[str, dict[str, str]] = {}

    def add(self, field: str, reason: str) -> None:
        value = _as_received(self.row.get(field))
        if len(value) > _KEPT_CHARS:  # an over-long value is refused, not kept whole
            value = value[:_KEPT_CHARS] + "…"
        self.fields[field] = {"value": value, "reason": reason}

    def convert(self, field: str, fn: Callable[[Any], Any]) -> Any:
        """``fn(value)``, or None (the value kept as invalid) when it raises a ValueError."""
        raw = self.row.get(field)
        if field in self.fields or is_blank(raw):
            return None
        try:
            return fn(raw)
        except (ValueError, TypeError) as exc:
            self.add(field, str(exc) or "cannot be read")
            return None

    def identifier(self, field: str, result: Normalized, flags: list[str]) -> str | None:
        """The key of a normalised identifier; an invalid one is kept as invalid, a
        placeholder only flagged."""
        if result.status == "ok":
            return result.key
        if result.status == "invalid" and field not in self.fields:
            self.add(field, result.reason or "is not valid")
        elif result.status == "placeholder":
            flags.append(f"{field}: placeholder ({result.reason}), not used as an identifier")
        return None


def parse_record(
    source: Source, row: Mapping[str, Any], extras: Mapping[str, Any], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """A source record::

        {key, sourceId, updatedAt, props: {...}, identifiers: [{type, value}], blocks: [key],
         warnings: [FieldError]}

    Rejected (``ValidationError``) only without a usable key: a missing or non-text
    ``sourceId``. Any other malformed value of a canonical field (a birth date ``1955-11-92``,
    an invalid email, phone, postcode, country or national id, a placeholder national id, an
    unreadable or future ``updatedAt``, a JSON object where text belongs, an unreadable id
    list) is not stored as the field's value and not used as evidence (no identifier, no
    blocking key): it is kept as received in ``props.invalidFields``, JSON text of
    ``{field: {"value", "reason"}}`` (None when every value was good), flagged in
    ``props.qualityFlags`` and reported in ``warnings`` (canonical field names), and the record
    is kept on its other fields. An unreadable ``updatedAt`` counts as none: an undated row is
    stored when new but never overrides a dated one (see :mod:`graph.store.records`), so a bad
    timestamp cannot win newer-wins. Placeholder emails and phones are only flagged.
    """
    c = _Collector()
    bad = _Invalid(row)
    for name in _TEXT_FIELDS:
        if isinstance(row.get(name), Mapping | list | tuple):
            if name == "sourceId":
                c.fail(name, "must be text, not a JSON object or list")
            else:
                bad.add(name, "must be text, not a JSON object or list")
    for name, value in row.items():
        if name == "sourceId" or name in bad.fields:
            continue
        problem = text_problem(value, _limits.max_field_chars)
        if problem is None and name in _WORD_FIELDS:
            problem = number_for_text(value)
        if problem is None and name in _LETTER_FIELDS and isinstance(value, str):
            cleaned = clean_text(value)
            if cleaned and not any(ch.isalpha() for ch in cleaned):
                problem = f"has no letters ({cleaned!r})"
        if problem is not None:
            bad.add(name, problem)
    text_row = {
        k: v
        for k, v in row.items()
        if k == "sourceId"
        or not (k in bad.fields or (k in _TEXT_FIELDS and isinstance(v, Mapping | list | tuple)))
    }
    source_record_id = c.required(text_row, "sourceId")
    c.done()
    assert source_record_id is not None
    flags: list[str] = []
    country = bad.convert("country", normalize_country)
    birth_date = bad.convert("birthDate", lambda v: parse_date(v, dayfirst=country != "US"))
    updated_at = bad.convert("updatedAt", parse_datetime)
    if updated_at is not None and updated_at > datetime.now(UTC) + FUTURE_TOLERANCE:
        # a record stamped in the future would win newer-wins against every real update
        bad.add("updatedAt", f"is in the future ({updated_at.isoformat()})")
        updated_at = None
    # names as the person writes them ("JASON" -> "Jason"): golden names come from these;
    # the row as received stays in raw
    given, family = clean_text(text_row.get("givenName")), clean_text(text_row.get("familyName"))
    given = given and person_case(given)
    family = family and person_case(family, family=True)
    email = normalize_email(text_row.get("email"))
    phone = normalize_phone(text_row.get("phone"), default_region=country)
    postcode = normalize_postcode(text_row.get("postcode"))
    national = normalize_national_id(text_row.get("nationalId"))
    if national.status == "placeholder":  # a made-up government id is no id at all
        national = Normalized(national.raw, None, None, "invalid", national.reason)
    device_ids = bad.convert("deviceIds", _id_list) or []
    cookie_ids = bad.convert("cookieIds", _id_list) or []
    identifiers: list[dict[str, str]] = []
    for name, result, kind in (
        ("email", email, "EMAIL"),
        ("phone", phone, "PHONE"),
        ("nationalId", national, "NATIONAL_ID"),
    ):
        key = bad.identifier(name, result, flags)
        if key:
            identifiers.append({"type": kind, "value": key})
    bad.identifier("postcode", postcode, [])
    loyalty = clean_text(text_row.get("loyaltyId"))
    if loyalty:
        identifiers.append({"type": "LOYALTY_ID", "value": loyalty.upper()})
    identifiers += [{"type": "DEVICE_ID", "value": v} for v in device_ids]
    identifiers += [{"type": "COOKIE_ID", "value": v} for v in cookie_ids]
    invalid = dict(sorted(bad.fields.items()))
    flags += [f"{name}: invalid ({v['reason']}), not used" for name, v in invalid.items()]
    props: dict[str, Any] = {
        "givenName": given,
        "familyName": family,
        "birthDate": birth_date,
        "email": email.value,
        "phone": phone.value,
        "addressLine1": clean_text(text_row.get("addressLine1")),
        "addressLine2": clean_text(text_row.get("addressLine2")),
        "city": clean_text(text_row.get("city")),
        "postcode": postcode.value,
        "country": country,
        "loyaltyId": loyalty,
        "nationalId": national.value,
        "deviceIds": device_ids,
        "cookieIds": cookie_ids,
        "attributes": _SORTED_JSON.encode(attributes) if (attributes := _filled(extras)) else None,
        "qualityFlags": sorted(flags),
        "invalidFields": _SORTED_JSON.encode(invalid) if invalid else None,
    }
    props["contentHash"] = hashlib.sha1(_SORTED_JSON.encode(props).encode()).hexdigest()
    props["raw"] = _RAW_JSON.encode(dict(raw))
    key = record_key(source.id, source_record_id)
    blocks = probabilistic_keys(
        record_features(key, source.id, props, email.key, phone.value, loyalty)
    )
    return {
        "key": key,
        "sourceId": source_record_id,
        "updatedAt": updated_at,
        "props": props,
        "identifiers": sorted(identifiers, key=lambda i: (i["type"], i["value"])),
        "blocks": blocks,
        "warnings": [FieldError(name, v["reason"]) for name, v in invalid.items()],
    }


def parse_product(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """A product: ``{sku, name, category, price, currency}``; ``sku`` is required."""
    c = _Collector()
    sku = c.required(row, "sku")
    price = c.convert(row, "price", _money)
    currency = c.convert(row, "currency", _currency)
    c.done()
    return {
        "sku": sku,
        "name": clean_text(row.get("name")),
        "category": clean_text(row.get("category")),
        "price": price,
        "currency": currency,
    }


def parse_order(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """An order of a source record: needs ``orderId``, ``sourceId`` and ``placedAt``."""
    c = _Collector()
    order_id = c.required(row, "orderId")
    customer = c.required(row, "sourceId")
    placed_at = c.convert(row, "placedAt", parse_datetime, required=True)
    total = c.convert(row, "total", _money)
    currency = c.convert(row, "currency", _currency)
    status = c.convert(row, "status", _upper)
    updated_at = c.convert(row, "updatedAt", parse_datetime)
    c.done()
    return {
        "key": record_key(source.id, order_id or ""),
        "id": order_id,
        "recordKey": record_key(source.id, customer or ""),
        "sourceId": customer,
        "placedAt": placed_at,
        "status": status,
        "total": total,
        "currency": currency,
        "updatedAt": updated_at or placed_at,
    }


def parse_order_line(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """A line of an order: ``orderId``, ``sku`` (a known product), ``quantity`` > 0."""
    c = _Collector()
    order_id = c.required(row, "orderId")
    sku = c.required(row, "sku")
    quantity = c.convert(row, "quantity", _positive_int, required=True)
    unit_price = c.convert(row, "unitPrice", _money)
    line_no = clean_text(row.get("lineNo"))
    c.done()
    return {
        "orderKey": record_key(source.id, order_id or ""),
        "orderId": order_id,
        "sku": sku,
        "lineKey": line_no or sku,
        "quantity": quantity,
        "unitPrice": unit_price,
    }


def _cart_items(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            raw = json.loads(text)
        else:
            raw = [
                dict(zip(("sku", "quantity"), part.split(":"), strict=False))
                for part in text.split(";")
                if part.strip()
            ]
    if not isinstance(raw, list):
        raise ValueError("must be a list of {sku, quantity}")
    items: dict[str, int] = {}
    for item in raw:
        if not isinstance(item, dict) or is_blank(item.get("sku")):
            raise ValueError(f"item {item!r} has no sku")
        sku = str(item["sku"]).strip()
        items[sku] = items.get(sku, 0) + _positive_int(item.get("quantity", 1))
    return [{"sku": s, "quantity": q} for s, q in sorted(items.items())]


def parse_cart(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """A cart: ``cartId``, ``sourceId``, ``status`` (OPEN, ABANDONED, CONVERTED), items."""
    c = _Collector()
    cart_id = c.required(row, "cartId")
    customer = c.required(row, "sourceId")
    status = c.convert(row, "status", _upper, required=True)
    if status is not None and status not in CART_STATUS:
        c.fail("status", f"must be one of {', '.join(sorted(CART_STATUS))}, got {status!r}")
    updated_at = c.convert(row, "updatedAt", parse_datetime, required=True)
    items = c.convert(row, "items", _cart_items) or []
    total = c.convert(row, "total", _money)
    currency = c.convert(row, "currency", _currency)
    c.done()
    return {
        "key": record_key(source.id, cart_id or ""),
        "id": cart_id,
        "recordKey": record_key(source.id, customer or ""),
        "sourceId": customer,
        "status": status,
        "updatedAt": updated_at,
        "items": items,
        "total": total,
        "currency": currency,
    }


def parse_case(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """A service case: ``caseId``, ``sourceId``, ``openedAt`` required."""
    c = _Collector()
    case_id = c.required(row, "caseId")
    customer = c.required(row, "sourceId")
    opened_at = c.convert(row, "openedAt", parse_datetime, required=True)
    closed_at = c.convert(row, "closedAt", parse_datetime)
    updated_at = c.convert(row, "updatedAt", parse_datetime)
    status = c.convert(row, "status", _upper)
    channel = c.convert(row, "channel", _upper)
    if opened_at and closed_at and closed_at < opened_at:
        c.fail("closedAt", "is before openedAt")
    c.done()
    return {
        "key": record_key(source.id, case_id or ""),
        "id": case_id,
        "recordKey": record_key(source.id, customer or ""),
        "sourceId": customer,
        "subject": clean_text(row.get("subject")),
        "status": status,
        "channel": channel,
        "openedAt": opened_at,
        "closedAt": closed_at,
        "updatedAt": updated_at or closed_at or opened_at,
    }


def parse_engagement(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """An engagement event (SENT, OPENED, CLICKED, UNSUBSCRIBED ...): ``sourceId``, ``type``,
    ``at`` required; ``channel`` defaults to EMAIL. Without ``eventId`` the key is a hash."""
    c = _Collector()
    customer = c.required(row, "sourceId")
    kind = c.convert(row, "type", _upper, required=True)
    at = c.convert(row, "at", parse_datetime, required=True)
    channel = c.convert(row, "channel", _upper) or "EMAIL"
    campaign = clean_text(row.get("campaign"))
    event_id = clean_text(row.get("eventId"))
    c.done()
    key = (
        record_key(source.id, event_id)
        if event_id
        else event_key(source.id, customer, kind, channel, campaign, at.isoformat())
    )
    return {
        "key": key,
        "recordKey": record_key(source.id, customer or ""),
        "sourceId": customer,
        "type": kind,
        "channel": channel,
        "campaign": campaign,
        "at": at,
    }


def parse_consent(source: Source, row: Mapping[str, Any], *_: Any) -> dict[str, Any]:
    """A consent event: ``sourceId``, ``channel``, ``purpose``, ``status`` (GRANTED or
    WITHDRAWN, common synonyms accepted) and ``at`` required."""
    c = _Collector()
    customer = c.required(row, "sourceId")
    channel = c.convert(row, "channel", _upper, required=True)
    purpose = c.convert(row, "purpose", _upper, required=True)
    status_raw = c.convert(row, "status", _upper, required=True)
    status = CONSENT_STATUS.get(status_raw or "")
    if status_raw is not None and status is None:
        c.fail("status", f"must be GRANTED or WITHDRAWN, got {row.get('status')!r}")
    at = c.convert(row, "at", parse_datetime, required=True)
    event_id = clean_text(row.get("eventId"))
    c.done()
    key = (
        record_key(source.id, event_id)
        if event_id
        else event_key(source.id, customer, channel, purpose, status, at.isoformat())
    )
    return {
        "key": key,
        "recordKey": record_key(source.id, customer or ""),
        "sourceId": customer,
        "channel": channel,
        "purpose": purpose,
        "status": status,
        "at": at,
    }


def _row_bytes(raw: Mapping[str, Any], limit: int) -> int | None:
    """The row's size as UTF-8 JSON (bytes) when it may pass ``limit``, else None when it
    certainly does not (the common case, decided without encoding the row)."""
    # a character is at most 6 bytes in JSON (\\uXXXX), a key and value add 6 more (quotes,
    # colon, comma), a number at most 40: this bound decides most rows without encoding them
    estimate = 2
    for key, value in raw.items():
        if isinstance(value, str):
            estimate += 6 * (len(key) + len(value)) + 6
        elif value is None or isinstance(value, bool | int | float):
            estimate += 6 * len(key) + 40
        else:  # a list or an object: measure
            estimate = limit + 1
            break
    if estimate <= limit:
        return None
    return len(_RAW_JSON.encode(dict(raw)).encode("utf-8", "surrogatepass"))


def _filled(extras: Mapping[str, Any]) -> dict[str, Any]:
    """The unmapped columns that hold a value: an empty CSV cell is no attribute (``raw``
    keeps the row as received)."""
    return {k: v for k, v in extras.items() if v is not None and v != ""}


def _within_row_limit(
    parse: Callable[..., dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """``parse`` refusing first any row larger than ``max_row_bytes`` (field ``row``)."""

    def parse_within_limit(
        source: Source,
        row: Mapping[str, Any],
        extras: Mapping[str, Any] | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        size = _row_bytes(raw if raw is not None else row, _limits.max_row_bytes)
        if size is not None and size > _limits.max_row_bytes:
            raise ValidationError(
                FieldError(
                    "row", f"is {size:,} bytes as JSON; the limit is {_limits.max_row_bytes:,}"
                )
            )
        return parse(source, row, extras or {}, raw if raw is not None else row)

    parse_within_limit.__doc__ = parse.__doc__
    return parse_within_limit


PARSERS: dict[str, Callable[..., dict[str, Any]]] = {
    name: _within_row_limit(parse)
    for name, parse in (
        ("records", parse_record),
        ("products", parse_product),
        ("orders", parse_order),
        ("order_lines", parse_order_line),
        ("carts", parse_cart),
        ("cases", parse_case),
        ("engagement", parse_engagement),
        ("consents", parse_consent),
    )
}
