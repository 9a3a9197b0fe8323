"""customer360's GraphQL API: Strawberry on Starlette, thin over :mod:`graph`."""

from __future__ import annotations

from api.app import create_app

__all__ = ["create_app"]
