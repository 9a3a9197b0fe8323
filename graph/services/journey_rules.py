"""Journey definitions as data: parsing and validation (pure, no Neo4j).

A definition is a JSON object (or a YAML document of the same shape)::

    {"id": "cart-recovery", "name": "Cart recovery",
     "trigger": {"type": "cart_abandoned", "within": "7d"},
     "steps": [
       {"delay": "1h", "channel": "EMAIL", "template": "cart-email-1",
        "conditions": ["no_order_since_trigger", {"consent": {"purpose": "MARKETING"}}]},
       {"delay": "24h", "channel": "SMS", "template": "cart-sms-1",
        "conditions": ["no_order_since_trigger", "consent"]}]}

``trigger.type``: ``cart_abandoned`` (a cart not CONVERTED with no order of the same person
placed at or after the cart's ``updatedAt``; trigger time ``updatedAt``) or ``order_placed``
(trigger time ``placedAt``). ``trigger.within`` (default ``7d``): only triggers at most that
old when scheduling are scheduled, so an old cart never starts a journey. Each step is due
``delay`` after the trigger time. Conditions, checked when the step is due:
``no_order_since_trigger`` (no order of the person placed at or after the trigger time, other
than the trigger itself), ``consent`` (the effective consent for the step's channel and
MARKETING is GRANTED; ``{"consent": {"channel": C, "purpose": P}}`` names others); a
forgotten person is never contacted, whatever the conditions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.store.consents import CHANNELS

__all__ = [
    "CONDITIONS",
    "TRIGGERS",
    "JourneyDefinition",
    "Step",
    "parse_definition",
    "parse_duration",
]

TRIGGERS = ("cart_abandoned", "order_placed")
CONDITIONS = ("no_order_since_trigger", "consent", "not_forgotten")

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_HINT = 'must be like "1h", "24h", "30m"'
_MAX_STEPS = 20


@dataclass(frozen=True, slots=True)
class Step:
    """One message of a journey: ``delay_s`` seconds after the trigger, on ``channel`` with
    ``template``; ``consent`` the (channel, purpose) that must be GRANTED, or None."""

    index: int
    delay_s: int
    channel: str
    template: str
    no_order_since_trigger: bool
    consent: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class JourneyDefinition:
    """A validated definition; ``document`` is the normalised JSON-ready dict stored."""

    id: str
    name: str
    trigger: str
    within_s: int
    steps: tuple[Step, ...]
    document: dict[str, Any]

    def json(self) -> str:
        """The definition as canonical JSON text (sorted keys): what the graph stores."""
        return json.dumps(self.document, sort_keys=True, separators=(",", ":"))


def parse_duration(text: Any) -> int:
    """Seconds of a duration such as ``"30m"``, ``"1h"``, ``"24h"``, ``"7d"``, ``"45s"``;
    raises ValueError otherwise."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(_DURATION_HINT)
    return int(match.group(1)) * _UNITS[match.group(2)]


def _unknown(errors: list[FieldError], obj: dict[str, Any], allowed: set[str], path: str) -> None:
    for key in sorted(set(obj) - allowed):
        errors.append(
            FieldError(f"{path}{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")
        )


def parse_definition(raw: Any) -> JourneyDefinition:
    """Validate a definition (a dict, or JSON text) and return it parsed.

    Raises :class:`ValidationError` listing every problem, each naming the path of the bad
    field (``steps[1].delay: must be like "1h", "24h", "30m"``).
    """
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(FieldError("definition", f"is not JSON: {exc}")) from exc
    if not isinstance(raw, dict):
        raise ValidationError(FieldError("definition", "must be an object"))
    errors: list[FieldError] = []
    _unknown(errors, raw, {"id", "name", "trigger", "steps"}, "")
    journey_id = raw.get("id")
    if not isinstance(journey_id, str) or not _ID.match(journey_id):
        errors.append(FieldError("id", "must be 1-64 lower-case letters, digits, - or _"))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "must be a non-empty text of at most 200 characters"))
    trigger, within_s = _trigger(raw.get("trigger"), errors)
    steps = _steps(raw.get("steps"), errors)
    if errors:
        raise ValidationError(errors)
    assert isinstance(journey_id, str) and isinstance(name, str) and trigger is not None
    document = {
        "id": journey_id,
        "name": name.strip(),
        "trigger": {"type": trigger, "within": raw["trigger"].get("within", "7d")},
        "steps": [
            {
                "delay": raw["steps"][s.index]["delay"],
                "channel": s.channel,
                "template": s.template,
                "conditions": _conditions_document(s),
            }
            for s in steps
        ],
    }
    return JourneyDefinition(journey_id, name.strip(), trigger, within_s, tuple(steps), document)


