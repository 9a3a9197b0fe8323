"""API benchmark: the person-360 query over HTTP against the same data by bare Cypher.

    .venv/bin/python bench/api.py [--people 10000] [--requests 500]

Loads the demo data set (N people) into the benchmark database when it holds no people, starts
the API in its own process (uvicorn, one worker), and times the person-360 query (person with
records, the last 10 orders with lines, consents and a timeline page) for random people:
p50/p99 latency (ms) and requests/s through HTTP, next to the best single Cypher statement for
the same data through the driver, and their ratio. Target (issue 5): API p50 within 1.3x of
bare Cypher.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

import httpx
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, default=500)
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
    port = os.environ.get("C360_BENCH_API_PORT", "18990")
    env = dict(
        os.environ,
        NEO4J_URI=settings.uri,
        NEO4J_PASSWORD=settings.password(),
        C360_API_KEYS=f"{key}=admin",
        C360_API_PORT=port,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--port",
            port,
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=30
        ) as client:
            for _ in range(100):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            answers = {}
            for pid in sample[:50]:  # warm up
                answers[pid] = client.post(
                    "/graphql", json={"query": QUERY, "variables": {"id": pid}}
                ).json()
            api_ms = []
            started = time.perf_counter()
            for pid in sample:
                t0 = time.perf_counter()
                response = client.post("/graphql", json={"query": QUERY, "variables": {"id": pid}})
                api_ms.append((time.perf_counter() - t0) * 1000)
                assert "errors" not in response.json(), response.text
            api_rps = len(sample) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)

    cypher_ms = []
    with driver.session(database=settings.neo4j_database) as session:
        for pid in sample[:50]:
            row = session.run(CYPHER, id=pid).single()
            assert row is not None and _same_data(answers[pid], row.data()), pid
        started = time.perf_counter()
        for pid in sample:
            t0 = time.perf_counter()
            session.run(CYPHER, id=pid).data()
            cypher_ms.append((time.perf_counter() - t0) * 1000)
        cypher_rps = len(sample) / (time.perf_counter() - started)
    driver.close()
    print(f"person-360 query, {len(sample)} requests over {len(ids)} people with 2+ records")
    print(
        f"  API over HTTP : p50 {_pct(api_ms, 50):6.2f} ms  p99 {_pct(api_ms, 99):6.2f} ms  "
        f"{api_rps:7.1f} req/s"
    )
    print(
        f"  bare Cypher   : p50 {_pct(cypher_ms, 50):6.2f} ms  "
        f"p99 {_pct(cypher_ms, 99):6.2f} ms  {cypher_rps:7.1f} req/s"
    )
    print(
        f"  ratio API/Cypher at p50: {_pct(api_ms, 50) / _pct(cypher_ms, 50):.2f}x (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()
