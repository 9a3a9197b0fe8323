"""Relay connections: ``first``/``after`` pages with ``pageInfo`` and ``totalCount``."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Generic, TypeVar

import strawberry

from graph.errors import FieldError, ValidationError

__all__ = [
    "Connection",
    "Edge",
    "PageInfo",
    "cursor_at",
    "keyset_connection",
    "offset_after",
    "page_size",
    "paginate",
]

N = TypeVar("N")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="An edge of a connection: a node and its cursor.")
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type(description="A page of a list that can grow (Relay connection).")
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int


def cursor_at(offset: int) -> str:
    """The cursor of the item at ``offset`` (0-based) of a list paged by :func:`paginate`."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def offset_after(cursor: str | None) -> int:
    """The offset a cursor of :func:`cursor_at` names (-1 for None: before the first item).
    Raises :class:`ValidationError` (field ``after``) for any other text."""
    if cursor is None:
        return -1
    try:
        kind, _, value = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        offset = int(value)
        if kind != "offset" or offset < 0:
            raise ValueError(cursor)
        return offset
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(FieldError("after", "is not a cursor of this list")) from None


def page_size(first: int | None, max_page: int) -> int:
    """The number of items a page holds: ``first``, or ``max_page`` when None.

    Raises :class:`ValidationError` (field ``first``) when it is negative or above
    ``max_page`` (``C360_MAX_PAGE``): a client asking for more learns it, rather than
    receiving fewer items without a word.
    """
    if first is None:
        return max_page
    if first < 0:
        raise ValidationError(FieldError("first", "must not be negative"))
    if first > max_page:
        raise ValidationError(
            FieldError(
                "first",
                f"must be at most {max_page} (C360_MAX_PAGE); page with after: endCursor",
            )
        )
    return first


def paginate(
    items: Sequence[N], first: int | None, after: str | None, max_page: int
) -> Connection[N]:
    """One page of ``items`` after cursor ``after`` (:func:`page_size` items at most).

    Raises :class:`ValidationError` for a ``first`` out of range or a foreign cursor.
    """
    size = page_size(first, max_page)
    start = offset_after(after) + 1
    page = items[start : start + size]
    edges = [Edge(cursor=cursor_at(start + i), node=node) for i, node in enumerate(page)]
    return Connection(
        edges=edges,
        total_count=len(items),
        page_info=PageInfo(
            has_next_page=start + size < len(items),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def keyset_connection(
    edges: list[Edge[N]], *, total: int, has_next: bool, after: str | None
) -> Connection[N]:
    """A connection around one page read by a keyset cursor in ``graph`` (the edges already
    carry their cursors): the page info follows from the page and the cursor asked after."""
    return Connection(
        edges=edges,
        total_count=total,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
