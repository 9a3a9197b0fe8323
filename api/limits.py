"""Limits that keep one client from exhausting the API process or Neo4j's heap.

- :class:`BodyLimit` (ASGI middleware): a request body larger than ``C360_MAX_BODY_BYTES``
  gets HTTP 413 with a GraphQL error (``PAYLOAD_TOO_LARGE``). A declared ``Content-Length``
  over the limit is refused before a byte of the body is read; a chunked body is counted as
  it arrives and refused as soon as it passes the limit, so no large body is ever buffered.
- :class:`WriteLimit` (Strawberry extension): at most ``C360_MAX_CONCURRENT_WRITES`` mutations
  run at once per process; one more waits up to ``C360_WRITE_WAIT_S`` seconds for a slot,
  then gets ``TOO_MANY_REQUESTS`` (nothing written, ``extensions.retryAfter`` in seconds).
  Reads are never held back.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from graphql import ExecutionResult, GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.errors import log_client_error

__all__ = ["BodyLimit", "WriteGate", "WriteLimit", "payload_too_large", "write_limit"]


def payload_too_large(limit: int) -> JSONResponse:
    """The 413 answer: a GraphQL error body naming the limit."""
    message = f"the request body is larger than {limit:,} bytes (C360_MAX_BODY_BYTES)"
    log_client_error("PAYLOAD_TOO_LARGE", message)
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
        status_code=413,
        headers={"Connection": "close"},
    )


class _TooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes the limit."""


class BodyLimit:
    """ASGI middleware refusing HTTP request bodies over ``max_bytes`` with 413 (see module)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await payload_too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if started:  # the app answered before reading the whole body: nothing to add
                raise
            await payload_too_large(self.max_bytes)(scope, receive, send)


def _content_length(scope: Any) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class WriteGate:
    """The slots mutations share in one API process: ``slots`` at once, a newcomer waiting
    at most ``wait_s`` seconds (0: not at all) for one."""

    def __init__(self, slots: int, wait_s: float) -> None:
        self.slots, self.wait_s = slots, wait_s
        self._semaphore = anyio.Semaphore(slots)

    async def acquire(self) -> bool:
        """Take a slot within ``wait_s``; False when none came free."""
        # a free slot first: under a deadline already passed (wait_s 0) acquire() is cancelled
        # even when a slot is free
        try:
            self._semaphore.acquire_nowait()
            return True
        except anyio.WouldBlock:
            pass
        with anyio.move_on_after(self.wait_s):
            await self._semaphore.acquire()
            return True
        return False

    def release(self) -> None:
        self._semaphore.release()

    def refusal(self) -> GraphQLError:
        """The ``TOO_MANY_REQUESTS`` error of a mutation that found no slot."""
        return GraphQLError(
            f"too many writes at once ({self.slots} running); nothing was written, retry later",
            extensions={
                "code": "TOO_MANY_REQUESTS",
                "retryAfter": max(1, math.ceil(self.wait_s)),
            },
        )


class WriteLimit(SchemaExtension):
    """Holds each mutation to a slot of its :class:`WriteGate` (see module)."""

    def __init__(self, *, gate: WriteGate) -> None:
        self.gate = gate

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.operation_type is not OperationType.MUTATION:
            yield
            return
        if not await self.gate.acquire():
            # a result set before execution makes Strawberry skip executing the operation
            context.result = ExecutionResult(data=None, errors=[self.gate.refusal()])
            yield
            return
        try:
            yield
        finally:
            self.gate.release()


def write_limit(gate: WriteGate) -> Callable[[], WriteLimit]:
    """The extension factory for ``strawberry.Schema(extensions=[...])``."""
    return lambda: WriteLimit(gate=gate)
