"""GraphQL errors: customer360 errors become errors with ``extensions.code``; anything
unexpected is masked (no stack trace or internal message reaches the client).

=================  ===============================================================
BAD_USER_INPUT     invalid input; ``extensions.fields`` lists ``{field, reason}``
NOT_FOUND          a referenced person, record or source does not exist
CONFLICT           the request contradicts stored state (a steward's cannot-link)
FORBIDDEN          the caller's role may not do this
UNAUTHENTICATED    no valid API key or bearer token
UNAVAILABLE        Neo4j cannot be reached
=================  ===============================================================
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLError

from graph.errors import (
    C360Error,
    Conflict,
    Neo4jError,
    Neo4jUnavailable,
    NotFound,
    ValidationError,
)

__all__ = ["KNOWN_CODES", "graph_errors", "should_mask", "to_graphql"]

KNOWN_CODES = frozenset({"BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "FORBIDDEN",
                         "UNAUTHENTICATED", "UNAVAILABLE"})

F = TypeVar("F", bound=Callable[..., Any])


def to_graphql(exc: C360Error) -> GraphQLError:
    """The GraphQL error for a customer360 error."""
    if isinstance(exc, ValidationError):
        return GraphQLError(str(exc), extensions={
            "code": "BAD_USER_INPUT",
            "fields": [{"field": e.field, "reason": e.reason} for e in exc.errors]})
    if isinstance(exc, NotFound):
        return GraphQLError(str(exc), extensions={"code": "NOT_FOUND"})
    if isinstance(exc, Conflict):
        return GraphQLError(str(exc), extensions={"code": "CONFLICT"})
    if isinstance(exc, Neo4jUnavailable | Neo4jError):
        return GraphQLError("the graph database is unavailable; try again later",
                            extensions={"code": "UNAVAILABLE"})
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
