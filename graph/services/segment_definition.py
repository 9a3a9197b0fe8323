"""Segment definitions as data: validation and normalisation (pure, no Neo4j).

A definition is a JSON object holding exactly one condition; the same shape comes from the
CLI (a JSON file) and from GraphQL (``SegmentConditionInput``, converted to this dict)::

    {"and": [C, ...]}  {"or": [C, ...]}  {"not": C}
    {"age": {"min": 18, "max": 65}}                       golden birth date, years, as of now
    {"city": ["London", "Leeds"]}                         golden city, any of (case-blind)
    {"country": ["GB", "Ireland"]}                        golden country (ISO 3166-1 alpha-2)
    {"postcodePrefix": "NR2"}                             golden postcode (spaces ignored)
    {"purchase": {"sku": "SKU-00001" | "category": "Shoes", "withinDays": 30}}
    {"spend": {"min": 100.0, "max": 500.0, "withinDays": 365}}  total of orders, as stored
    {"orderCount": {"min": 2, "max": 5, "withinDays": 365}}
    {"abandonedCart": {"olderThanHours": 24, "withinDays": 30}}  open/abandoned, no later order
    {"engaged": {"type": "OPENED" | "CLICKED", "campaign": "Summer Sale", "withinDays": 90}}
    {"inactive": {"days": 180}}                           no OPENED/CLICKED in that many days
    {"openCase": true}                                    a service case not closed
    {"source": {"id": "crm"} | {"kind": "MARKETING"}}     has a record from that source
    {"consent": {"channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED"}}
    {"inSegment": "seg-..."}                              member of another segment (no cycles)

Orders that are ``CANCELLED`` are no purchase. :func:`validate_definition` collects every
problem and raises one :class:`~graph.errors.ValidationError` whose fields are paths such as
``definition.and[1].purchase.withinDays``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.normalize.places import normalize_country
from graph.store.consents import CHANNELS

__all__ = [
    "CONDITION_TYPES",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "canonical_json",
    "segment_references",
    "validate_definition",
]

#: Limits a definition must keep (a definition is compiled into one statement).
MAX_DEPTH = 12
MAX_CONDITIONS = 200
_MAX_DAYS = 36_600
_MAX_TEXT = 200

CONSENT_STATUSES = {"GRANTED": "GRANTED", "OPT_IN": "GRANTED", "WITHDRAWN": "WITHDRAWN",
                    "OPT_OUT": "WITHDRAWN", "NONE": "NONE"}  # fmt: skip
ENGAGED_TYPES = ("OPENED", "CLICKED")
SOURCE_KINDS = ("SERVICE", "MARKETING", "COMMERCE", "STORE", "OTHER")

Json = dict[str, Any]


class _Errors:
    def __init__(self) -> None:
        self.found: list[FieldError] = []
        self.count = 0

    def add(self, path: str, reason: str) -> None:
        self.found.append(FieldError(path, reason))


def _int(
    e: _Errors, obj: Mapping[str, Any], key: str, path: str, *, minimum: int, required: bool
) -> int | None:
    value = obj.get(key)
    if value is None:
        if required:
            e.add(f"{path}.{key}", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        e.add(f"{path}.{key}", "must be a whole number")
        return None
    if value < minimum:
        e.add(f"{path}.{key}", f"must be > {minimum - 1}" if minimum else "must be >= 0")
        return None
    if value > _MAX_DAYS * 24:
        e.add(f"{path}.{key}", f"must be at most {_MAX_DAYS * 24}")
        return None
    return value


def _days(e: _Errors, obj: Mapping[str, Any], path: str, *, required: bool = False) -> int | None:
    days = _int(e, obj, "withinDays", path, minimum=1, required=required)
    if days is not None and days > _MAX_DAYS:
        e.add(f"{path}.withinDays", f"must be at most {_MAX_DAYS}")
        return None
    return days


def _text(e: _Errors, value: Any, path: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        e.add(path, "must be a non-empty text")
        return None
    if len(value) > _MAX_TEXT:
        e.add(path, f"must be at most {_MAX_TEXT} characters")
        return None
    return value.strip()


def _texts(e: _Errors, value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        e.add(path, "must be a non-empty list of texts")
        return []
    return [t for i, v in enumerate(value) if (t := _text(e, v, f"{path}[{i}]")) is not None]


def _object(e: _Errors, value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        e.add(path, "must be an object")
        return {}
    for key in value:
        if key not in allowed:
            e.add(f"{path}.{key}", f"is not a field here; use {', '.join(allowed)}")
    return value


def _range(e: _Errors, obj: Mapping[str, Any], path: str, number: type) -> Json:
    out: Json = {}
    for key in ("min", "max"):
        value = obj.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            e.add(f"{path}.{key}", "must be a number")
        elif value < 0:
            e.add(f"{path}.{key}", "must be >= 0")
        elif number is int and not isinstance(value, int):
            e.add(f"{path}.{key}", "must be a whole number")
        else:
            out[key] = number(value)
    if "min" not in obj and "max" not in obj:
        e.add(path, "needs min or max")
    if "min" in out and "max" in out and out["min"] > out["max"]:
        e.add(f"{path}.max", "must be >= min")
    return out


def _age(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("min", "max"))
    out = _range(e, obj, path, int)
    for key, value in out.items():
        if value > 150:
            e.add(f"{path}.{key}", "must be at most 150")
    return out


def _purchase(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("sku", "category", "withinDays"))
    out: Json = {}
    for key in ("sku", "category"):
        if obj.get(key) is not None and (t := _text(e, obj[key], f"{path}.{key}")) is not None:
            out[key] = t
    if obj.get("sku") is None and obj.get("category") is None:
        e.add(path, "needs sku or category")
    if (days := _days(e, obj, path)) is not None:
        out["withinDays"] = days
    return out


def _amounts(number: type) -> Callable[[_Errors, Any, str], Json]:
    def check(e: _Errors, v: Any, path: str) -> Json:
        obj = _object(e, v, path, ("min", "max", "withinDays"))
        out = _range(e, obj, path, number)
        if (days := _days(e, obj, path)) is not None:
            out["withinDays"] = days
        return out

    return check


def _cart(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("olderThanHours", "withinDays"))
    out: Json = {}
    hours = _int(e, obj, "olderThanHours", path, minimum=1, required=True)
    if hours is not None:
        out["olderThanHours"] = hours
    if (days := _days(e, obj, path)) is not None:
        out["withinDays"] = days
    return out


def _engaged(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("type", "campaign", "withinDays"))
    out: Json = {}
    kind = str(obj.get("type") or "").strip().upper()
    if kind not in ENGAGED_TYPES:
        e.add(f"{path}.type", f"must be one of {', '.join(ENGAGED_TYPES)}")
    else:
        out["type"] = kind
    if obj.get("campaign") is not None:
        if (t := _text(e, obj["campaign"], f"{path}.campaign")) is not None:
            out["campaign"] = t
    if (days := _days(e, obj, path)) is not None:
        out["withinDays"] = days
    return out


def _inactive(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("days",))
    days = _int(e, obj, "days", path, minimum=1, required=True)
    return {} if days is None else {"days": min(days, _MAX_DAYS)}


def _open_case(e: _Errors, v: Any, path: str) -> bool:
    if v is not True:
        e.add(path, "must be true (use not for people without an open case)")
    return True


def _source(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("id", "kind"))
    out: Json = {}
    if obj.get("id") is not None and (t := _text(e, obj["id"], f"{path}.id")) is not None:
        out["id"] = t
    if obj.get("kind") is not None:
        kind = str(obj["kind"]).strip().upper()
        if kind not in SOURCE_KINDS:
            e.add(f"{path}.kind", f"must be one of {', '.join(SOURCE_KINDS)}")
        else:
            out["kind"] = kind
    if obj.get("id") is None and obj.get("kind") is None:
        e.add(path, "needs id or kind")
    return out


def _consent(e: _Errors, v: Any, path: str) -> Json:
    obj = _object(e, v, path, ("channel", "purpose", "status"))
    channel = str(obj.get("channel") or "").strip().upper()
    purpose = str(obj.get("purpose") or "MARKETING").strip().upper()
    status = CONSENT_STATUSES.get(str(obj.get("status") or "GRANTED").strip().upper())
    if channel not in CHANNELS:
        e.add(f"{path}.channel", f"must be one of {', '.join(sorted(CHANNELS))}")
    if not purpose.replace("_", "").isalnum():
        e.add(f"{path}.purpose", "must be a word such as MARKETING or PROFILING")
    if status is None:
        e.add(f"{path}.status", "must be GRANTED, WITHDRAWN or NONE (no consent event)")
    return {"channel": channel, "purpose": purpose, "status": status}


def _countries(e: _Errors, v: Any, path: str) -> list[str]:
    codes = []
    for i, name in enumerate(_texts(e, v, path)):
        try:
            code = normalize_country(name)
        except ValueError as exc:
            e.add(f"{path}[{i}]", str(exc))
            continue
        if code:
            codes.append(code)
    return codes


def _prefix(e: _Errors, v: Any, path: str) -> str | None:
    text = _text(e, v, path)
    if text is None:
        return None
    prefix = "".join(text.split()).upper()
    if not prefix.replace("-", "").isalnum():
        e.add(path, "must hold only letters, digits, spaces and hyphens")
    return prefix


def _segment_id(e: _Errors, v: Any, path: str) -> str | None:
    return _text(e, v, path)


_LEAVES: dict[str, Callable[[_Errors, Any, str], Any]] = {
    "age": _age,
    "city": _texts,
    "country": _countries,
    "postcodePrefix": _prefix,
    "purchase": _purchase,
    "spend": _amounts(float),
    "orderCount": _amounts(int),
    "abandonedCart": _cart,
    "engaged": _engaged,
    "inactive": _inactive,
    "openCase": _open_case,
    "source": _source,
    "consent": _consent,
    "inSegment": _segment_id,
}
#: Every condition a definition may hold.
CONDITION_TYPES = ("and", "or", "not", *_LEAVES)


def _condition(e: _Errors, node: Any, path: str, depth: int) -> Json:
    e.count += 1
    if e.count == MAX_CONDITIONS + 1:
        e.add(path, f"a definition holds at most {MAX_CONDITIONS} conditions")
    if depth > MAX_DEPTH:
        e.add(path, f"conditions nest at most {MAX_DEPTH} deep")
        return {}
    if not isinstance(node, Mapping):
        e.add(path, "must be an object holding one condition")
        return {}
    given = [k for k, v in node.items() if v is not None]
    if len(given) != 1:
        e.add(
            path,
            f"must hold exactly one condition ({', '.join(CONDITION_TYPES)}), "
            f"got {', '.join(given) or 'none'}",
        )
        return {}
    kind = given[0]
    value = node[kind]
    where = f"{path}.{kind}"
    if kind in ("and", "or"):
        if not isinstance(value, list) or not value:
            e.add(where, "must be a non-empty list of conditions")
            return {}
        return {kind: [_condition(e, c, f"{where}[{i}]", depth + 1) for i, c in enumerate(value)]}
    if kind == "not":
        return {kind: _condition(e, value, where, depth + 1)}
    check = _LEAVES.get(kind)
    if check is None:
        e.add(where, f"is not a condition; use one of {', '.join(CONDITION_TYPES)}")
        return {}
    return {kind: check(e, value, where)}


def validate_definition(definition: Any, path: str = "definition") -> Json:
    """The normalised definition (upper-case codes, trimmed texts, ISO countries, dropped
    nulls) of ``definition`` (a dict, or its JSON text).

    Raises :class:`ValidationError` listing every problem, each named by its path from
    ``path`` (``definition.or[0].age.min: must be >= 0``). Whether an ``inSegment`` exists
    and makes no cycle is checked where segments are stored (:mod:`graph.services.segments`).
    """
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise ValidationError(FieldError(path, f"is not JSON: {exc.msg}")) from None
    e = _Errors()
    out = _condition(e, definition, path, 1)
    if e.found:
        raise ValidationError(e.found)
    return out


def segment_references(definition: Json) -> set[str]:
    """The segment ids a (validated) definition refers to with ``inSegment``."""
    found: set[str] = set()
    stack: list[Any] = [definition]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "inSegment" in node:
                found.add(node["inSegment"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def canonical_json(definition: Json) -> str:
    """The stored text of a definition: JSON with sorted keys, no spaces."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))
