"""The typed per-request context every resolver reads, with its DataLoaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio
import neo4j
from strawberry.dataloader import DataLoader

from api.auth import Principal
from graph.settings import Settings
from graph.store import people

__all__ = ["Context", "Loaders", "PeopleLoader"]

_PersonKey = tuple[str, frozenset[str]]


class PeopleLoader:
    """People by 360 ID or alias, each with the parts of it a request will read
    (:data:`graph.store.people.PERSON_PARTS`, see :mod:`api.schema.lookahead`): all people asked in
    one tick come in one query, and their parts prime the other loaders."""

    def __init__(self, loader: DataLoader[_PersonKey, people.PersonView | None]) -> None:
        self._loader = loader

    async def load(self, id: str, parts: frozenset[str] = frozenset()) -> people.PersonView | None:
        return await self._loader.load((id, parts))

    async def load_many(
        self, ids: Iterable[str], parts: frozenset[str] = frozenset()
    ) -> list[people.PersonView | None]:
        return await self._loader.load_many([(i, parts) for i in ids])


class Loaders:
    """Fresh per request: each loader answers all keys asked in one tick with one query."""

    def __init__(self, driver: neo4j.Driver, settings: Settings) -> None:
        async def load_people(keys: list[_PersonKey]) -> list[people.PersonView | None]:
            # one query for the tick: every id with the union of the parts asked
            parts = frozenset().union(*(p for _, p in keys))
            found = await anyio.to_thread.run_sync(
                people.people_with, driver, settings, [i for i, _ in keys], parts
            )
            for asked, data in found.items():
                self._prime(asked, data)
            return [found[i].person if i in found else None for i, _ in keys]

        async def records(ids: list[str]) -> list[list[people.RecordView]]:
            found = await anyio.to_thread.run_sync(people.records_of_people, driver, settings, ids)
            return [found.get(i, []) for i in ids]

        async def consents(ids: list[str]) -> list[list[people.ConsentView]]:
            found = await anyio.to_thread.run_sync(people.consents_of_people, driver, settings, ids)
            return [found.get(i, []) for i in ids]

        def history_loader(kind: str) -> DataLoader:
            async def load(ids: list[str]) -> list[list[dict[str, Any]]]:
                found = await anyio.to_thread.run_sync(
                    people.history_of_people, driver, settings, kind, ids
                )
                return [found.get(i, []) for i in ids]

            return DataLoader(load_fn=load)

        self._people: DataLoader[_PersonKey, people.PersonView | None] = DataLoader(
            load_fn=load_people
        )
        self.people = PeopleLoader(self._people)
        self.records = DataLoader(load_fn=records)
        self.consents = DataLoader(load_fn=consents)
        self._history = {kind: history_loader(kind) for kind in people.HISTORY_KINDS}

    def _prime(self, asked: str, data: people.PersonData) -> None:
        """Cache what came with a person so its fields need no query of their own."""
        pid = data.person.id
        self._people.prime((asked, frozenset()), data.person)
        if data.records is not None:
            self.records.prime(pid, data.records)
        if data.consents is not None:
            self.consents.prime(pid, data.consents)
        for kind, rows in data.history.items():
            self._history[kind].prime(pid, rows)

    async def history(self, kind: str, person_id: str) -> list[dict[str, Any]]:
        """Rows of one history kind (orders, cases, ...) of a person, newest first."""
        return await self._history[kind].load(person_id)


@dataclass
class Context:
    """Per-request state: the process's driver and settings, the caller, the loaders.

    ``caller`` is None only on a WebSocket before its ``connection_init`` authenticated it
    (:mod:`api.websocket`); no operation runs before then. ``connection_params`` is that
    message's payload (set by Strawberry).
    """

    driver: neo4j.Driver
    settings: Settings
    caller: Principal | None
    loaders: Loaders
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    connection_params: dict[str, Any] | None = None

    @property
    def principal(self) -> Principal:
        """The authenticated caller; raises PermissionError when there is none (a WebSocket
        operation cannot reach a resolver before ``connection_ack``, so this is a guard)."""
        if self.caller is None:
            raise PermissionError("not authenticated")
        return self.caller
