"""The ASGI application: ``create_app(settings)`` builds it; nothing connects at import time.

Routes: ``/graphql`` (GraphQL over HTTP, GraphiQL in a browser, subscriptions over WebSocket),
``/graphiql/`` (GraphiQL's vendored assets), ``/browser/`` (Neo4j Browser's guide and style
sheet, :mod:`api.browser_guide`), ``/console`` (the agents' 360 page, :mod:`api.console`),
``/health`` (the process answers) and ``/ready``
(Neo4j reachable and every migration applied). Browsers on the origins of
``C360_CORS_ORIGINS`` may call it (Starlette's ``CORSMiddleware``) and open its WebSocket;
none may by default.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from api.auth import Role, authenticate, credentials_presented, parse_api_keys
from api.browser_guide import browser_app
from api.console import CONSOLE_ASSETS, console_page
from api.context import Context, Loaders
from api.errors import log_client_error
from api.examples import ASSETS, graphiql_page
from api.fastread import PersonReads
from api.limits import BodyLimit
from api.media import as_graphql_response, wants_graphql_response
from api.schema import build_schema
from api.websocket import TransportWSHandler, authenticate_connection
from graph import db, migrate
from graph.errors import C360Error, ConfigError
from graph.ingest.parse import set_input_limits
from graph.services.resolver import Resolver
from graph.settings import Settings, load_settings
from graph.store.records import count_pending

log = logging.getLogger("customer360.api")

__all__ = ["create_app"]


class _GraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, settings: Settings, api_keys: dict[str, Role]) -> None:
        schema = build_schema(settings)
        super().__init__(schema, allowed_origins=settings.cors_origins)
        self.settings, self.api_keys = settings, api_keys
        self.person_reads = PersonReads(schema._schema, schema.documents, settings)

    def encode_json(self, data: object) -> str:
        # text, not bytes: WebSocket messages are sent as text frames
        try:
            return orjson.dumps(data).decode()
        except (TypeError, orjson.JSONEncodeError):  # an integer past 64 bits in a JSON scalar
            return str(super().encode_json(data))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # graphql-transport-ws authenticated in TransportWSHandler already; this is for the
        # legacy graphql-ws protocol, which answers connection_error with the reason
        refusal = authenticate_connection(
            context,
            context.connection_params or {},
            self.settings,
            self.api_keys,
            bool(context.request.scope.get("c360.presented")),
        )
        if refusal is not None:
            raise ConnectionRejectionError(
                {"message": refusal.reason, "extensions": {"code": "UNAUTHENTICATED"}}
            )
        return UNSET

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        fast = await self._person_read(request)
        if fast is not None:
            response: Any = Response(fast, media_type="application/json")
            if wants_graphql_response(request.headers.get("accept", "")):
                response = as_graphql_response(response)
            await response(scope, receive, send)
            return
        try:
            response = await self.run(request)
            _honest_status(request, response)
        except HTTPException as exc:  # a malformed request: the GraphQL error shape, not text
            response = _bad_request(exc.reason, exc.status_code)
        except (UnicodeDecodeError, AttributeError, TypeError):
            # valid JSON that is not an object (null, 42, "text"), or bytes that are not UTF-8:
            # Strawberry's request parsing fails before any GraphQL runs
            response = _bad_request(
                "the request body must be a UTF-8 JSON object with a 'query' string", 400
            )
        if wants_graphql_response(HTTPConnection(scope).headers.get("accept", "")):
            response = as_graphql_response(response)
        await response(scope, receive, send)

    async def _person_read(self, request: Request) -> bytes | None:
        """The person-360 read without per-field resolvers when it can answer the request
        exactly (:mod:`api.fastread`), else None: the general path answers."""
        if (
            not self.settings.fast_reads
            or request.method != "POST"
            or not request.headers.get("content-type", "").startswith("application/json")
        ):
            return None
        body = await request.body()  # kept by the request: the general path reads it again
        return await self.person_reads.respond(
            body, request.scope.get("c360.principal"), request.app.state.driver
        )

    async def process_result(self, request: Any, result: Any) -> Any:
        request.scope["c360.codes"] = {
            (e.extensions or {}).get("code") for e in (result.errors or ())
        }
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        return HTMLResponse(graphiql_page())

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.app.state
        return Context(
            driver=state.driver,
            settings=state.settings,
            caller=request.scope["c360.principal"],
            loaders=Loaders(state.driver, state.settings),
            request=request,
            response=response,
        )


def _honest_status(request: Request, response: Any) -> None:
    """For a client that accepts ``application/graphql-response+json``: 503 (and
    ``Retry-After``) when any error is ``UNAVAILABLE``, 429 when one is ``TOO_MANY_REQUESTS``
    (:func:`api.media.as_graphql_response` then gives the media type and 400 for a request
    error). Plain ``application/json`` clients keep HTTP 200 with the errors in the body."""
    if not wants_graphql_response(request.headers.get("accept", "")):
        return
    codes = request.scope.get("c360.codes", set())
    if response.status_code == 200 and "UNAVAILABLE" in codes:
        response.status_code = 503
        response.headers["Retry-After"] = "1"
    elif response.status_code == 200 and "TOO_MANY_REQUESTS" in codes:
        response.status_code = 429
        response.headers["Retry-After"] = "1"


def _bad_request(message: str, status: int) -> JSONResponse:
    log_client_error("BAD_REQUEST", message)
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]},
        status_code=status,
    )


def _unauthenticated(presented: bool = False) -> JSONResponse:
    message = (
        "the API key or bearer token is not valid"
        if presented
        else "authentication required: send X-API-Key or Authorization: Bearer <token>"
    )
    log_client_error("UNAUTHENTICATED", message)
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="customer360"'},
    )


class _Authenticated:
    """ASGI wrapper: requests without valid credentials get 401 (GraphQL error shape), except
    a browser's GET of the GraphiQL page itself (which holds no data) and a WebSocket, which
    may still authenticate in its ``connection_init`` (:mod:`api.websocket`)."""

    def __init__(self, app: Any, settings: Settings, api_keys: dict[str, Role]) -> None:
        self.app, self.settings, self.api_keys = app, settings, api_keys

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            conn = HTTPConnection(scope)
            principal = authenticate(conn, self.settings, self.api_keys)
            graphiql = (
                scope["type"] == "http"
                and scope["method"] == "GET"
                and "text/html" in conn.headers.get("accept", "")
            )
            presented = credentials_presented(conn.headers)
            if principal is None and not graphiql and scope["type"] == "http":
                await _unauthenticated(presented)(scope, receive, send)
                return
            scope["c360.principal"] = principal
            scope["c360.presented"] = presented
        await self.app(scope, receive, send)


async def _console(request: Request) -> HTMLResponse:
    return HTMLResponse(console_page())


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


#: ``/ready`` answers within this many seconds whatever Neo4j does.
READY_WITHIN_S = 0.9
# Readiness probes waiting on a Neo4j that does not answer hold at most this many threads;
# a probe finding them all busy answers 503 at once instead of piling up more.
_READY_THREADS = 2


def _readiness(driver: Any, settings: Settings) -> tuple[list[migrate.MigrationInfo], int]:
    db.verify(driver, settings)  # no retries: an unreachable server says so at once
    return migrate.info(driver, settings), count_pending(driver, settings)


async def _ready(request: Request) -> JSONResponse:
    state = request.app.state
    if authenticate(request, state.settings, state.api_keys) is None:
        return _unauthenticated()
    found = None
    try:
        with anyio.move_on_after(READY_WITHIN_S):
            # a probe left behind by the deadline finishes (or fails) in its thread unawaited
            found = await anyio.to_thread.run_sync(
                _readiness,
                state.driver,
                state.settings,
                abandon_on_cancel=True,
                limiter=state.ready_limiter,
            )
    except C360Error as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    if found is None:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": f"Neo4j did not answer within {READY_WITHIN_S:g} s",
            },
            status_code=503,
        )
    rows, pending_records = found
    pending = [r.source for r in rows if r.state != "APPLIED"]
    if pending:
        return JSONResponse(
            {"status": "unavailable", "reason": "migrations pending", "pending": pending},
            status_code=503,
        )
    # pending records do not make the API unready: they are resolved in the background or
    # by the next run, and an ingestRecord of one resolves it
    return JSONResponse(
        {
            "status": "ready",
            "schemaVersion": rows[-1].version if rows else None,
            "pendingRecords": pending_records,
        }
    )


def _resolve_pending(resolver: Resolver) -> int:
    pending = count_pending(resolver.driver, resolver.settings)
    if pending:
        log.info("resolving %d records pending resolution before serving", pending)
    return resolver.resolve_pending(show_progress=True) if pending else 0


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app for ``settings`` (default: from the environment).

    The lifespan opens one driver for the process and verifies connectivity, so a wrong
    password or an unreachable Neo4j stops start-up with one clear line
    (:class:`graph.errors.Neo4jError`); the driver is closed on shutdown.
    """
    settings = settings or load_settings()
    set_input_limits(settings.input_limits)
    try:
        api_keys = parse_api_keys(
            settings.api_keys.get_secret_value() if settings.api_keys else None
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # a request while Neo4j is down answers UNAVAILABLE within C360_API_NEO4J_TIMEOUT_S:
        # half of it to get a connection, a quarter as the retry window (the driver's first
        # retry waits ~1 s, so a window under 0.8 s allows exactly one retry)
        budget = settings.api_neo4j_timeout_s
        driver = await anyio.to_thread.run_sync(
            lambda: db.connect(settings, retry_s=budget / 4, connect_timeout_s=budget / 2)
        )
        app.state.driver = driver
        app.state.settings = settings
        app.state.ready_limiter = anyio.CapacityLimiter(_READY_THREADS)
        try:  # the first ingestRecord should not wait for Neo4j to plan its statements
            resolver = Resolver(driver, settings, actor="api:start")
            await anyio.to_thread.run_sync(resolver.warm_up)
            # nothing stuck: records an interrupted ingest stored but did not resolve
            resolved = await anyio.to_thread.run_sync(_resolve_pending, resolver)
            if resolved:
                log.info("resolved %d records left pending", resolved)
        except C360Error as exc:  # Neo4j down, a bad rules file: requests will say so
            log.warning("resolution warm-up or pending records skipped: %s", exc)
        app.state.api_keys = api_keys
        app.state.person_reads = graphql_view.person_reads
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(app.state.driver.close)

    graphql_view = _GraphQL(settings, api_keys)
    graphql = _Authenticated(graphql_view, settings, api_keys)
    routes = [
        Route("/health", _health, methods=["GET"]),
        Route("/ready", _ready, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        # GraphiQL's scripts and styles (no data), so the page needs no CDN
        Mount("/graphiql", StaticFiles(directory=ASSETS), name="graphiql"),
        # Neo4j Browser's guide and style sheet (:guide / :style URL), for any origin
        Mount("/browser", app=browser_app()),
        # the agents' 360 page: a page and a script (no data) that call /graphql with a key
        Route("/console", _console, methods=["GET"]),
        Mount("/console/static", StaticFiles(directory=CONSOLE_ASSETS), name="console"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        # CORS outermost, so a refused body's 413 reaches a browser on another origin too
        middleware=[*_cors(settings), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
    )


def _cors(settings: Settings) -> list[Middleware]:
    """CORS for the origins of ``C360_CORS_ORIGINS`` (none: no CORS headers at all). Credentials
    are headers (``X-API-Key``, ``Authorization``), never cookies, so none are allowed."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Authorization", "Content-Type", "X-API-Key"],
            max_age=600,
        )
    ]
