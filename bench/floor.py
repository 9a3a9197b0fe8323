"""What this machine's Neo4j can write at best: the floor under the ingest targets.

    .venv/bin/python bench/floor.py [--records 100000] [--writers 1 2]

Writes synthetic, already-normalised source records (no parsing, no resolution, nothing of
customer360's own code) into an empty benchmark database, in batches of 5,000 with ``UNWIND``,
and prints records/s for:

* ``nodes only``: one ``CREATE`` per record (10 properties) and nothing else: the upper bound;
* ``record graph``: what one source record is in the model (DESIGN.md): the record, its
  ``FROM`` source, 3 identifiers and 2 blocking keys (``MERGE`` on their unique keys, 1 in 4
  shared with another record) and their 5 relationships: 6 node and 6 relationship writes;

with 1 and 2 concurrent writer threads, and then the same record graph through Neo4j's
offline bulk importer (``neo4j-admin database import full`` into a scratch home: its wall time
including the JVM start, plus the time a server restart takes, which the importer needs).
The figures bound what ``bench/ingest.py`` (issue 3, target >= 10,000 records/s for records
alone) can reach on this machine, whatever the Python side does.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import bench_settings, fresh_database

from graph.localneo4j import LocalNeo4j

NODES_ONLY = """
UNWIND $rows AS row
CREATE (r:SourceRecord {key: row.key, source: 'bench', sourceId: row.id,
  givenName: row.given, familyName: row.family, email: row.email, phone: row.phone,
  postcode: row.postcode, city: 'Springfield', updatedAt: datetime()})
"""

RECORD_GRAPH = """
MATCH (s:Source {id: 'bench'})
UNWIND $rows AS row
CREATE (r:SourceRecord {key: row.key, source: 'bench', sourceId: row.id,
  givenName: row.given, familyName: row.family, email: row.email, phone: row.phone,
  postcode: row.postcode, city: 'Springfield', updatedAt: datetime()})
