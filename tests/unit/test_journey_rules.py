"""Journey definitions: what parses, and every fault answered with the path of the field."""

from __future__ import annotations

import json

import pytest

from graph.errors import ValidationError
from graph.services.journey_rules import parse_definition, parse_duration
from graph.services.journeys import load_definition_file

GOOD = {
    "id": "cart-recovery",
    "name": "Cart recovery",
    "trigger": {"type": "cart_abandoned"},
    "steps": [
        {
            "delay": "1h",
            "channel": "EMAIL",
            "template": "e1",
            "conditions": ["no_order_since_trigger"],
        },
        {
            "delay": "24h",
            "channel": "sms",
            "template": "s1",
            "conditions": ["no_order_since_trigger", "consent"],
        },
    ],
}


def _errors(definition) -> list[str]:
    with pytest.raises(ValidationError) as err:
        parse_definition(definition)
    return [str(e) for e in err.value.errors]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("1h", 3600), ("24h", 86400), ("7d", 604800), ("0s", 0)]
)
def test_durations_in_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1 h", "1.5h", "h", "", "1w", 60, None, "-1h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match='must be like "1h", "24h", "30m"'):
        parse_duration(text)


def test_the_cart_recovery_example_parses_with_its_conditions():
    d = parse_definition(GOOD)
    assert (d.id, d.trigger, d.within_s) == ("cart-recovery", "cart_abandoned", 7 * 86400)
    email, sms = d.steps
    assert (email.delay_s, email.channel, email.no_order_since_trigger, email.consent) == (
        3600,
        "EMAIL",
        True,
        None,
    )
    assert (sms.delay_s, sms.channel, sms.consent) == (86400, "SMS", ("SMS", "MARKETING"))
    assert parse_definition(d.json()).json() == d.json()  # the stored form parses to itself


def test_a_bad_delay_names_its_step():
    bad = json.loads(json.dumps(GOOD))
    bad["steps"][1]["delay"] = "tomorrow"
    assert _errors(bad) == ['steps[1].delay: must be like "1h", "24h", "30m"']


def test_every_fault_is_listed_at_once_with_its_path():
    bad = {
        "id": "Cart Recovery",
        "trigger": {"type": "cart_left", "within": "ever"},
        "steps": [
            {"delay": "1h", "channel": "FAX", "template": "", "extra": 1},
            {
                "delay": "1h",
                "channel": "SMS",
                "template": "t",
                "conditions": ["sunny", {"consent": {"channel": "PIGEON"}}],
            },
            "step",
        ],
        "colour": "red",
    }
    assert _errors(bad) == [
        "colour: unknown field (allowed: id, name, steps, trigger)",
        "id: must be 1-64 lower-case letters, digits, - or _",
        "name: must be a non-empty text of at most 200 characters",
        "trigger.type: must be one of cart_abandoned, order_placed",
        'trigger.within: must be like "1h", "24h", "30m"',
        "steps[0].extra: unknown field (allowed: channel, conditions, delay, template)",
        "steps[0].channel: must be one of EMAIL, PHONE, POST, PUSH, SMS, WEB",
        "steps[0].template: must be a non-empty template id",
        'steps[1].conditions[0]: must be "no_order_since_trigger", "not_forgotten", "consent" '
        'or {"consent": {"channel": ..., "purpose": ...}}',
        "steps[1].conditions[1].consent.channel: must be one of EMAIL, PHONE, POST, PUSH, SMS, WEB",
        "steps[2]: must be an object",
    ]


@pytest.mark.parametrize(
    ("definition", "error"),
    [
        ([], "definition: must be an object"),
        ("{not json", "definition: is not JSON"),
        (GOOD | {"steps": []}, "steps: must be a non-empty list"),
        (GOOD | {"trigger": "cart_abandoned"}, "trigger: must be an object with a type"),
    ],
)
def test_malformed_documents_are_refused(definition, error):
    assert _errors(definition)[0].startswith(error)


def test_a_yaml_file_reads_as_its_json_twin(tmp_path):
    path = tmp_path / "cart.yaml"
    path.write_text(
        "id: cart-recovery\nname: Cart recovery\ntrigger: {type: cart_abandoned}\nsteps:\n"
        "  - {delay: 1h, channel: EMAIL, template: e1, conditions: [no_order_since_trigger]}\n"
        "  - delay: 24h\n    channel: sms\n    template: s1\n"
        "    conditions: [no_order_since_trigger, consent]\n",
        encoding="utf-8",
    )
    assert parse_definition(load_definition_file(path)) == parse_definition(GOOD)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ValidationError, match="file: .*broken.json is not valid"):
        load_definition_file(broken)
