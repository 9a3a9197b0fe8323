"""The ASGI application: ``create_app(settings)`` builds it; nothing connects at import time.

Routes: ``/graphql`` (GraphQL over HTTP, GraphiQL in a browser), ``/health`` (the process
answers) and ``/ready`` (Neo4j reachable and every migration applied).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from api.context import Context
from api.schema import schema
from graph import db, migrate
from graph.errors import C360Error
from graph.settings import Settings, load_settings

__all__ = ["create_app"]


class _GraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.app.state
        return Context(driver=state.driver, settings=state.settings, request=request,
                       response=response)


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _ready(request: Request) -> JSONResponse:
    state = request.app.state
    try:
        await anyio.to_thread.run_sync(db.verify, state.driver, state.settings)
        rows = await anyio.to_thread.run_sync(migrate.info, state.driver, state.settings)
    except C360Error as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    pending = [r.source for r in rows if r.state != "APPLIED"]
    if pending:
        return JSONResponse(
            {"status": "unavailable", "reason": "migrations pending", "pending": pending},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "schemaVersion": rows[-1].version if rows else None})


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app for ``settings`` (default: from the environment).

    The lifespan opens one driver for the process and verifies connectivity, so a wrong
    password or an unreachable Neo4j stops start-up with one clear line
    (:class:`graph.errors.Neo4jError`); the driver is closed on shutdown.
    """
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        driver = await anyio.to_thread.run_sync(db.connect, settings)
        app.state.driver = driver
        app.state.settings = settings
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(app.state.driver.close)

    graphql = _GraphQL(schema)
    routes = [
        Route("/health", _health, methods=["GET"]),
        Route("/ready", _ready, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
