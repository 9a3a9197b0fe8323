"""customer360's graph layer: settings, Neo4j access, migrations, ingestion, resolution.

Nothing here imports strawberry or starlette; the API (package ``api``) calls into this one.
"""

from __future__ import annotations

from graph.errors import C360Error
from graph.settings import Settings, load_settings

__all__ = ["C360Error", "Settings", "load_settings"]
