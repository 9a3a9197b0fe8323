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

        def history_loader(kind: str) -> DataLoader:
            async def load(ids: list[str]) -> list[list[dict[str, Any]]]:
                found = await anyio.to_thread.run_sync(views.history_of_people, driver,
                                                       settings, kind, ids)
                return [found.get(i, []) for i in ids]
            return DataLoader(load_fn=load)

        self.people = DataLoader(load_fn=people)
        self.records = DataLoader(load_fn=records)
        self.consents = DataLoader(load_fn=consents)
        self._history = {kind: history_loader(kind) for kind in views.HISTORY_QUERIES}

    async def history(self, kind: str, person_id: str) -> list[dict[str, Any]]:
        """Rows of one history kind (orders, cases, ...) of a person, newest first."""
        return await self._history[kind].load(person_id)


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
