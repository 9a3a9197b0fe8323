"""Neo4j stopped, frozen and restarted under the API: how fast every answer comes.

Runs a Neo4j of its own (``.c360/bench-outage-neo4j``, 512 MB heap) and the API (uvicorn, a
process of its own) on it, then prints, in milliseconds (p50 / max over ``--requests``):
a person-360 style query and a mutation while Neo4j is stopped (UNAVAILABLE), ``/ready``
while it is stopped and while it is frozen (SIGSTOP), every request sent while Neo4j starts
again, and the time from Neo4j answering Bolt again to the API's first success.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

from graph import db, migrate
from graph.localneo4j import LocalNeo4j
from graph.settings import PROJECT_ROOT, Settings

KEY = "bench-outage-key-0123456789"
QUERY = {"query": '{ person(id: "p-0000000000000000") { personId } sources { id } }'}
WRITE = {
    "query": 'mutation { registerSource(input: {id: "bench", kind: OTHER, name: "Bench", '
    "priority: 1}) { id } }"
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(fn, n: int) -> tuple[list[float], set[str]]:
    ms, outcomes = [], set()
    for _ in range(n):
        started = time.perf_counter()
        outcomes.add(fn())
        ms.append((time.perf_counter() - started) * 1000)
    return ms, outcomes


def _line(what: str, ms: list[float], outcomes: set[str]) -> None:
    print(
        f"{what:<44} p50 {statistics.median(ms):7.1f} ms  max {max(ms):7.1f} ms  "
        f"({len(ms)} requests: {', '.join(sorted(outcomes))})"
    )


def _outcome(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("text"):
        return str(response.status_code)
    body = response.json()
    codes = sorted({e["extensions"]["code"] for e in body.get("errors", [])})
    return f"{response.status_code} {'/'.join(codes) or 'ok'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        neo4j_uri=None,
        neo4j_password="c360-bench-outage",
        local_home=PROJECT_ROOT / ".c360" / "bench-outage-neo4j",
        bolt_port=_free_port(),
        http_port=_free_port(),
    )
    server = LocalNeo4j(settings, log=lambda m: None)
    print(server.start(), file=sys.stderr)
    driver = db.connect(settings)
    migrate.migrate(driver, settings, log=lambda m: None)
    driver.close()
    port = _free_port()
    env = dict(
        os.environ,
        NEO4J_URI=settings.uri,
        NEO4J_PASSWORD=settings.password(),
        C360_API_KEYS=f"{KEY}=admin",
    )
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        + ["--port", str(port), "--log-level", "critical"],
        env=env,
        stderr=subprocess.DEVNULL,  # every failed request logs its traceback
    )
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=60
        ) as client:
            for _ in range(150):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            n = args.requests

            def query() -> str:
                return _outcome(client.post("/graphql", json=QUERY))

            def write() -> str:
                return _outcome(client.post("/graphql", json=WRITE))

            def ready() -> str:
                return _outcome(client.get("/ready"))

            _timed(query, 5)  # warm up: the first requests plan their queries
            _line("query, Neo4j up", *_timed(query, n))
            server.stop()
            _line("query, Neo4j stopped", *_timed(query, n))
            _line("mutation, Neo4j stopped", *_timed(write, n))
            _line("/ready, Neo4j stopped", *_timed(ready, n))

            during: list[tuple[float, str]] = []
            started = threading.Event()

            def restart() -> None:
                started.set()
                server.start()

            thread = threading.Thread(target=restart)
            thread.start()
            started.wait()
            while thread.is_alive():
                t0 = time.perf_counter()
                outcome = query()
                during.append(((time.perf_counter() - t0) * 1000, outcome))
            back = time.perf_counter()
            thread.join()
            _line("query, while Neo4j starts", [t for t, _ in during], {o for _, o in during})
            while query() != "200 ok":
                time.sleep(0.01)
            print(
                "first success after Neo4j answers Bolt again: "
                f"{(time.perf_counter() - back) * 1000:.0f} ms"
            )

            pid = server.status().pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            try:
                _line("/ready, Neo4j frozen (SIGSTOP)", *_timed(ready, n))
            finally:
                os.kill(pid, signal.SIGCONT)
    finally:
        api.terminate()
        api.wait(timeout=30)
        server.stop()


if __name__ == "__main__":
    main()
