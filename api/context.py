"""The typed per-request context every resolver reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import neo4j
from graph.settings import Settings

__all__ = ["Context"]


@dataclass
class Context:
    """Per-request state: the process's driver and settings, plus the raw request."""

    driver: neo4j.Driver
    settings: Settings
    request: Any = None
    response: Any = None
