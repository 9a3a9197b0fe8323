"""Parse and validate each distinct query text once.

Clients send the same few query texts over and over; parsing and validating them (the schema
rules plus the depth and alias limits) cost more than running the query. :func:`document_cache`
makes an extension factory whose LRU cache, shared by every request of one schema, keeps the
parsed document of a query text and remembers which texts passed validation. A text that
failed to parse or validate is never cached: it is checked again, so its errors stay fresh.
The verdict depends on nothing else (not on variables, not on the caller), because the rules
and limits are fixed when the schema is built.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

__all__ = ["Documents", "document_cache"]


class Documents:
    """An LRU map of (query text, parse options) -> (document, validated)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        self.by_text: dict[str, list[Any]] = {}

    def validated(self, query: str) -> DocumentNode | None:
        """The parsed document of ``query`` when that text passed validation (the parse
        options are the schema's, fixed when it is built), else None."""
        entry = self.by_text.get(query)
        return entry[0] if entry is not None and entry[1] else None

    def get(self, key: tuple[Any, ...]) -> list[Any] | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[Any, ...], document: DocumentNode) -> None:
        self.entries[key] = self.by_text[key[0]] = [document, False]
        if len(self.entries) > self.size:
            old, entry = self.entries.popitem(last=False)
            if self.by_text.get(old[0]) is entry:
                del self.by_text[old[0]]


class _DocumentCache(SchemaExtension):
    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.key: tuple[Any, ...] = ()

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        self.key = (ctx.query, *sorted(ctx.parse_options.items()))
        entry = self.documents.get(self.key) if ctx.query else None
        if entry is not None and ctx.graphql_document is None:
            ctx.graphql_document = entry[0]
        yield
        if entry is None and ctx.query and ctx.graphql_document is not None:
            self.documents.put(self.key, ctx.graphql_document)

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        entry = self.documents.get(self.key)
        valid = entry is not None and entry[1] and entry[0] is ctx.graphql_document
        if valid:
            ctx.pre_execution_errors = []  # strawberry then skips validation
        yield
        if entry is not None and not valid and entry[0] is ctx.graphql_document:
            entry[1] = not ctx.pre_execution_errors


def document_cache(documents: Documents | None = None) -> Callable[[], SchemaExtension]:
    """An extension factory for one schema: parse and validate each query text once (in
    ``documents``, by default a new LRU of 256 texts). List it after the extensions that set
    parse options or validation rules (``MaxTokensLimiter``, ``QueryDepthLimiter``, ...):
    they run first on each operation."""
    cache = documents if documents is not None else Documents()
    return lambda: _DocumentCache(cache)
