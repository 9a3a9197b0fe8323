"""API benchmark: the person-360 query over HTTP against the same data by bare Cypher.

    .venv/bin/python bench/api.py [--people 10000] [--requests 500] [--profile FILE]

Loads the demo data set (N people) into the benchmark database when it holds no people, starts
the API twice in processes of its own (uvicorn, one worker each): as configured, where the
person-360 fast path answers (api/fastread.py), and with ``C360_FAST_READS=false``, where every
field goes through Strawberry's resolvers. It then times the person-360 query (person with
records, the last 10 orders with lines, consents and a timeline page) for random people,
the two APIs over HTTP and the best single Cypher statement for the same data through the
driver taking turns request by request, so that the load of a shared machine falls on all
three alike: p50/p99 latency (ms) and requests/s of each, and the ratios of the APIs' p50 to
bare Cypher's. Every answer of the warm-up is checked to hold the Cypher row's data.
Target (issue 13): person-360 API p50 <= 2.0x bare Cypher in the same run.

``--profile FILE`` samples the fast API server with py-spy during the timed requests (a
bench extra) and writes its stacks to FILE (speedscope JSON, or collapsed text with a .txt
name); the top functions by own time are printed.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import bench_settings, demo_data

from graph import db
from graph.demo.load import load_demo

QUERY = """query($id: String!) { person(id: $id) {
  personId givenName familyName email phone birthDate city postcode
  sourceRecords(first: 10) { totalCount edges { node { recordKey sourceId email phone
    identifiers { type value } whyLinked { rule score } } } }
  orders(first: 10) { totalCount edges { node { orderId placedAt status total currency
    lines { sku name quantity unitPrice } } } }
  consents { channel purpose status at }
  timeline(first: 10) { totalCount edges { node { at type summary } } } } }"""

# The same data as QUERY, with the pages and total counts the API returns; checked against
# the API's answers for the warm-up sample (_same_data).
CYPHER = """
MATCH (p:Person {id: $id})
CALL (p) {
  MATCH (p)-[h:HAS_RECORD]->(r:SourceRecord)-[:FROM]->(s:Source)
  WITH h, r, s ORDER BY r.key
  WITH collect({recordKey: r.key, sourceId: s.id, email: r.email, phone: r.phone,
                identifiers: [(r)-[:HAS_IDENTIFIER]->(i:Identifier) |
                              {type: i.type, value: i.value}],
                whyLinked: {rule: h.rule, score: h.score}}) AS records
  RETURN size(records) AS recordCount, records[..10] AS records
}
CALL (p) {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
  WHERE o.placeholder IS NULL
  WITH o ORDER BY o.placedAt DESC, o.key
  WITH collect(o) AS orders
  RETURN size(orders) AS orderCount,
         [o IN orders[..10] | {orderId: o.id, placedAt: toString(o.placedAt), status: o.status,
           total: o.total, currency: o.currency, lines: [(o)-[c:CONTAINS]->(pr:Product) |
             {sku: pr.sku, name: pr.name, quantity: c.quantity, unitPrice: c.unitPrice}]}]
           AS orders
}
CALL (p) {
  MATCH (p)-[:GAVE]->(c:Consent)
  WITH c ORDER BY c.at DESC, c.key
  WITH c.channel AS channel, c.purpose AS purpose, collect(c)[0] AS latest
  ORDER BY channel, purpose
  RETURN collect({channel: channel, purpose: purpose, status: latest.status,
                  at: toString(latest.at)}) AS consents
}
CALL (p) {
  CALL (p) {
    MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
    WHERE o.placeholder IS NULL AND o.placedAt IS NOT NULL
    RETURN o.placedAt AS at, 'ORDER' AS type,
           trim('order ' + o.id + ' ' + coalesce(o.status, '') + ' ' +
                coalesce(toString(o.total), '') + ' ' + coalesce(o.currency, '')) AS summary
    UNION ALL
    MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:OPENED]->(c:Case)
    WHERE c.placeholder IS NULL AND c.openedAt IS NOT NULL
    RETURN c.openedAt AS at, 'CASE' AS type,
           'case ' + c.id + ': ' + coalesce(c.subject, '') + ' (' + coalesce(c.status, '') + ')'
             AS summary
    UNION ALL
    MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:ENGAGED]->(e:Engagement)
    WHERE e.at IS NOT NULL
    RETURN e.at AS at, 'ENGAGEMENT' AS type,
           trim(e.type + ' ' + coalesce(e.channel, '') + ' ' + coalesce(e.campaign, ''))
             AS summary
    UNION ALL
    MATCH (p)-[:GAVE]->(c:Consent)
    WHERE c.at IS NOT NULL
    RETURN c.at AS at, 'CONSENT' AS type, c.channel + ' ' + c.purpose + ' ' + c.status AS summary
  }
  WITH at, type, summary ORDER BY at DESC
  WITH collect({at: toString(at), type: type, summary: summary}) AS entries
  RETURN size(entries) AS timelineCount, entries[..10] AS timeline
}
RETURN p {personId: p.id, .givenName, .familyName, .email, .phone,
          birthDate: toString(p.birthDate), .city, .postcode} AS person,
       recordCount, records, orderCount, orders, consents, timelineCount, timeline
