"""Warnings: what a client should know about an answer that is not an error.

A field that finds nothing answers ``null`` (GraphQL's convention for a nullable field), and a
list leaves out what it did not find. So that a front-end developer is not left guessing
whether the id was wrong, the source unknown or the person merged away, such fields add a
warning to the response's ``extensions`` (the GraphQL spec's place for data beside ``data`` and
``errors``):

    {"data": {"person": null},
     "extensions": {"warnings": [
        {"code": "NOT_FOUND", "path": ["person"], "message": "no person has 360 ID 'p-1'"}]}}

Codes: ``NOT_FOUND`` (nothing has that id or key). A response without warnings has no
``warnings`` key.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types import Info

__all__ = ["Warnings", "warn"]

_KEY = "warnings"


def warn(info: Info, message: str, code: str = "NOT_FOUND") -> None:
    """Add a warning (``{code, path, message}``) for the field ``info`` resolves to the response."""
    warnings: list[dict[str, Any]] = info.context.extra.setdefault(_KEY, [])
    warnings.append({"code": code, "path": info.path.as_list(), "message": message})


class Warnings(SchemaExtension):
    """Puts the operation's warnings (see :func:`warn`) in the response's ``extensions``."""

    def get_results(self) -> dict[str, Any]:
        # taken, not read: a WebSocket's context lives on across its operations
        extra = getattr(self.execution_context.context, "extra", None)
        warnings = extra.pop(_KEY, None) if isinstance(extra, dict) else None
        return {_KEY: warnings} if warnings else {}
