"""Neo4j driver and session helpers.

One driver per process (:func:`connect`), closed by its owner. Every query names the database
(``database_``/``database=``) so the driver never spends a round trip discovering the home
database. Driver exceptions are turned into :mod:`graph.errors` here, at the boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, LiteralString, TypeVar

import neo4j
import tenacity
from neo4j import exceptions as neo4j_exceptions

from graph.errors import Neo4jAuthError, Neo4jError, Neo4jUnavailable
from graph.settings import Settings

__all__ = [
    "OnWait",
    "clear_caches",
    "connect",
    "is_outage",
    "outlive_outage",
    "process_cache",
    "read",
    "read_once",
    "server_info",
    "translate_errors",
    "verify",
    "wipe_data",
]


@contextmanager
def translate_errors(settings: Settings) -> Iterator[None]:
    """Turn driver connection and auth exceptions into one-line customer360 errors.

    Raises :class:`Neo4jAuthError` (credentials refused) or :class:`Neo4jUnavailable`
    (server unreachable); other driver errors pass through unchanged.
    """
    try:
        yield
    except neo4j_exceptions.AuthError as exc:
        raise Neo4jAuthError(
            f"Neo4j at {settings.uri} refused user {settings.neo4j_username!r}: "
            "check NEO4J_USERNAME / NEO4J_PASSWORD"
        ) from exc
    except (neo4j_exceptions.ServiceUnavailable, neo4j_exceptions.SessionExpired, OSError) as exc:
        raise Neo4jUnavailable(
            f"Neo4j is not reachable at {settings.uri} ({_first_line(exc)}); "
            "is it running? `c360 neo4j status`"
        ) from exc
    except neo4j_exceptions.ConfigurationError as exc:
        raise Neo4jError(f"bad Neo4j connection settings for {settings.uri}: {exc}") from exc
    except neo4j_exceptions.ClientError as exc:
        code = exc.code or ""
        if code.startswith("Neo.ClientError.Security."):
            raise Neo4jAuthError(
                f"Neo4j at {settings.uri} refused user {settings.neo4j_username!r}: "
                f"{exc.message or code}"
            ) from exc
        if code == "Neo.ClientError.Database.DatabaseNotFound":
            raise Neo4jError(
                f"database {settings.neo4j_database!r} does not exist on {settings.uri} "
                "(NEO4J_DATABASE)"
            ) from exc
        raise


T = TypeVar("T")

log = logging.getLogger("customer360.db")

#: Told before each wait for Neo4j: ``(attempt that failed, seconds until the next, error)``.
OnWait = Callable[[int, float, BaseException], None]


def is_outage(exc: BaseException) -> bool:
    """True for a failure that waiting can cure: Neo4j unreachable or restarting (a translated
    :class:`Neo4jUnavailable`, the driver's ``ServiceUnavailable`` / ``SessionExpired`` /
    ``IncompleteCommit``, or a transient error such as ``DatabaseUnavailable`` the driver's own
    retries outlasted)."""
    return isinstance(
        exc,
        Neo4jUnavailable
        | neo4j_exceptions.ServiceUnavailable
        | neo4j_exceptions.SessionExpired
        | neo4j_exceptions.TransientError,
    )


def outlive_outage(
    settings: Settings,
    work: Callable[[], T],
    *,
    on_wait: OnWait | None = None,
    wait_s: float | None = None,
) -> T:
    """Run ``work`` (an idempotent write: the driver's managed transactions are) and, while
    Neo4j is unavailable (:func:`is_outage`), run it again after exponential backoff (0.5, 1,
    2 ... s, at most ``settings.ingest_retry_max_s`` apart, default 1 s, plus up to 0.25 s of
    jitter) for up to ``wait_s``
    seconds (default ``settings.ingest_wait_s``). Each wait is logged (logger
    ``customer360.db``) and told to ``on_wait``. Returns what ``work`` returns; raises the
    last error, translated to :class:`Neo4jUnavailable`, once the time is up, and any other
    error at once. Backoff by tenacity, the retry library of the Python ecosystem
    (``wait_exponential`` plus ``wait_random``, ``stop_after_delay``)."""
    budget = settings.ingest_wait_s if wait_s is None else wait_s

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        assert error is not None
        log.warning(
            "waiting for Neo4j at %s (%s): try %d failed, next in %.1f s",
            settings.uri,
            _first_line(error),
            state.attempt_number,
            delay,
        )
        if on_wait is not None:
            on_wait(state.attempt_number, delay, error)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_outage),
        wait=tenacity.wait_exponential(multiplier=0.5, max=settings.ingest_retry_max_s)
        + tenacity.wait_random(0, 0.25),
        stop=tenacity.stop_after_delay(budget),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        with translate_errors(settings):
            return retrying(work)
    except neo4j_exceptions.TransientError as exc:  # e.g. a database still starting
        raise Neo4jUnavailable(
            f"Neo4j at {settings.uri} stayed unavailable for {budget:g} s ({_first_line(exc)})"
        ) from exc


def read(
    driver: neo4j.Driver, settings: Settings, query: LiteralString, **params: Any
) -> list[neo4j.Record]:
    """Run one read query (routed to a reader, on the configured database) and return its
    rows; raises :class:`graph.errors.Neo4jError` (translated) when Neo4j fails."""
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            query, params, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
        )
    return records


def read_once(
    driver: neo4j.Driver, settings: Settings, query: LiteralString, **params: Any
) -> list[dict[str, Any]]:
    """Run one read query as an auto-commit transaction and return its rows as dicts.

    One round trip (``RUN`` and ``PULL`` together) where :func:`read`'s managed transaction
    takes two (the person-360 read of bench/api.py: ~1.39 ms against ~1.76 ms p50 here),
    but never retried: for reads whose caller has a retrying path to fall back on. Raises
    :class:`graph.errors.Neo4jError` (translated, see :func:`translate_errors`) or the
    driver's own error when Neo4j fails.
    """
    with translate_errors(settings):
        with driver.session(
            database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
        ) as session:
            return session.run(query, params).data()


def connect(
    settings: Settings,
    *,
    verify: bool = True,
    retry_s: float = 30.0,
    connect_timeout_s: float = 30.0,
) -> neo4j.Driver:
    """Create the process's driver for ``settings.uri`` (used as given: bolt/neo4j/+s schemes).

    With ``verify`` the server is contacted once, so a wrong password or an unreachable server
    fails here with one clear line (:class:`Neo4jAuthError`, :class:`Neo4jUnavailable`).
    The caller owns the driver and must ``close()`` it. ``retry_s`` bounds how long managed
    transactions retry transient errors (s); ``connect_timeout_s`` how long one connection
    attempt may take (s): a server answering requests keeps both short so clients fail fast.
    """
    with translate_errors(settings):
        driver = neo4j.GraphDatabase.driver(
            settings.uri,
            auth=(settings.neo4j_username, settings.password()),
            user_agent="customer360",
            connection_acquisition_timeout=connect_timeout_s,
            connection_timeout=connect_timeout_s,
            max_transaction_retry_time=retry_s,
            max_connection_lifetime=3600,
            # "unknown label/property" hints on an empty graph are noise, not problems
            notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
        )
        if verify:
            try:
                driver.verify_connectivity()
            except BaseException:
                driver.close()
                raise
        return driver


def verify(driver: neo4j.Driver, settings: Settings) -> None:
    """Check once, without retries, that the server answers; raise like :func:`connect`."""
    with translate_errors(settings):
        driver.verify_connectivity()


def server_info(driver: neo4j.Driver, settings: Settings) -> dict[str, Any]:
    """Return ``{"address", "agent", "edition", "version"}`` of the connected server."""
    query: LiteralString = (
        "CALL dbms.components() YIELD name, versions, edition "
        "RETURN versions[0] AS version, edition"
    )
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            query, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
        )
        info = driver.get_server_info()
    return {
        "address": str(info.address),
        "agent": info.agent,
        "version": records[0]["version"],
        "edition": records[0]["edition"],
    }


_WIPE_BATCH: LiteralString = (
    "MATCH (n) WHERE NOT n:__Neo4jMigration AND NOT n:__Neo4jMigrationsLock "
    "WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted"
)


#: In-process caches of graph data (registered sources, the forget salt), keyed by
#: ``(uri, database, ...)``; :func:`wipe_data` empties them with the database.
_CACHES: list[dict[Any, Any]] = []


def process_cache() -> dict[Any, Any]:
    """A new in-process cache that :func:`wipe_data` clears (so tests and ``c360 db wipe``
    never leave data of a wiped database behind in this process)."""
    cache: dict[Any, Any] = {}
    _CACHES.append(cache)
    return cache


def clear_caches() -> None:
    """Empty the in-process caches (:func:`process_cache`): after the database was replaced
    under this process (a bulk load's import) or wiped."""
    for cache in _CACHES:
        cache.clear()


def wipe_data(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    batch: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete every node except the migration chain, in batches of ``batch`` nodes (each its
    own transaction); return how many were deleted. ``progress(deleted so far)`` is called
    after each batch.

    Used by tests and ``c360 db wipe``; schema (constraints, indexes) and the migration chain
    are kept, the in-process caches (:func:`process_cache`) are emptied.
    """
    clear_caches()
    total = 0
    with translate_errors(settings):
        while True:
            records, _, _ = driver.execute_query(
                _WIPE_BATCH, batch=batch, database_=settings.neo4j_database
            )
            deleted = records[0]["deleted"]
            total += deleted
            if progress is not None:
                progress(total)
            if deleted < batch:
                return total


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(":").strip()