"""


def _same_data(api: dict, row: dict) -> bool:
    """Whether a bare Cypher row holds what the API answered (in the API's shape)."""

    def page(count: int, nodes: list) -> dict:
        return {"totalCount": count, "edges": [{"node": n} for n in nodes]}

    expected = dict(
        row["person"],
        sourceRecords=page(row["recordCount"], row["records"]),
        orders=page(row["orderCount"], row["orders"]),
        consents=row["consents"],
        timeline=page(row["timelineCount"], row["timeline"]),
    )
    return api["data"]["person"] == expected


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _serve(settings, key: str, port: str, **env: str) -> subprocess.Popen:
    environment = dict(
        os.environ,
        NEO4J_URI=settings.uri,
        NEO4J_PASSWORD=settings.password(),
        C360_API_KEYS=f"{key}=admin",
        C360_API_PORT=port,
        **env,
    )
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    return subprocess.Popen([*command, "--port", port, "--log-level", "warning"], env=environment)


class _Client:
    """One keep-alive HTTP/1.1 connection (the standard library's: a few tens of microseconds
    a request, where httpx's own Python costs several hundred and would be counted as the
    API's)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.headers = port, {"X-API-Key": key, "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.connection.request(method, path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def post(self, query: str, variables: dict) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        status, answer = self.request("POST", "/graphql", body)
        assert status == 200, answer
        return json.loads(answer)

    def wait_healthy(self) -> None:
        for _ in range(150):
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                self.connection.close()
            time.sleep(0.2)
        raise SystemExit(f"the API on port {self.port} did not start")

    def close(self) -> None:
        self.connection.close()


def _profile(pid: int, out: Path) -> subprocess.Popen:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = "raw" if out.suffix == ".txt" else "speedscope"
    return subprocess.Popen(
        # --gil: only the thread holding the GIL, i.e. where the process's Python time goes
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--gil",
            "--rate",
            "500",
            "--format",
            fmt,
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


#: Where a sample of the API server's stack is spent: the first of these frames (by file)
#: from the innermost frame out names the layer (uvicorn at the root: also the event loop).
_LAYERS = (
    ("neo4j driver (worker thread)", "neo4j/"),
    ("graph.store (rows to views)", "graph/store/"),
    ("thread hop (anyio)", "anyio/"),
    ("fast path: plan, arguments, emit", "api/fastread.py"),
    ("Strawberry / graphql-core", "strawberry/"),
    ("Strawberry / graphql-core", "graphql/"),
    ("app: auth, limits, routing", "api/"),
    ("Starlette", "starlette/"),
    ("uvicorn HTTP and the event loop", "uvicorn/"),
    ("uvicorn HTTP and the event loop", "httptools"),
)


def _print_profile(out: Path) -> None:
    """Shares of the samples by layer and the top functions by own samples, from a
    collapsed-stack file (py-spy's raw format)."""
    if out.suffix != ".txt" or not out.is_file():
        print(f"  profile written to {out}")
        return
    own: collections.Counter[str] = collections.Counter()
    layers: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in reversed(frames):  # innermost first: the deepest layer named wins
            layer = next((name for name, part in _LAYERS if part in frame), None)
            if layer is not None:
                layers[layer] += n
                break
        else:
            layers["event loop, other"] += n
    print(f"  profile of the fast API server, GIL holder ({total} samples, {out}):")
    for name, n in layers.most_common():
        print(f"    {100 * n / total:5.1f}%  {name}")
    print("  top functions by own samples:")
    for name, n in own.most_common(12):
        print(f"    {100 * n / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", type=Path, help="py-spy the fast API server into FILE")
    args = parser.parse_args()
    settings = bench_settings()
    driver = db.connect(settings)
    from graph import migrate

    migrate.migrate(driver, settings, log=lambda m: None)
    count = driver.execute_query(
        "MATCH (p:Person) RETURN count(p) AS n", database_=settings.neo4j_database
    )[0][0]["n"]
    if count == 0:
        load_demo(driver, settings, demo_data(args.people, args.seed), show_progress=False)
    ids = [
        r["id"]
        for r in driver.execute_query(
            "MATCH (p:Person) WHERE p.recordCount > 1 RETURN p.id AS id LIMIT 5000",
            database_=settings.neo4j_database,
        )[0]
    ]
    rng = random.Random(args.seed)
    sample = [rng.choice(ids) for _ in range(args.requests)]

    key = "bench-admin-key-0123456789"
    port = int(os.environ.get("C360_BENCH_API_PORT", "18990"))
    servers = {
        "fast": _serve(settings, key, str(port)),
        "general": _serve(settings, key, str(port + 1), C360_FAST_READS="false"),
    }
    clients = {name: _Client(port + i, key) for i, name in enumerate(servers)}
    timings: dict[str, list[float]] = {"fast": [], "general": [], "health": [], "cypher": []}
    spent = dict.fromkeys(timings, 0.0)
    spy = None
    try:
        for client in clients.values():
            client.wait_healthy()
        with driver.session(database=settings.neo4j_database) as session:
            for pid in sample[:50]:  # warm up, and check that all three read the same data
                row = session.run(CYPHER, id=pid).single()
                assert row is not None, pid
                for name, client in clients.items():
                    answer = client.post(QUERY, {"id": pid})
                    assert _same_data(answer, row.data()), (name, pid, answer)
            if args.profile:
                spy = _profile(servers["fast"].pid, args.profile)
                time.sleep(1)
            for pid in sample:  # in turns, so that the load of the machine falls on all alike
                for name in timings:
                    t0 = time.perf_counter()
                    if name == "cypher":
                        session.run(CYPHER, id=pid).data()
                    elif name == "health":
                        clients["fast"].request("GET", "/health")
                    else:
                        answer = clients[name].post(QUERY, {"id": pid})
                        assert "errors" not in answer, answer
                    elapsed = time.perf_counter() - t0
                    timings[name].append(elapsed * 1000)
                    spent[name] += elapsed
    finally:
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its file
            spy.wait(timeout=60)
        for client in clients.values():
            client.close()
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    driver.close()
    print(f"person-360 query, {len(sample)} requests over {len(ids)} people with 2+ records")
    labels = {
        "fast": "API over HTTP",
        "general": "API, no fast path",
        "health": "HTTP floor (/health)",
        "cypher": "bare Cypher",
    }
    for name, label in labels.items():
        ms = timings[name]
        print(
            f"  {label:20} : p50 {_pct(ms, 50):6.2f} ms  p99 {_pct(ms, 99):6.2f} ms  "
            f"{len(ms) / spent[name]:7.1f} req/s"
        )
    cypher = _pct(timings["cypher"], 50)
    print(
        f"  ratio API/Cypher at p50: {_pct(timings['fast'], 50) / cypher:.2f}x (target <= 2.0x); "
        f"without the fast path {_pct(timings['general'], 50) / cypher:.2f}x"
    )
    if args.profile:
        _print_profile(args.profile)


if __name__ == "__main__":
    main()
