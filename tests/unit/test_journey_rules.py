"""Journey definitions: validation names the path of every fault; durations; the send-time
decision table."""

from __future__ import annotations

import pytest

from graph.errors import ValidationError
from graph.store.journey_rules import ActionFacts, cancel_reason, parse_definition, parse_duration

CART = {
    "trigger": {"type": "CART_ABANDONED", "after": "1 hour"},
    "steps": [
        {
            "delay": "now",
            "channel": "EMAIL",
            "template": "cart-1",
            "conditions": [{"type": "NO_ORDER_SINCE_TRIGGER"}, {"type": "CONSENT"}],
        },
        {
            "delay": "after 24 hours",
            "channel": "SMS",
            "template": "cart-2",
            "conditions": [
                {"type": "NO_ORDER_SINCE_TRIGGER"},
                {"type": "CONSENT", "channel": "SMS", "purpose": "marketing"},
            ],
        },
    ],
}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("now", 0),
        ("1 hour", 3600),
        ("after 24 hours", 86400),
        ("30 minutes", 1800),
        ("2 days", 172800),
        ("1 week", 604800),
        ("PT1H", 3600),
        ("P1DT12H", 129600),
        ("PT90M", 5400),
        (0, 0),
    ],
)
def test_durations_in_words_and_iso_8601(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P1M", "P1Y", "soon", "-1 hour", "", "PT", True, 1.5])
def test_months_years_and_nonsense_are_not_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_cart_abandoned_example_parses_with_defaults_filled():
    d = parse_definition(CART)
    assert d.trigger.type == "CART_ABANDONED" and d.trigger.after_seconds == 3600
    assert d.trigger.statuses == ("ABANDONED", "ACTIVE", "OPEN")
    assert [(s.index, s.delay_seconds, s.channel) for s in d.steps] == [
        (1, 0, "EMAIL"),
        (2, 86400, "SMS"),
    ]
    assert d.steps[0].conditions[1] == {
        "type": "CONSENT",
        "channel": "EMAIL",
        "purpose": "MARKETING",
    }
    assert parse_definition(CART).as_json == d.as_json  # canonical, comparable text


def test_every_fault_is_named_by_its_path_at_once():
    bad = {
        "trigger": {"type": "ENGAGEMENT", "colour": "red"},
        "steps": [
            {"delay": "soon", "channel": "FAX", "template": ""},
            {
                "channel": "SMS",
                "template": "t",
                "conditions": [{"type": "CART_STILL_OPEN"}, {"type": "MOON_PHASE"}, 3],
            },
            "x",
        ],
        "extra": 1,
    }
    with pytest.raises(ValidationError) as caught:
        parse_definition(bad, prefix="definition.")
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "definition.extra",
        "definition.trigger.eventType",
        "definition.trigger.colour",
        "definition.steps[0].delay",
        "definition.steps[0].channel",
        "definition.steps[0].template",
        "definition.steps[1].conditions[0].type",
        "definition.steps[1].conditions[1].type",
        "definition.steps[1].conditions[2]",
        "definition.steps[2]",
    ]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (None, "definition"),
        ({"steps": []}, "trigger"),
        ({"trigger": {"type": "CART_ABANDONED"}}, "steps"),
        ({"trigger": {}, "steps": [{"channel": "SMS", "template": "t"}]}, "trigger.type"),
        (
            {
                "trigger": {"type": "CONSENT_CHANGED", "status": "MAYBE"},
                "steps": [{"channel": "SMS", "template": "t"}],
            },
            "trigger.status",
        ),
    ],
)
def test_missing_parts_are_named(raw, field):
    with pytest.raises(ValidationError) as caught:
        parse_definition(raw)
    assert field in [e.field for e in caught.value.errors]


def _facts(**kw):
    base = dict(
        trigger_exists=True,
        trigger_status="ABANDONED",
        journey_active=True,
        person_id="p1",
        email="a@example.com",
        phone="+447700900123",
        orders_since=0,
        consents={("SMS", "MARKETING"): "GRANTED"},
    )
    base.update(kw)
    return ActionFacts(**base)


SMS = [
    {"type": "NO_ORDER_SINCE_TRIGGER"},
    {"type": "CART_STILL_OPEN"},
    {"type": "CONSENT", "channel": "SMS", "purpose": "MARKETING"},
]


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (_facts(), None),
        (_facts(trigger_exists=False), "PERSON_FORGOTTEN"),
        (_facts(journey_active=False), "JOURNEY_INACTIVE"),
        (_facts(trigger_status="CONVERTED"), "CART_CLOSED"),
        (_facts(orders_since=1), "ORDER_PLACED"),
        (_facts(consents={("SMS", "MARKETING"): "WITHDRAWN"}), "CONSENT_WITHDRAWN"),
        (_facts(consents={("EMAIL", "MARKETING"): "GRANTED"}), "NO_CONSENT"),
        (_facts(phone=None), "NO_CONTACT_POINT"),
    ],
)
def test_the_first_failing_condition_is_the_reason(facts, reason):
    assert cancel_reason("SMS", SMS, facts) == reason