CREATE (r)-[:FROM]->(s)
WITH r, row
CALL (r, row) {
  UNWIND row.identifiers AS ident
  MERGE (i:Identifier {type: ident[0], value: ident[1]})
  CREATE (r)-[:HAS_IDENTIFIER]->(i)
}
CALL (r, row) {
  UNWIND row.blocks AS key
  MERGE (b:BlockingKey {key: key})
  CREATE (r)-[:IN_BLOCK]->(b)
}
"""


def _rows(start: int, count: int) -> list[dict]:
    rows = []
    for n in range(start, start + count):
        shared = n - n % 2 if n % 4 == 0 else n  # 1 in 4 records shares identifiers
        rows.append(
            {
                "key": f"bench:{n}",
                "id": str(n),
                "given": f"given{n % 5000}",
                "family": f"family{n}",
                "email": f"person{shared}@example.org",
                "phone": f"+4477{shared:08d}",
                "postcode": f"PC{n % 9000}",
                "identifiers": [
                    ["EMAIL", f"person{shared}@example.org"],
                    ["PHONE", f"+4477{shared:08d}"],
                    ["LOYALTY_ID", f"L{shared}"],
                ],
                "blocks": [
                    f"dob:19{n % 80 + 20}-01-{n % 28 + 1:02d}:g{n % 26}",
                    f"pc:PC{n % 9000}:f{n % 26}",
                ],
            }
        )
    return rows


def transactional_floor(settings, total: int, writers: int = 2) -> float:
    """Records/s of the record graph through transactions (the floor other benchmarks print
    their ratio to, measured in their own run)."""
    return _write(settings, RECORD_GRAPH, total, writers)


def _write(settings, query: str, total: int, writers: int, batch: int = 5000) -> float:
    """Records/s writing ``total`` synthetic records with ``writers`` threads."""
    driver = fresh_database(settings)
    driver.execute_query(
        "MERGE (:Source {id: 'bench', kind: 'OTHER', name: 'bench'})",
        database_=settings.neo4j_database,
    )
    batches = [_rows(start, min(batch, total - start)) for start in range(0, total, batch)]
    lock = threading.Lock()

    def work() -> None:
        with driver.session(database=settings.neo4j_database) as session:
            while True:
                with lock:
                    if not batches:
                        return
                    rows = batches.pop()
                session.execute_write(lambda tx, r=rows: tx.run(query, rows=r).consume())

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    driver.close()
    return total / elapsed


def _bulk_import(settings, total: int) -> tuple[float, float]:
    """(seconds of neo4j-admin import of the record graph, seconds of a server restart)."""
    work = Path(tempfile.mkdtemp(prefix="c360-floor-"))
    try:
        (work / "conf").mkdir()
        conf = (settings.local_home / "conf" / "neo4j.conf").read_text()
        home = str(settings.local_home.resolve())
        (work / "conf" / "neo4j.conf").write_text(conf.replace(home, str(work)))
        rows = _rows(0, total)
        files = {}

        def table(name: str, header: list[str], body) -> None:
            path = work / f"{name}.csv"
            with path.open("w", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(header)
                out.writerows(body)
            files[name] = path

        table(
            "records",
            [
                "key:ID(R)",
                "sourceId",
                "givenName",
                "familyName",
                "email",
                "phone",
                "postcode",
                "city",
                "updatedAt:datetime",
                ":LABEL",
            ],
            (
                [
                    r["key"],
                    r["id"],
                    r["given"],
                    r["family"],
                    r["email"],
                    r["phone"],
                    r["postcode"],
                    "Springfield",
                    "2025-01-01T00:00:00Z",
                    "SourceRecord",
                ]
                for r in rows
            ),
        )
        idents = {f"{t}:{v}": (t, v) for r in rows for t, v in r["identifiers"]}
        table(
            "identifiers",
            ["id:ID(I)", "type", "value", ":LABEL"],
            ([k, t, v, "Identifier"] for k, (t, v) in idents.items()),
        )
        blocks = {b for r in rows for b in r["blocks"]}
        table("blocks", ["key:ID(B)", ":LABEL"], ([b, "BlockingKey"] for b in blocks))
        table("source", ["id:ID(S)", ":LABEL"], [["bench", "Source"]])
        table(
            "from",
            [":START_ID(R)", ":END_ID(S)", ":TYPE"],
            ([r["key"], "bench", "FROM"] for r in rows),
        )
        table(
            "has",
            [":START_ID(R)", ":END_ID(I)", ":TYPE"],
            ([r["key"], f"{t}:{v}", "HAS_IDENTIFIER"] for r in rows for t, v in r["identifiers"]),
        )
        table(
            "in",
            [":START_ID(R)", ":END_ID(B)", ":TYPE"],
            ([r["key"], b, "IN_BLOCK"] for r in rows for b in r["blocks"]),
        )
        env = dict(os.environ, NEO4J_HOME=str(work), NEO4J_CONF=str(work / "conf"))
        started = time.monotonic()
        subprocess.run(
            [
                "java",
                "-Xmx1g",
                "-cp",
                f"{settings.neo4j_lib_dir}/*",
                "org.neo4j.cli.AdminTool",
                "database",
                "import",
                "full",
                "neo4j",
                "--overwrite-destination",
                *(f"--nodes={files[n]}" for n in ("records", "identifiers", "blocks", "source")),
                *(f"--relationships={files[n]}" for n in ("from", "has", "in")),
            ],
            env=env,
            check=True,
            capture_output=True,
            cwd=work,
        )  # its report goes there
        imported = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    server = LocalNeo4j(settings, log=lambda m: None)
    started = time.monotonic()
    server.stop()
    server.start()
    return imported, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    settings = bench_settings()
    print(f"{args.records} synthetic records, batches of 5,000, {os.cpu_count()} cores")
    for name, query in (("nodes only", NODES_ONLY), ("record graph", RECORD_GRAPH)):
        for writers in args.writers:
            rate = _write(settings, query, args.records, writers)
            print(f"  {name:<13} {writers} writer(s): {rate:>9,.0f} records/s")
    if settings.uses_local_server:
        imported, restart = _bulk_import(settings, args.records)
        print(
            f"  bulk import (neo4j-admin, record graph): {imported:.1f} s "
            f"= {args.records / imported:,.0f} records/s; a server restart takes "
            f"{restart:.1f} s more ({args.records / (imported + restart):,.0f} records/s)"
        )


if __name__ == "__main__":
    main()
