"""Shared set-up for the benchmark scripts: a Neo4j of their own, demo data, peak memory.

Benchmarks wipe the database, so they never use the development server: without
``NEO4J_URI`` they start a local server in ``.c360/bench-neo4j`` (Bolt 27687, HTTP 27474,
``C360_BENCH_HEAP`` / ``C360_BENCH_PAGECACHE``, default 2g / 2g) and leave it running for the
next benchmark (``c360 neo4j stop`` with ``C360_NEO4J_HOME=.c360/bench-neo4j`` stops it).
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
from pathlib import Path

from graph import db, migrate
from graph.demo.generate import DEMO_SOURCES, MANIFEST_NAME, generate
from graph.localneo4j import LocalNeo4j
from graph.models import Source
from graph.settings import PROJECT_ROOT, Settings
from graph.store import sources

BENCH_PASSWORD = "c360-bench-password"


def bench_settings() -> Settings:
    """Settings of the benchmark server (started when local and not running)."""
    if os.environ.get("NEO4J_URI"):
        return Settings(_env_file=None)  # type: ignore[call-arg]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        neo4j_uri=None,
        neo4j_password=BENCH_PASSWORD,
        local_home=PROJECT_ROOT / ".c360" / "bench-neo4j",
        bolt_port=int(os.environ.get("C360_BENCH_BOLT_PORT", "27687")),
        http_port=int(os.environ.get("C360_BENCH_HTTP_PORT", "27474")),
        heap_size=os.environ.get("C360_BENCH_HEAP", "2g"),
        pagecache_size=os.environ.get("C360_BENCH_PAGECACHE", "2g"),
    )
    server = LocalNeo4j(settings, log=lambda m: print(m, file=sys.stderr))
    if not server.status().running:
        print(server.start(), file=sys.stderr)
    return settings


def fresh_database(settings: Settings):
    """A driver on an empty, migrated database.

    A local benchmark server holding more than ``RESTART_ABOVE`` nodes is restarted on a new
    store: deleting millions of nodes leaves a store whose writes are several times slower.
    Smaller databases (and any NEO4J_URI server) are emptied with DETACH DELETE, which keeps
    the server warm (a cold JVM runs the first minute of Cypher about twice as slowly).
    """
    if settings.uses_local_server and _node_count(settings) > RESTART_ABOVE:
        server = LocalNeo4j(settings, log=lambda m: print(m, file=sys.stderr))
        server.stop()
        shutil.rmtree(settings.local_home / "data", ignore_errors=True)
        print(server.start(), file=sys.stderr)
    driver = db.connect(settings)
    migrate.migrate(driver, settings, log=lambda m: None)
    db.wipe_data(driver, settings)
    return driver


RESTART_ABOVE = 500_000


def _node_count(settings: Settings) -> int:
    driver = db.connect(settings)
    try:
        records, _, _ = driver.execute_query(
            "MATCH (n) RETURN count(n) AS n", database_=settings.neo4j_database
        )
        return int(records[0]["n"])
    finally:
        driver.close()


def demo_data(people: int, seed: int) -> Path:
    """A generated demo data set, cached in .c360/bench-data/<people>-<seed>."""
    directory = PROJECT_ROOT / ".c360" / "bench-data" / f"{people}-{seed}"
    if not (directory / MANIFEST_NAME).is_file():
        print(f"generating {people} people into {directory} ...", file=sys.stderr)
        generate(directory, people, seed)
    return directory


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_peak_rss_mb(settings: Settings) -> float | None:
    """Peak resident memory (VmHWM) of the local Neo4j server in MiB, when it is ours."""
    status = LocalNeo4j(settings).status()
    if status.pid is None:
        return None
    for line in Path(f"/proc/{status.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def register_demo_sources(driver, settings: Settings) -> dict[str, Source]:
    """Register the demo's four systems; returns source id -> registered source."""
    return {
        demo.id: sources.register_source(
            driver,
            settings,
            sources.validate_source(demo.id, demo.kind.value, demo.name, demo.priority),
        )
        for demo in DEMO_SOURCES
    }


def print_peak_memory(settings: Settings, process: str = "this process") -> None:
    """Print the peak memory of this process and, when it is ours, of the Neo4j server."""
    print(f"peak memory: {process} {peak_rss_mb():.0f} MiB", end="")
    server = server_peak_rss_mb(settings)
    print(f", Neo4j server {server:.0f} MiB" if server else "")
