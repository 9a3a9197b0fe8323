"""Journey definitions as data: parsing, validation and the send-time decision (pure Python).

A journey definition is JSON (or YAML read into the same shape)::

    {"trigger": {"type": "CART_ABANDONED", "after": "1 hour"},
     "steps": [
       {"delay": "now", "channel": "EMAIL", "template": "cart-reminder",
        "conditions": [{"type": "NO_ORDER_SINCE_TRIGGER"},
                       {"type": "CONSENT", "purpose": "MARKETING"}]},
       {"delay": "24 hours", "channel": "SMS", "template": "cart-reminder-sms",
        "conditions": [{"type": "NO_ORDER_SINCE_TRIGGER"},
                       {"type": "CONSENT", "channel": "SMS", "purpose": "MARKETING"}]}]}

Triggers: ``CART_ABANDONED`` (a cart whose status is in ``statuses``, default OPEN, ACTIVE and
ABANDONED, with no order of its person at or after the cart's ``updatedAt``; it fires
``after`` that time, default 1 hour), ``ORDER_PLACED`` (optional ``statuses``),
``ENGAGEMENT`` (``eventType`` such as CLICKED, optional ``channel`` and ``campaign``) and
``CONSENT_CHANGED`` (optional ``channel``, ``purpose``, ``status``). Each step is due
``delay`` after the trigger fired. Conditions, checked when the step is due: ``CONSENT``
(the effective consent for ``channel``, default the step's, and ``purpose``, default
MARKETING, is GRANTED), ``NO_ORDER_SINCE_TRIGGER`` and ``CART_STILL_OPEN`` (cart triggers
only). Always checked too: the person was not forgotten, the journey is still active, the
person has a contact point for an EMAIL, SMS or PHONE step.

Durations are ``now``, ``<n> minute(s)|hour(s)|day(s)|week(s)`` (``after`` may lead) or an
ISO 8601 duration of days and time (``PT1H``, ``P1DT12H``); months and years are refused
because their length varies. Validation collects every fault and names its path
(``steps[1].channel``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.store.consents import CHANNELS, STATUSES

__all__ = [
    "CANCEL_REASONS",
    "CONDITION_TYPES",
    "TRIGGER_TYPES",
    "ActionFacts",
    "Definition",
    "Step",
    "Trigger",
    "cancel_reason",
    "parse_definition",
    "parse_duration",
    "validate_journey_id",
]

TRIGGER_TYPES = ("CART_ABANDONED", "ORDER_PLACED", "ENGAGEMENT", "CONSENT_CHANGED")
CONDITION_TYPES = ("CONSENT", "NO_ORDER_SINCE_TRIGGER", "CART_STILL_OPEN")
#: Why an action was cancelled at send time, in the order they are checked.
CANCEL_REASONS = (
    "PERSON_FORGOTTEN",
    "JOURNEY_INACTIVE",
    "CART_CLOSED",
    "ORDER_PLACED",
    "CONSENT_WITHDRAWN",
    "NO_CONSENT",
    "NO_CONTACT_POINT",
)
_OPEN_CART = ("ABANDONED", "ACTIVE", "OPEN")
_CONTACT = {"EMAIL": "email", "SMS": "phone", "PHONE": "phone"}
_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_WORDS = re.compile(r"^(?:after\s+)?(\d+)\s*(minute|hour|day|week)s?$")
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_MAX_STEPS = 20
_MAX_DELAY = 366 * 86400


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts a journey; ``options`` are the trigger's own keys, normalised."""

    type: str
    after_seconds: int
    statuses: tuple[str, ...] | None
    event_type: str | None
    channel: str | None
    campaign: str | None
    purpose: str | None
    status: str | None


@dataclass(frozen=True, slots=True)
class Step:
    """One message of a journey: due ``delay_seconds`` after the trigger fired."""

    index: int
    delay_seconds: int
    channel: str
    template: str
    conditions: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class Definition:
    """A validated journey definition; ``as_json`` is its canonical JSON (sorted keys)."""

    trigger: Trigger
    steps: tuple[Step, ...]
    as_json: str


def parse_duration(text: Any) -> int:
    """Seconds of a duration written as ``now``, ``1 hour``, ``after 24 hours``, ``PT1H``.

    Raises :class:`ValueError` with the accepted forms for anything else.
    """
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    if not isinstance(text, str):
        raise ValueError("must be text such as 'now', '1 hour', '24 hours' or 'PT1H'")
    value = text.strip().lower()
    if value in ("now", "0", "immediately"):
        return 0
    if m := _WORDS.match(value):
        return int(m[1]) * _UNITS[m[2]]
    if (m := _ISO.match(value.upper())) and value.upper() not in ("P", "PT"):
        weeks, days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
        return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
    raise ValueError(
        f"{text!r} is not a duration: write 'now', '<n> minutes|hours|days|weeks' or an "
        "ISO 8601 duration such as PT1H (no months or years)"
    )


