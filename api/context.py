"""The typed per-request context every resolver reads, with its DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
import neo4j
from strawberry.dataloader import DataLoader

from api.auth import Principal
from graph import views
from graph.settings import Settings

__all__ = ["Context", "Loaders"]


class Loaders:
    """Fresh per request: each loader answers all keys asked in one tick with one query."""

    def __init__(self, driver: neo4j.Driver, settings: Settings) -> None:
        async def people(ids: list[str]) -> list[views.PersonView | None]:
            found = await anyio.to_thread.run_sync(views.people_by_ids, driver, settings, ids)
            return [found.get(i) for i in ids]

        async def records(ids: list[str]) -> list[list[views.RecordView]]:
            found = await anyio.to_thread.run_sync(views.records_of_people, driver, settings,
                                                   ids)
            return [found.get(i, []) for i in ids]

        async def consents(ids: list[str]) -> list[list[views.ConsentView]]:
            found = await anyio.to_thread.run_sync(views.consents_of_people, driver, settings,
                                                   ids)
            return [found.get(i, []) for i in ids]

        self.people = DataLoader(load_fn=people)
        self.records = DataLoader(load_fn=records)
        self.consents = DataLoader(load_fn=consents)


@dataclass
class Context:
    """Per-request state: the process's driver and settings, the caller, the loaders."""

    driver: neo4j.Driver
    settings: Settings
    principal: Principal
    loaders: Loaders
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
