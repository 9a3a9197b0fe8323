"""Identity events over WebSocket (graphql-transport-ws), as a downstream system follows them."""

from __future__ import annotations

import json
import logging

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

SUBSCRIBE = "subscription { identityEvents { kind personId absorbedIds recordKeys actor } }"


def _ws(api, key: str | None):
    headers = {"X-API-Key": key} if key else {}
    return connect(
        api.url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        additional_headers=headers,
        open_timeout=10,
    )


def _subscribe(ws) -> None:
    ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))


def _next_event(ws) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=15))
        if message["type"] == "next":
            return message["payload"]["data"]["identityEvents"]
        assert message["type"] != "error", message


def test_created_linked_and_merged_events_reach_a_subscriber(api, http):
    http.post(
        "/graphql",
        json={
            "query": 'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop"}) { id } }'
        },
    )
    ingest = """mutation($r: JSON!) { ingestRecord(input: {source: "shop", record: $r}) { person { personId } } }"""
    with _ws(api, "admin-key-1") as ws:
        _subscribe(ws)
        first = http.post(
            "/graphql",
            json={
                "query": ingest,
                "variables": {"r": {"customer_no": "C1", "email": "ann.lee@example.com"}},
            },
        ).json()
        created = _next_event(ws)
        assert created["kind"] == "CREATED"
        assert created["personId"] == first["data"]["ingestRecord"]["person"]["personId"]
        http.post(
            "/graphql",
            json={
                "query": ingest,
                "variables": {"r": {"customer_no": "C2", "email": "bo.berg@example.com"}},
            },
        )
        second_person = _next_event(ws)["personId"]
        http.post(
            "/graphql",
            json={
                "query": ingest,
                "variables": {
                    "r": {
                        "customer_no": "C3",
                        "email": "ann.lee@example.com",
                        "phone_home": "+447700900123",
                    }
                },
            },
        )
        linked = _next_event(ws)
        assert linked["kind"] == "LINKED" and linked["recordKeys"] == ["shop:C3"], linked
        body = http.post(
            "/graphql",
            json={
                "query": """mutation($a: String!, $b: String!) {
            mergePeople(input: {personA: $a, personB: $b}) { __typename } }""",
                "variables": {"a": created["personId"], "b": second_person},
            },
        ).json()
        assert body["data"]["mergePeople"]["__typename"] == "PersonMergeSuccess"
        merged = _next_event(ws)
        assert merged["kind"] == "MERGED" and merged["absorbedIds"] == [second_person]


def test_anonymous_websocket_is_refused(api, caplog):
    caplog.set_level(logging.INFO)
    with _ws(api, None) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    # logged as one line, as every client error is
    assert any(
        r.name == "customer360.api" and r.getMessage().startswith("client error WEBSOCKET_4401")
        for r in caplog.records
    )


def test_invalid_header_key_is_refused_with_4403(api):
    with _ws(api, "not-a-key") as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