def _trigger(value: Any, errors: list[FieldError]) -> tuple[str | None, int]:
    if not isinstance(value, dict):
        errors.append(FieldError("trigger", "must be an object with a type"))
        return None, 0
    _unknown(errors, value, {"type", "within"}, "trigger.")
    kind = value.get("type")
    if kind not in TRIGGERS:
        errors.append(FieldError("trigger.type", f"must be one of {', '.join(TRIGGERS)}"))
        kind = None
    within_s = 7 * 86400
    if "within" in value:
        try:
            within_s = parse_duration(value["within"])
        except ValueError as exc:
            errors.append(FieldError("trigger.within", str(exc)))
    return kind, within_s


def _steps(value: Any, errors: list[FieldError]) -> list[Step]:
    if not isinstance(value, list) or not value:
        errors.append(FieldError("steps", "must be a non-empty list"))
        return []
    if len(value) > _MAX_STEPS:
        errors.append(FieldError("steps", f"at most {_MAX_STEPS} steps"))
        return []
    steps = []
    for n, item in enumerate(value):
        path = f"steps[{n}]"
        if not isinstance(item, dict):
            errors.append(FieldError(path, "must be an object"))
            continue
        _unknown(errors, item, {"delay", "channel", "template", "conditions"}, f"{path}.")
        before = len(errors)
        delay = 0
        try:
            delay = parse_duration(item.get("delay"))
        except ValueError as exc:
            errors.append(FieldError(f"{path}.delay", str(exc)))
        channel = item.get("channel")
        if not isinstance(channel, str) or channel.strip().upper() not in CHANNELS:
            errors.append(
                FieldError(f"{path}.channel", f"must be one of {', '.join(sorted(CHANNELS))}")
            )
            channel = ""
        channel = channel.strip().upper()
        template = item.get("template")
        if not isinstance(template, str) or not template.strip() or len(template) > 200:
            errors.append(FieldError(f"{path}.template", "must be a non-empty template id"))
            template = ""
        no_order, consent = _conditions(item.get("conditions", []), channel, path, errors)
        if len(errors) == before:
            steps.append(Step(n, delay, channel, template.strip(), no_order, consent))
    return steps


def _conditions(
    value: Any, channel: str, path: str, errors: list[FieldError]
) -> tuple[bool, tuple[str, str] | None]:
    if not isinstance(value, list):
        errors.append(FieldError(f"{path}.conditions", "must be a list"))
        return False, None
    no_order, consent = False, None
    for n, cond in enumerate(value):
        where = f"{path}.conditions[{n}]"
        if cond == "no_order_since_trigger":
            no_order = True
        elif cond == "not_forgotten":
            pass  # always holds: a forgotten person is never contacted
        elif cond == "consent":
            consent = (channel, "MARKETING")
        elif (
            isinstance(cond, dict)
            and list(cond) == ["consent"]
            and isinstance(cond["consent"], dict)
        ):
            spec = cond["consent"]
            _unknown(errors, spec, {"channel", "purpose"}, f"{where}.consent.")
            c = spec.get("channel", channel)
            p = spec.get("purpose", "MARKETING")
            if not isinstance(c, str) or c.strip().upper() not in CHANNELS:
                errors.append(
                    FieldError(
                        f"{where}.consent.channel", f"must be one of {', '.join(sorted(CHANNELS))}"
                    )
                )
            elif not isinstance(p, str) or not p.strip() or not p.replace("_", "").isalnum():
                errors.append(
                    FieldError(f"{where}.consent.purpose", "must be a word such as MARKETING")
                )
            else:
                consent = (c.strip().upper(), p.strip().upper())
        else:
            errors.append(
                FieldError(
                    where,
                    'must be "no_order_since_trigger", "not_forgotten", "consent" or '
                    '{"consent": {"channel": ..., "purpose": ...}}',
                )
            )
    return no_order, consent


def _conditions_document(step: Step) -> list[Any]:
    out: list[Any] = []
    if step.no_order_since_trigger:
        out.append("no_order_since_trigger")
    if step.consent is not None:
        out.append({"consent": {"channel": step.consent[0], "purpose": step.consent[1]}})
    return out
