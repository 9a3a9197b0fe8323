"""API tests drive the real ASGI app over real HTTP: uvicorn in a thread on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from api import create_app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningApp:
    def __init__(self, app) -> None:
        self.app = app
        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # surfaced by __enter__
            self.error = exc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningApp:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start: {self.error!r}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


KEYS = {
    "admin": "admin-key-1",
    "agent": "agent-key-1",
    "marketer": "marketer-key-1",
    "ingest": "ingest-key-1",
}
JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(
        update={
            "api_keys": SecretStr(",".join(f"{key}={role}" for role, key in KEYS.items())),
            "jwt_secret": SecretStr(JWT_SECRET),
        }
    )


@pytest.fixture
def api(api_settings) -> Iterator[RunningApp]:
    """The app for the test Neo4j, served over HTTP for the duration of one test."""
    with RunningApp(create_app(api_settings)) as running:
        yield running


@pytest.fixture
def http(api) -> Iterator[httpx.Client]:
    """An HTTP client with the admin API key."""
    with httpx.Client(base_url=api.url, timeout=30, headers={"X-API-Key": KEYS["admin"]}) as c:
        yield c


@pytest.fixture
def client_as(api):
    """``client_as("agent")``: an HTTP client with that role's API key (None: anonymous)."""
    clients = []

    def make(role: str | None) -> httpx.Client:
        headers = {"X-API-Key": KEYS[role]} if role else {}
        client = httpx.Client(base_url=api.url, timeout=30, headers=headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api_with(api_settings):
    """``with api_with(cors_origins=(...,)) as app:`` the app with those settings changed."""

    def make(**updates: object) -> RunningApp:
        return RunningApp(create_app(api_settings.model_copy(update=updates)))

    return make


@pytest.fixture
def keys() -> dict[str, str]:
    """The API key of each role (``keys["agent"]``)."""
    return dict(KEYS)


@pytest.fixture
def jwt_secret() -> str:
    return JWT_SECRET


@pytest.fixture
def serve():
    """``with serve(asgi_app) as running:`` any ASGI app over HTTP (``running.url``)."""
    return RunningApp
