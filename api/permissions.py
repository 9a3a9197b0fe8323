"""Field permissions by role (see :mod:`api.auth`)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from api.auth import Role

__all__ = ["CanIngest", "CanReadPeople", "CanSetConsent", "CanUseSegments", "IsAdmin"]


class _RolePermission(BasePermission):
    roles: frozenset[Role] = frozenset()
    action = "do this"

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"your role may not {self.action}"

    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.role in self.roles


class CanReadPeople(_RolePermission):
    roles = frozenset({Role.ADMIN, Role.AGENT, Role.MARKETER})
    action = "read people"


class CanSetConsent(_RolePermission):
    roles = frozenset({Role.ADMIN, Role.AGENT})
    action = "set consent"


class CanIngest(_RolePermission):
    roles = frozenset({Role.ADMIN, Role.INGEST})
    action = "ingest records"


class CanUseSegments(_RolePermission):
    roles = frozenset({Role.ADMIN, Role.MARKETER})
    action = "use segments and audience exports"


class IsAdmin(_RolePermission):
    roles = frozenset({Role.ADMIN})
    action = "do this (admin only)"
