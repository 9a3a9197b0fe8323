"""API under load: person-360 reads with 10% ingestRecord, at 20 and 50 clients, by locust.

    .venv/bin/python bench/api_load.py [--people 2000] [--clients 20,50] [--seconds 30]

Loads the demo data set into the benchmark database when it holds no people, starts the API
(uvicorn, one worker, its own process) and, for each client count, runs locust headless for
``--seconds`` (bounded: ``--run-time``), each client sending its next request as soon as the
last is answered: nine in ten the person-360 query of bench/api.py for a random person with
two or more records, one in ten an ``ingestRecord`` of a commerce record (half sent again
unchanged, half with a new phone number). Prints requests/s and p50/p95/p99 latency (ms, as
locust records them) per request kind, failures, and the load average.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _api_queries import INGEST, QUERY
from _common import bench_settings, demo_data

from graph import db, migrate
from graph.demo.generate import MANIFEST_NAME
from graph.demo.load import load_demo

KEY = "bench-load-key-0123456789"
HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _workload(driver, settings, folder: Path, out: Path) -> None:
    people = [
        r["id"]
        for r in driver.execute_query(
            "MATCH (p:Person) WHERE p.recordCount > 1 RETURN p.id AS id LIMIT 5000",
            database_=settings.neo4j_database,
        )[0]
    ]
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    [commerce] = [
        f for f in manifest["files"] if f["source"] == "commerce" and f["file_type"] == "records"
    ]
    lines = (folder / commerce["path"]).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines[:2000]]
    out.write_text(
        json.dumps({"people": people, "records": rows, "source": "commerce", "key": KEY})
    )


def _stats(prefix: Path, kind: str = "stats") -> list[dict[str, str]]:
    with Path(f"{prefix}_{kind}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _warm_up(url: str, data: Path) -> None:
    """A few requests of each kind, one at a time: Neo4j plans the statements once, before
    the clock runs (a cold plan takes seconds on a loaded machine and is no steady state)."""
    workload = json.loads(data.read_text())
    with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=120) as client:
        for i in range(10):
            client.post(
                "/graphql",
                json={"query": QUERY, "variables": {"id": workload["people"][i]}},
            )
            client.post(
                "/graphql",
                json={
                    "query": INGEST,
                    "variables": {"source": "commerce", "record": workload["records"][i]},
                },
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--clients", default="20,50")
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    settings = bench_settings()
    driver = db.connect(settings)
    migrate.migrate(driver, settings, log=lambda m: None)
    folder = demo_data(args.people, args.seed)
    count = driver.execute_query(
        "MATCH (p:Person) RETURN count(p) AS n", database_=settings.neo4j_database
    )[0][0]["n"]
    if count == 0:
        load_demo(driver, settings, folder, show_progress=False)
    work = Path(tempfile.mkdtemp(prefix="c360-load-"))
    _workload(driver, settings, folder, work / "data.json")
    driver.close()
    port = _free_port()
    env = dict(
        os.environ,
        NEO4J_URI=settings.uri,
        NEO4J_PASSWORD=settings.password(),
        C360_API_KEYS=f"{KEY}=admin",
        C360_LOAD_DATA=str(work / "data.json"),
        C360_ENV_FILE=str(work / ".env"),
    )
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        + ["--port", str(port), "--log-level", "critical"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
        _warm_up(url, work / "data.json")
        print(f"person-360 with 10% ingestRecord, {args.seconds} s per run, {args.people} people")
        for clients in (int(c) for c in args.clients.split(",")):
            prefix = work / f"run{clients}"
            subprocess.run(
                [
                    str(Path(sys.executable).with_name("locust")),
                    "-f",
                    str(HERE / "_api_locustfile.py"),
                ]
                + ["--headless", "--only-summary", "--host", url, "-u", str(clients)]
                + ["-r", str(clients), "--run-time", f"{args.seconds}s", "--csv", str(prefix)]
                + ["--stop-timeout", "10", "--loglevel", "WARNING"],
                env=env,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            print(f"{clients} clients:")
            for row in _stats(prefix):
                print(
                    f"  {row['Name']:<14} {float(row['Requests/s']):7.1f} req/s  "
                    f"p50 {row['50%']:>5} ms  p95 {row['95%']:>5} ms  p99 {row['99%']:>5} ms  "
                    f"({row['Request Count']} requests, {row['Failure Count']} failed)"
                )
            for failure in _stats(prefix, "failures"):
                print(
                    f"    failed {failure['Name']} x{failure['Occurrences']}: "
                    f"{failure['Error'][:160]}"
                )
        print(f"load average: {os.getloadavg()}")
    finally:
        api.terminate()
        api.wait(timeout=30)


if __name__ == "__main__":
    main()
