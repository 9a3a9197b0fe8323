"""Browsers as clients: CORS for another origin, and subscriptions whose credentials travel in
the graphql-transport-ws ``connection_init`` payload (a browser's WebSocket cannot set headers).
The client is a third-party one, ``gql`` with its websockets transport, as a front end uses."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

APP_ORIGIN = "http://localhost:5173"
SUBSCRIBE = "subscription { identityEvents { kind personId recordKeys } }"
REGISTER = 'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop"}) { id } }'
INGEST = 'mutation($r: JSON!) { ingestRecord(input: {source: "shop", record: $r}) { person { personId } } }'


KEYS = {"admin": "admin-key-1", "agent": "agent-key-1"}  # as tests/api/conftest.py makes them


@pytest.fixture
def cors_api(api_with):
    with api_with(cors_origins=(APP_ORIGIN,)) as running:
        yield running


def _preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        url + "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def test_preflight_from_an_allowed_origin_is_answered_with_the_allowed_headers(cors_api):
    response = _preflight(cors_api.url, APP_ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed and "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_a_query_from_an_allowed_origin_carries_the_allow_origin_header(cors_api):
    response = httpx.post(
        cors_api.url + "/graphql",
        json={"query": "{ sources { id } }"},
        headers={"Origin": APP_ORIGIN, "X-API-Key": KEYS["admin"]},
    )
    assert response.status_code == 200 and response.json() == {"data": {"sources": []}}
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_a_refusal_is_readable_by_the_allowed_origin(cors_api):
    response = httpx.post(
        cors_api.url + "/graphql",
        json={"query": "{ sources { id } }"},
        headers={"Origin": APP_ORIGIN},
    )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_another_origin_gets_no_cors_headers(cors_api):
    response = _preflight(cors_api.url, "http://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_no_origin_is_allowed_by_default(api):
    response = _preflight(api.url, APP_ORIGIN)
    assert "access-control-allow-origin" not in response.headers
    response = httpx.post(
        api.url + "/graphql",
        json={"query": "{ sources { id } }"},
        headers={"Origin": APP_ORIGIN, "X-API-Key": KEYS["admin"]},
    )
    assert "access-control-allow-origin" not in response.headers


# --- WebSocket credentials ----------------------------------------------------------------


def _ws(app, origin: str | None = None):
    return connect(
        app.url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],
        origin=origin,
        open_timeout=10,
    )


def _close_of(app, payload: dict) -> tuple[int, str]:
    """The close code and reason the server answers ``connection_init`` with ``payload``."""
    with _ws(app) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_connection_init_without_credentials_is_closed_with_4401_and_a_reason(api):
    code, reason = _close_of(api, {})
    assert code == 4401
    assert "X-API-Key" in reason and "connection_init" in reason


@pytest.mark.parametrize(
    "payload",
    [{"X-API-Key": "not-a-key"}, {"Authorization": "Bearer not.a.token"}],
    ids=["unknown key", "bad token"],
)
def test_connection_init_with_invalid_credentials_is_closed_with_4403_and_a_reason(api, payload):
    assert _close_of(api, payload) == (4403, "Forbidden: the API key or bearer token is not valid")


def test_connection_init_payload_credentials_are_acknowledged(api):
    with _ws(api) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": KEYS["agent"]}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"


def test_a_websocket_from_an_allowed_origin_opens_and_another_origin_is_refused(cors_api):
    with _ws(cors_api, origin=APP_ORIGIN) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"X-API-Key": KEYS["admin"]}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    with pytest.raises(InvalidStatus), _ws(cors_api, origin="http://evil.example"):
        pass


def _first_event_with_gql(app, init_payload: dict) -> dict:
    """Subscribe with gql's websockets transport and ingest records until an event arrives."""
    httpx.post(app.url + "/graphql", json={"query": REGISTER}, headers={"X-API-Key": KEYS["admin"]})

    async def run() -> dict:
        transport = WebsocketsTransport(
            url=app.url.replace("http://", "ws://") + "/graphql",
            init_payload=init_payload,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:

            async def first() -> dict:
                async for result in session.subscribe(gql(SUBSCRIBE)):
                    return result["identityEvents"]
                raise AssertionError("the subscription ended without an event")

            task = asyncio.ensure_future(first())
            deadline, n = time.monotonic() + 20, 0
            async with httpx.AsyncClient(headers={"X-API-Key": KEYS["admin"]}, timeout=30) as http:
                while not task.done() and time.monotonic() < deadline:
                    n += 1
                    record = {"customer_no": f"W{n}", "email": f"web{n}@example.com"}
                    await http.post(
                        app.url + "/graphql", json={"query": INGEST, "variables": {"r": record}}
                    )
                    await asyncio.wait({task}, timeout=0.5)
            return await asyncio.wait_for(task, timeout=1)

    # in a thread of its own: the browser tests' Playwright keeps an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


def test_gql_client_subscribes_with_the_api_key_in_the_init_payload(api):
    event = _first_event_with_gql(api, {"X-API-Key": KEYS["agent"]})
    assert event["kind"] == "CREATED" and event["recordKeys"][0].startswith("shop:W")


def test_gql_client_subscribes_with_a_bearer_token_in_the_init_payload(api, jwt_secret):
    token = jwt.encode({"sub": "web-app", "role": "agent"}, jwt_secret, algorithm="HS256")
    event = _first_event_with_gql(api, {"Authorization": f"Bearer {token}"})
    assert event["kind"] == "CREATED"


def test_gql_client_without_credentials_fails_with_the_reason(api):
    with pytest.raises(TransportError) as failed:
        _first_event_with_gql(api, {})
    closed = failed.value.__cause__
    assert isinstance(closed, ConnectionClosed) and closed.rcvd is not None
    assert closed.rcvd.code == 4401 and "connection_init" in closed.rcvd.reason
