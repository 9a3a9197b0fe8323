"""GraphQL errors: customer360 errors become errors with ``extensions.code``; anything
unexpected is masked (no stack trace or internal message reaches the client).

=================  ===============================================================
BAD_USER_INPUT     invalid input; ``extensions.fields`` lists ``{field, reason}``
NOT_FOUND          a referenced person, record or source does not exist
CONFLICT           the request contradicts stored state (a steward's cannot-link)
FORBIDDEN          the caller's role may not do this
UNAUTHENTICATED    no valid API key or bearer token
UNAVAILABLE        Neo4j cannot be reached
TOO_MANY_REQUESTS  too many writes at once; nothing was written, retry after
                   ``extensions.retryAfter`` seconds (see :mod:`api.limits`)
GRAPHQL_PARSE_FAILED       the query text is not GraphQL
GRAPHQL_VALIDATION_FAILED  the query does not fit the schema or the limits (depth ...)
INTERNAL_SERVER_ERROR      anything unexpected (the message is masked)
=================  ===============================================================

A malformed HTTP request (not a GraphQL request at all) is answered by the app with
``BAD_REQUEST`` (see :mod:`api.app`), a body over the size limit with HTTP 413 and
``PAYLOAD_TOO_LARGE`` (see :mod:`api.limits`). A variable *declared* with a type that does not fit
where it is used is ``GRAPHQL_VALIDATION_FAILED``; a variable *value* that does not fit its
declared type is ``BAD_USER_INPUT``.

:func:`log_errors` logs what a client did wrong as one line, and keeps the traceback for
the unexpected.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import MaskErrors

from graph.errors import (
    C360Error,
    Conflict,
    Neo4jError,
    Neo4jUnavailable,
    NotFound,
    ValidationError,
)

__all__ = [
    "KNOWN_CODES",
    "CodedErrors",
    "graph_errors",
    "log_client_error",
    "log_errors",
    "should_mask",
    "to_graphql",
]

log = logging.getLogger("customer360.api")

#: GraphQL's messages for a variable *value* that does not fit its type (graphql-core's
#: ``coerce_variable_values``); any other message about a variable is a validation error.
_VARIABLE_VALUE = re.compile(
    r"^Variable '\$\w+' (has invalid value|got invalid value|of required type .* was not provided"
    r"|of non-null type .* must not be null)"
)

KNOWN_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "CONFLICT",
        "FORBIDDEN",
        "UNAUTHENTICATED",
        "UNAVAILABLE",
        "TOO_MANY_REQUESTS",
    }
)

F = TypeVar("F", bound=Callable[..., Any])


def to_graphql(exc: C360Error) -> GraphQLError:
    """The GraphQL error for a customer360 error."""
    if isinstance(exc, ValidationError):
        return GraphQLError(
            str(exc),
            extensions={
                "code": "BAD_USER_INPUT",
                "fields": [{"field": e.field, "reason": e.reason} for e in exc.errors],
            },
        )
    if isinstance(exc, NotFound):
        return GraphQLError(str(exc), extensions={"code": "NOT_FOUND"})
    if isinstance(exc, Conflict):
        return GraphQLError(str(exc), extensions={"code": "CONFLICT"})
    if isinstance(exc, Neo4jUnavailable | Neo4jError):
        return GraphQLError(
            "the graph database is unavailable; try again later", extensions={"code": "UNAVAILABLE"}
        )
    return GraphQLError(str(exc), extensions={"code": "BAD_USER_INPUT"})


def graph_errors(fn: F) -> F:
    """Decorate a resolver so customer360 errors become coded GraphQL errors."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except C360Error as exc:
                raise to_graphql(exc) from exc

        return wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except C360Error as exc:
            raise to_graphql(exc) from exc

    return sync_wrapper  # type: ignore[return-value]


def should_mask(error: GraphQLError) -> bool:
    """Mask errors raised by unexpected exceptions; keep coded and validation errors."""
    if (error.extensions or {}).get("code") in KNOWN_CODES:
        return False
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _code(error: GraphQLError) -> str:
    """The code of an error raised by GraphQL itself (no resolver gave one)."""
    original = error.original_error
    if isinstance(original, StrawberryInputCoercionError) or _VARIABLE_VALUE.match(error.message):
        return "BAD_USER_INPUT"  # a value that does not fit its type (a bad global ID ...)
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


class CodedErrors(MaskErrors):
    """Masks unexpected errors (:func:`should_mask`, code ``INTERNAL_SERVER_ERROR``) and gives
    every other error without a code one of GraphQL's own: ``GRAPHQL_PARSE_FAILED``,
    ``GRAPHQL_VALIDATION_FAILED`` or ``BAD_USER_INPUT`` (a variable or literal of the wrong
    type), so every error a client sees has ``extensions.code``."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": _code(error)}
        return processed


def log_client_error(code: str, message: str, where: str = "") -> None:
    """One INFO line for what a client did wrong: ``client error CODE[ path]: message``. Also
    for what never reaches GraphQL (a 401, 400 or 413 answer, a refused WebSocket)."""
    log.info("client error %s%s: %s", code, f" {where}" if where else "", message)


def log_errors(errors: list[GraphQLError]) -> None:
    """Log the errors of one operation: a client's (coded, parse, validation) as one INFO line
    each, ``code path: message``; an unexpected one (what :func:`should_mask` masks) as an
    ERROR with its traceback."""
    for error in errors:
        if should_mask(error):
            log.error("unexpected error: %s", error.message, exc_info=error.original_error)
            continue
        code = (error.extensions or {}).get("code") or _code(error)
        where = ".".join(str(p) for p in error.path) if error.path else ""
        log_client_error(code, error.message, where)
