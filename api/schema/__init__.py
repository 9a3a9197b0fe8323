"""The GraphQL schema, split by feature and combined here."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from api.schema.health import HealthQuery

__all__ = ["schema"]

Query = merge_types("Query", (HealthQuery,))

schema = strawberry.Schema(query=Query)
