"""``c360 journeys``: define from YAML and JSON (faults named by file and path), schedule over
stored events, run to stdout."""

from __future__ import annotations

import json

from graph.cli import main
from graph.ingest import ingest_rows
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import sources
from graph.store.sources import validate_source

YAML = """\
id: cart
name: Abandoned cart
trigger:
  type: CART_ABANDONED
  after: 1 hour
steps:
  - delay: now
    channel: EMAIL
    template: cart-reminder
    conditions:
      - type: NO_ORDER_SINCE_TRIGGER
  - delay: 24 hours
    channel: SMS
    template: cart-reminder-sms
    conditions:
      - type: NO_ORDER_SINCE_TRIGGER
      - {type: CONSENT, channel: SMS, purpose: MARKETING}
"""


def _cli_env(monkeypatch, tmp_path, settings):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", settings.neo4j_username)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.password())
    monkeypatch.setenv("NEO4J_DATABASE", settings.neo4j_database)


def test_define_schedule_and_run_from_the_command_line(
    neo4j_driver, settings, monkeypatch, tmp_path, capsys
):
    _cli_env(monkeypatch, tmp_path, settings)
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    source = sources.require_source(neo4j_driver, settings, "shop")
    record = {
        "sourceId": "C1",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "email": "ada@example.com",
    }
    ingest_rows(
        neo4j_driver,
        settings,
        source,
        "records",
        [(1, record)],
        after_batch=resolve_after_ingest(Resolver(neo4j_driver, settings)),
    )
    cart = {"cartId": "K1", "sourceId": "C1", "status": "OPEN", "updatedAt": "2026-11-02T09:00:00Z"}
    ingest_rows(neo4j_driver, settings, source, "carts", [(1, cart)])  # before the journey
    (tmp_path / "cart.yaml").write_text(YAML)
    assert main(["journeys", "define", "cart.yaml"]) == 0
    assert "cart: created (version 1, active)" in capsys.readouterr().out
    assert main(["journeys", "define", "cart.yaml"]) == 0
    assert "cart: unchanged (version 1, active)" in capsys.readouterr().out
    assert main(["journeys", "schedule"]) == 0
    assert "cart: 2 actions scheduled" in capsys.readouterr().out
    assert main(["journeys", "run", "--now", "2026-11-02T10:00:00Z", "--out", "-"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.splitlines()]
    assert [(x["step"], x["channel"]) for x in lines] == [(1, "EMAIL")]
    assert "1 emitted" in captured.err
    assert main(["journeys", "list"]) == 0
    assert "EMITTED 1, SCHEDULED 1" in capsys.readouterr().out


def test_bad_files_are_refused_naming_the_file_and_the_path(
    neo4j_driver, settings, monkeypatch, tmp_path, capsys
):
    _cli_env(monkeypatch, tmp_path, settings)
    (tmp_path / "bad.json").write_text(
        json.dumps(
            {
                "id": "x",
                "name": "X",
                "colour": 1,
                "trigger": {"type": "ORDER_PLACED"},
                "steps": [{"delay": "later", "channel": "SMS", "template": "t"}],
            }
        )
    )
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n")
    assert main(["journeys", "define", "bad.json", "broken.yaml"]) == 1
    err = capsys.readouterr().err
    assert "broken.yaml: is not valid YAML" in err
    assert "bad.json: colour: unknown field" in err
    assert "bad.json: steps[0].delay: 'later' is not a duration" in err
    assert main(["journeys", "run", "--now", "yesterday-ish"]) == 1
    assert "--now:" in capsys.readouterr().err
