"""Faults injected into ingest and the API, and what each leaves behind (issue #17).

Runs a Neo4j of its own (``.c360/bench-faults-neo4j``, free ports, ``C360_BENCH_HEAP`` heap,
default 1g) and real ``c360 ingest`` processes and a real API (uvicorn) on it. First a clean
run ingests the demo records files (``--people``, ``--seed``); then each scenario starts from
an empty database (the API ones from the clean graph) and injects one fault:

* ``kill-neo4j-batch-N``: ``kill -9`` of Neo4j once a third of the records are stored, started
  again at once, during ``c360 ingest --batch-size N`` (N = 100, 500 and the default 5000);
* ``kill-ingest``: ``kill -9`` of the ingest process while a batch is written but not yet
  resolved, then the same commands again;
* ``undecodable-line``: one latin-1 byte in the middle line of a UTF-8 CSV;
* ``oversized-bodies``: four concurrent 20 MB ``ingestRecord`` bodies (time to refusal, API
  and Neo4j resident memory before and after);
* ``neo4j-restart-under-api-load``: ``kill -9`` and restart of Neo4j while clients read
  person 360s and re-send records (10% ``ingestRecord``).

Per scenario it prints records stored, pending and orphan records, the pairwise F1 of the
people against the clean run's (over the records both hold), the time from Neo4j answering
Bolt again to the first successful write or request, and the exit status of ``c360 check``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import demo_data, register_demo_sources

from graph import db, migrate
from graph.demo.generate import MANIFEST_NAME
from graph.localneo4j import LocalNeo4j
from graph.resolution.evaluate import evaluate
from graph.settings import PROJECT_ROOT, Settings
from graph.store import integrity

KEY = "bench-faults-key-0123456789"
C360 = str(Path(sys.executable).with_name("c360"))
PERSON = """query($s: String!, $id: String!) { personBySourceRecord(source: $s, sourceId: $id) {
  personId givenName familyName sourceRecords(first: 5) { totalCount } } }"""
INGEST = """mutation($s: String!, $r: JSON!) { ingestRecord(input: {source: $s, record: $r}) {
  personId decision } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Row:
    scenario: str
    exit: str = "-"
    stored: int = 0
    pending: int = 0
    orphans: int = 0
    f1: float | None = None
    first_success_s: float | None = None
    check: int | None = None
    notes: list[str] = field(default_factory=list)


class Lab:
    """The server, a driver on it, the demo files and the environment of child processes."""

    def __init__(self, people: int, seed: int, heap: str) -> None:
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            neo4j_uri=None,
            neo4j_password="c360-bench-faults",
            local_home=PROJECT_ROOT / ".c360" / "bench-faults-neo4j",
            bolt_port=_free_port(),
            http_port=_free_port(),
            heap_size=heap,
            pagecache_size="512m",
        )
        self.server = LocalNeo4j(self.settings, log=lambda m: None)
        print(self.server.start(), file=sys.stderr)
        self.driver = db.connect(self.settings)
        migrate.migrate(self.driver, self.settings, log=lambda m: None)
        folder = demo_data(people, seed)
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        self.files = [
            (f["source"], folder / f["path"], f["rows"])
            for f in manifest["files"]
            if f["file_type"] == "records"
        ]
        self.total = sum(rows for _, _, rows in self.files)
        self.tmp = Path(tempfile.mkdtemp(prefix="c360-faults-"))
        self.env = dict(
            os.environ,
            NEO4J_URI=self.settings.uri,
            NEO4J_PASSWORD=self.settings.password(),
            C360_ENV_FILE=str(self.tmp / ".env"),
            C360_API_KEYS=f"{KEY}=admin",
        )

    # -- the graph ------------------------------------------------------------------------
    def q(self, query, **params):
        rows, _, _ = self.driver.execute_query(
            query, params, database_=self.settings.neo4j_database
        )
        return rows

    def counts(self) -> tuple[int, int, int]:
        """(records, pending, people); raises while Neo4j is down."""
        row = self.q(
            "CALL () { MATCH (r:SourceRecord) RETURN count(r) AS records } "
            "CALL () { MATCH (r:Pending) RETURN count(r) AS pending } "
            "CALL () { MATCH (p:Person) RETURN count(p) AS people } "
            "RETURN records, pending, people"
        )[0]
        return row["records"], row["pending"], row["people"]

    def try_counts(self) -> tuple[int, int, int] | None:
        try:
            return self.counts()
        except Exception:
            return None

    def clusters(self) -> dict[str, str]:
        rows = self.q(
            "MATCH (r:SourceRecord) WHERE r.placeholder IS NULL "
            "OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r) "
            "RETURN r.key AS key, coalesce(p.id, r.key) AS cluster"
        )
        return {r["key"]: r["cluster"] for r in rows}

    def fresh(self) -> None:
        db.wipe_data(self.driver, self.settings)
        register_demo_sources(self.driver, self.settings)

    # -- processes ------------------------------------------------------------------------
    def ingest(self, files, *extra: str) -> list[subprocess.Popen]:
        """Start ``c360 ingest`` of each file, one after the other, in a thread; the list
        fills with the processes as they start."""
        procs: list[subprocess.Popen] = []

        def run() -> None:
            for source, path, _ in files:
                proc = subprocess.Popen(
                    [C360, "ingest", str(path), "--source", source, *extra],
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                procs.append(proc)
                if proc.wait() < 0:  # killed: the run ends there, as a shell's would
                    return

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._ingest_thread = thread
        return procs

    def wait_ingest(self) -> None:
        self._ingest_thread.join()

    def check(self) -> int:
        return subprocess.run(
            [C360, "check"], env=self.env, capture_output=True, check=False
        ).returncode

    def kill_neo4j(self) -> None:
        pid = self.server.status().pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def finish(self, row: Row, clean: dict[str, str]) -> Row:
        stored, row.pending, _ = self.counts()
        row.stored = stored
        row.orphans = integrity.count_violations(self.driver, self.settings, "orphan-record")
        now = self.clusters()
        both = set(now) & set(clean)
        row.f1 = evaluate({k: now[k] for k in both}, {k: clean[k] for k in both}).f1
        row.check = self.check()
        return row

    def close(self) -> None:
        self.driver.close()
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _exits(procs: list[subprocess.Popen]) -> str:
    return ",".join(str(p.returncode) for p in procs)


def _first_change_after(lab: Lab, before: tuple[int, int, int] | None, back: float) -> float:
    """Seconds from ``back`` until the counts differ from ``before`` (a write succeeded)."""
    while True:
        now = lab.try_counts()
        if now is not None and before is not None and now != before:
            return time.monotonic() - back
        if now is not None and before is None:
            before = now
        if not lab._ingest_thread.is_alive():
            return time.monotonic() - back
        time.sleep(0.05)


def kill_neo4j_mid_ingest(lab: Lab, clean: dict[str, str], batch: int) -> Row:
    row = Row(f"kill-neo4j-batch-{batch}")
    lab.fresh()
    procs = lab.ingest(lab.files, "--batch-size", str(batch))
    while (c := lab.try_counts()) is None or c[0] < lab.total // 3:
        if not lab._ingest_thread.is_alive():
            row.notes.append("ingest ended before a third was stored: no fault injected")
            break
        time.sleep(0.05)
    else:
        lab.kill_neo4j()
        time.sleep(1.0)
        lab.server.start()
        back = time.monotonic()
        before = lab.try_counts()
        row.first_success_s = _first_change_after(lab, before, back)
    lab.wait_ingest()
    row.exit = _exits(procs)
    return lab.finish(row, clean)


def kill_ingest_between_write_and_resolve(lab: Lab, clean: dict[str, str]) -> Row:
    row = Row("kill-ingest")
    lab.fresh()
    procs = lab.ingest(lab.files, "--batch-size", "100")
    while True:
        c = lab.try_counts()
        if c is not None and c[0] > lab.total // 3 and c[1] > 0 and procs:
            procs[-1].send_signal(signal.SIGKILL)
            break
        if not lab._ingest_thread.is_alive():
            row.notes.append("never saw a batch written and not resolved: no fault injected")
            break
        time.sleep(0.005)
    lab.wait_ingest()
    stored, pending, _ = lab.counts()
    row.notes.append(f"at the kill: {stored} records stored, {pending} pending")
    again = lab.ingest(lab.files, "--batch-size", "100")
    lab.wait_ingest()
    row.exit = f"{_exits(procs)} then {_exits(again)}"
    return lab.finish(row, clean)


def undecodable_line(lab: Lab, clean: dict[str, str]) -> Row:
    row = Row("undecodable-line")
    lab.fresh()
    files = []
    for source, path, rows in lab.files:
        if path.suffix == ".csv" and not any(f[1].parent == lab.tmp for f in files):
            lines = path.read_bytes().split(b"\n")
            middle = len(lines) // 2
            lines[middle] = lines[middle].replace(b",", b",\xe9", 1)
            broken = lab.tmp / f"{source}-customers.csv"
            broken.write_bytes(b"\n".join(lines))
            row.notes.append(f"latin-1 byte on line {middle + 1} of {path.name} ({source})")
            path = broken
        files.append((source, path, rows))
    procs = lab.ingest(files)
    lab.wait_ingest()
    row.exit = _exits(procs)
    errors = [p for p in lab.tmp.glob("*.errors.csv")]
    for report in errors:
        row.notes.append(f"{report.name}: {report.read_text().strip().splitlines()[1:]}")
    return lab.finish(row, clean)


def _rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Api:
    def __init__(self, lab: Lab) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
            + ["--port", str(self.port), "--log-level", "critical"],
            env=lab.env,
            stderr=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        with httpx.Client(base_url=self.url, timeout=5) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError("the API did not start")

    def client(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": KEY}, timeout=timeout)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def oversized_bodies(lab: Lab, clean: dict[str, str], api: Api) -> Row:
    row = Row("oversized-bodies", exit="-")
    api_before, neo_before = _rss_mb(api.proc.pid), _rss_mb(lab.server.status().pid)
    body = json.dumps(
        {
            "query": INGEST,
            "variables": {
                "s": "commerce",
                "r": {"sourceId": "BIG", "first_name": "x" * 20_000_000},
            },
        }
    ).encode()
    results: list[tuple[int, float]] = []

    def send() -> None:
        with api.client() as client:
            started = time.perf_counter()
            response = client.post(
                "/graphql", content=body, headers={"Content-Type": "application/json"}
            )
            results.append((response.status_code, (time.perf_counter() - started) * 1000))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(1)
    statuses = Counter(status for status, _ in results)
    row.exit = " ".join(f"{n}x{s}" for s, n in statuses.items())
    row.notes.append(
        f"4 concurrent 20 MB ingestRecord bodies: HTTP {dict(statuses)}, answered in "
        + ", ".join(f"{ms:.0f}" for _, ms in sorted(results, key=lambda r: r[1]))
        + " ms (client send included)"
    )
    row.notes.append(
        f"API RSS {api_before:.0f} -> {_rss_mb(api.proc.pid):.0f} MiB, Neo4j RSS "
        f"{neo_before:.0f} -> {_rss_mb(lab.server.status().pid):.0f} MiB"
    )
    return lab.finish(row, clean)


def restart_under_api_load(lab: Lab, clean: dict[str, str], api: Api, clients: int) -> Row:
    row = Row("neo4j-restart-under-api-load")
    keyed: list[tuple[str, str]] = [(k.split(":", 1)[0], k.split(":", 1)[1]) for k in clean]
    commerce = next(p for s, p, _ in lab.files if s == "commerce")
    resend = [json.loads(line) for line in commerce.read_text(encoding="utf-8").splitlines()]
    stop = threading.Event()
    log: list[tuple[float, float, str]] = []  # (finished at, ms, outcome)
    lock = threading.Lock()

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        with api.client(timeout=30) as client:
            while not stop.is_set():
                if rng.random() < 0.1:
                    payload = {
                        "query": INGEST,
                        "variables": {"s": "commerce", "r": rng.choice(resend)},
                    }
                else:
                    s, i = rng.choice(keyed)
                    payload = {"query": PERSON, "variables": {"s": s, "id": i}}
                started = time.perf_counter()
                try:
                    body = client.post("/graphql", json=payload).json()
                    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
                    outcome = "/".join(sorted(codes)) or "ok"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    log.append((time.monotonic(), (time.perf_counter() - started) * 1000, outcome))

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(3)
    killed = time.monotonic()
    lab.kill_neo4j()
    time.sleep(2)
    lab.server.start()
    back = time.monotonic()
    direct: list[float] = []  # Neo4j itself answering Cypher, apart from the API

    def probe() -> None:
        while lab.try_counts() is None and time.monotonic() < back + 60:
            time.sleep(0.05)
        direct.append(time.monotonic() - back)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    deadline = back + 30
    while time.monotonic() < deadline:
        with lock:
            if any(at > back and outcome == "ok" for at, _, outcome in log):
                break
        time.sleep(0.01)
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    prober.join(timeout=60)
    if direct:
        row.notes.append(f"a Cypher query straight to Neo4j first answered {direct[0]:.2f} s after")
    firsts = [at for at, _, outcome in log if at > back and outcome == "ok"]
    row.first_success_s = (min(firsts) - back) if firsts else None
    if firsts:
        first_ms = next(ms for at, ms, o in log if at == min(firsts))
        row.notes.append(
            f"the first success was sent {min(firsts) - first_ms / 1000 - back:+.2f} s after "
            f"Neo4j was back and took {first_ms:.0f} ms"
        )
        before_ok = Counter(o for at, _, o in log if back < at < min(firsts))
        row.notes.append(
            f"after Neo4j answered Bolt again, before the first success: {dict(before_ok)}"
        )
    outage = [(ms, o) for at, ms, o in log if killed < at <= back + 0.5]
    outcomes = Counter(o for _, o in outage)
    row.exit = f"{len(log)} requests"
    row.notes.append(
        f"{clients} clients; during the outage {len(outage)} answers, slowest "
        f"{max((ms for ms, _ in outage), default=0):.0f} ms: {dict(outcomes)}"
    )
    return lab.finish(row, clean)


def _print(rows: list[Row]) -> None:
    print(
        f"{'scenario':<30} {'exit':<22} {'stored':>7} {'pending':>7} {'orphans':>7} "
        f"{'F1 vs clean':>11} {'first ok after back':>19} {'check':>5}"
    )
    for r in rows:
        f1 = f"{r.f1:.4f}" if r.f1 is not None else "-"
        first = f"{r.first_success_s:.2f} s" if r.first_success_s is not None else "-"
        check = str(r.check) if r.check is not None else "-"
        print(
            f"{r.scenario:<30} {r.exit:<22} {r.stored:>7} {r.pending:>7} {r.orphans:>7} "
            f"{f1:>11} {first:>19} {check:>5}"
        )
    for r in rows:
        for note in r.notes:
            print(f"  {r.scenario}: {note}")


SCENARIOS = (
    "kill-neo4j",
    "kill-ingest",
    "undecodable-line",
    "oversized-bodies",
    "neo4j-restart-under-api-load",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-sizes", default="100,500,5000")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--only", action="append", choices=SCENARIOS)
    args = parser.parse_args()
    chosen = args.only or list(SCENARIOS)
    lab = Lab(args.people, args.seed, os.environ.get("C360_BENCH_HEAP", "1g"))
    rows: list[Row] = []
    try:
        lab.fresh()
        started = time.monotonic()
        procs = lab.ingest(lab.files)
        lab.wait_ingest()
        clean = lab.clusters()
        print(
            f"clean run: {len(clean)} records -> {len(set(clean.values()))} people in "
            f"{time.monotonic() - started:.1f} s (exit {_exits(procs)}, check {lab.check()})",
            file=sys.stderr,
        )
        if {"oversized-bodies", "neo4j-restart-under-api-load"} & set(chosen):
            api = Api(lab)
            try:
                if "oversized-bodies" in chosen:
                    rows.append(oversized_bodies(lab, clean, api))
                if "neo4j-restart-under-api-load" in chosen:
                    rows.append(restart_under_api_load(lab, clean, api, args.clients))
            finally:
                api.close()
        if "kill-neo4j" in chosen:
            for batch in (int(b) for b in args.batch_sizes.split(",")):
                rows.append(kill_neo4j_mid_ingest(lab, clean, batch))
        if "kill-ingest" in chosen:
            rows.append(kill_ingest_between_write_and_resolve(lab, clean))
        if "undecodable-line" in chosen:
            rows.append(undecodable_line(lab, clean))
    finally:
        _print(rows)
        print(f"load average: {os.getloadavg()}")
        lab.close()


if __name__ == "__main__":
    main()