def validate_journey_id(journey_id: Any, field: str = "id") -> str:
    """The id, trimmed; :class:`ValidationError` unless it is 1-64 of ``a-z 0-9 _ -``."""
    value = journey_id.strip() if isinstance(journey_id, str) else ""
    if not _ID.match(value):
        raise ValidationError(
            FieldError(
                field, "must be 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit"
            )
        )
    return value


class _Faults:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, path: str, reason: str) -> None:
        self.errors.append(FieldError(f"{self.prefix}{path}", reason))

    def word(self, obj: Mapping[str, Any], key: str, path: str, allowed=None) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(f"{path}.{key}", "must be non-empty text")
            return None
        value = value.strip().upper()
        if allowed is not None and value not in allowed:
            self.add(f"{path}.{key}", f"must be one of {', '.join(sorted(allowed))}")
            return None
        return value

    def duration(self, obj: Mapping[str, Any], key: str, path: str, default: int) -> int:
        if key not in obj:
            return default
        try:
            seconds = parse_duration(obj[key])
        except ValueError as exc:
            self.add(f"{path}.{key}", str(exc))
            return default
        if seconds > _MAX_DELAY:
            self.add(f"{path}.{key}", "must be at most 366 days")
        return seconds

    def unknown(self, obj: Mapping[str, Any], known: set[str], path: str) -> None:
        for key in sorted(set(obj) - known):
            expected = ", ".join(sorted(known))
            self.add(f"{path}.{key}" if path else key, f"unknown field; expected {expected}")


def _trigger(raw: Any, f: _Faults) -> Trigger | None:
    if not isinstance(raw, Mapping):
        f.add("trigger", "is required: an object with a type such as CART_ABANDONED")
        return None
    kind = f.word(raw, "type", "trigger", TRIGGER_TYPES)
    if kind is None:
        if "type" not in raw:
            f.add("trigger.type", f"is required: one of {', '.join(TRIGGER_TYPES)}")
        return None
    known = {"type"}
    statuses = event_type = channel = campaign = purpose = status = None
    after = 0
    if kind in ("CART_ABANDONED", "ORDER_PLACED"):
        known.add("statuses")
        raw_statuses = raw.get("statuses")
        if raw_statuses is not None:
            if (
                not isinstance(raw_statuses, list)
                or not raw_statuses
                or not all(isinstance(s, str) and s.strip() for s in raw_statuses)
            ):
                f.add("trigger.statuses", "must be a non-empty list of statuses")
            else:
                statuses = tuple(sorted({s.strip().upper() for s in raw_statuses}))
        if kind == "CART_ABANDONED":
            known.add("after")
            after = f.duration(raw, "after", "trigger", 3600)
            statuses = statuses or _OPEN_CART
    elif kind == "ENGAGEMENT":
        known |= {"eventType", "channel", "campaign"}
        event_type = f.word(raw, "eventType", "trigger")
        if "eventType" not in raw:
            f.add("trigger.eventType", "is required for ENGAGEMENT: SENT, OPENED, CLICKED ...")
        channel = f.word(raw, "channel", "trigger")
        if raw.get("campaign") is not None:
            if isinstance(raw["campaign"], str) and raw["campaign"].strip():
                campaign = raw["campaign"].strip()
            else:
                f.add("trigger.campaign", "must be non-empty text")
    else:
        known |= {"channel", "purpose", "status"}
        channel = f.word(raw, "channel", "trigger", CHANNELS)
        purpose = f.word(raw, "purpose", "trigger")
        status = f.word(raw, "status", "trigger", STATUSES)
    f.unknown(raw, known, "trigger")
    return Trigger(kind, after, statuses, event_type, channel, campaign, purpose, status)


def _condition(raw: Any, path: str, channel: str | None, trigger: str | None, f: _Faults):
    if not isinstance(raw, Mapping):
        f.add(path, "must be an object with a type")
        return None
    kind = f.word(raw, "type", path, CONDITION_TYPES)
    if kind is None:
        if "type" not in raw:
            f.add(f"{path}.type", f"is required: one of {', '.join(CONDITION_TYPES)}")
        return None
    if kind == "CONSENT":
        f.unknown(raw, {"type", "channel", "purpose"}, path)
        own = f.word(raw, "channel", path, CHANNELS)
        purpose = f.word(raw, "purpose", path) or "MARKETING"
        chosen = own or channel
        return {"type": kind, "channel": chosen or "", "purpose": purpose}
    f.unknown(raw, {"type"}, path)
    if kind == "CART_STILL_OPEN" and trigger not in (None, "CART_ABANDONED"):
        f.add(f"{path}.type", "CART_STILL_OPEN needs a CART_ABANDONED trigger")
    return {"type": kind}


