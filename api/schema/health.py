"""``health``: the API process answers and reports its version."""

from __future__ import annotations

from importlib import metadata

import strawberry

__all__ = ["HealthQuery"]


@strawberry.type(description="Liveness of the API process.")
class Health:
    status: str = strawberry.field(description="Always `ok` when the process answers.")
    version: str = strawberry.field(description="customer360 package version.")


@strawberry.type
class HealthQuery:
    @strawberry.field(description="Liveness of the API process (no database access).")
    def health(self) -> Health:
        return Health(status="ok", version=_version())


def _version() -> str:
    try:
        return metadata.version("customer360")
    except metadata.PackageNotFoundError:
        return "unknown"