def _steps(raw: Any, trigger: str | None, f: _Faults) -> list[Step]:
    if not isinstance(raw, list) or not raw:
        f.add("steps", "is required: a non-empty list of steps")
        return []
    if len(raw) > _MAX_STEPS:
        f.add("steps", f"at most {_MAX_STEPS} steps")
    steps = []
    for n, step in enumerate(raw):
        path = f"steps[{n}]"
        if not isinstance(step, Mapping):
            f.add(path, "must be an object with delay, channel and template")
            continue
        f.unknown(step, {"delay", "channel", "template", "conditions"}, path)
        delay = f.duration(step, "delay", path, 0)
        channel = f.word(step, "channel", path, CHANNELS)
        if "channel" not in step:
            f.add(f"{path}.channel", f"is required: one of {', '.join(sorted(CHANNELS))}")
        template = step.get("template")
        if not isinstance(template, str) or not template.strip() or len(template) > 200:
            f.add(f"{path}.template", "is required: the message template id, 1-200 characters")
            template = ""
        conditions = step.get("conditions", [])
        parsed: list[dict[str, str]] = []
        if not isinstance(conditions, list):
            f.add(f"{path}.conditions", "must be a list of conditions")
        else:
            for k, cond in enumerate(conditions):
                found = _condition(cond, f"{path}.conditions[{k}]", channel, trigger, f)
                if found is not None:
                    parsed.append(found)
        steps.append(Step(n + 1, delay, channel or "", template.strip(), tuple(parsed)))
    return steps


def parse_definition(raw: Any, *, prefix: str = "") -> Definition:
    """Validate a journey definition (a dict with ``trigger`` and ``steps``).

    Raises :class:`ValidationError` listing every fault, each named by its path under
    ``prefix`` (``definition.steps[1].delay``).
    """
    f = _Faults(prefix)
    if not isinstance(raw, Mapping):
        raise ValidationError(
            FieldError(
                prefix.rstrip(".") or "definition", "must be an object with trigger and steps"
            )
        )
    f.unknown(raw, {"trigger", "steps"}, "")
    trigger = _trigger(raw.get("trigger"), f)
    steps = _steps(raw.get("steps"), trigger.type if trigger else None, f)
    if f.errors or trigger is None:
        raise ValidationError(f.errors or [FieldError(f"{prefix}trigger", "is invalid")])
    return Definition(trigger, tuple(steps), json.dumps(_canonical(trigger, steps), sort_keys=True))


def _canonical(trigger: Trigger, steps: Sequence[Step]) -> dict[str, Any]:
    t: dict[str, Any] = {"type": trigger.type}
    if trigger.type == "CART_ABANDONED":
        t["after"] = f"PT{trigger.after_seconds}S"
    for key, value in (
        ("statuses", list(trigger.statuses) if trigger.statuses else None),
        ("eventType", trigger.event_type),
        ("channel", trigger.channel),
        ("campaign", trigger.campaign),
        ("purpose", trigger.purpose),
        ("status", trigger.status),
    ):
        if value is not None:
            t[key] = value
    return {
        "trigger": t,
        "steps": [
            {
                "delay": f"PT{s.delay_seconds}S",
                "channel": s.channel,
                "template": s.template,
                "conditions": list(s.conditions),
            }
            for s in steps
        ],
    }


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """What holds when an action is due, read from the graph.

    ``trigger_exists`` is False once the trigger's record was erased (a forgotten person);
    ``consents`` maps ``(channel, purpose)`` to the effective status; ``orders_since`` counts
    the person's orders at or after the trigger's time (the trigger order itself excluded).
    """

    trigger_exists: bool
    trigger_status: str | None
    journey_active: bool
    person_id: str | None
    email: str | None
    phone: str | None
    orders_since: int
    consents: Mapping[tuple[str, str], str]


def cancel_reason(
    channel: str, conditions: Sequence[Mapping[str, str]], facts: ActionFacts
) -> str | None:
    """The first of :data:`CANCEL_REASONS` that stops a due action, or None to send it.

    ``cart_statuses`` for ``CART_STILL_OPEN`` are the open ones (OPEN, ACTIVE, ABANDONED).
    A person not yet known (``person_id`` None with the trigger present) is not decided here:
    callers wait for resolution.
    """
    if not facts.trigger_exists:
        return "PERSON_FORGOTTEN"
    if not facts.journey_active:
        return "JOURNEY_INACTIVE"
    for cond in conditions:
        kind = cond["type"]
        if kind == "CART_STILL_OPEN" and (facts.trigger_status or "") not in _OPEN_CART:
            return "CART_CLOSED"
        if kind == "NO_ORDER_SINCE_TRIGGER" and facts.orders_since > 0:
            return "ORDER_PLACED"
        if kind == "CONSENT":
            status = facts.consents.get((cond["channel"] or channel, cond["purpose"]))
            if status == "WITHDRAWN":
                return "CONSENT_WITHDRAWN"
            if status != "GRANTED":
                return "NO_CONSENT"
    contact = _CONTACT.get(channel)
    if contact is not None and not (facts.email if contact == "email" else facts.phone):
        return "NO_CONTACT_POINT"
    return None
