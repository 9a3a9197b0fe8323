"""Oversized request bodies: how fast the API refuses them, and what they cost its memory.

Serves the API (uvicorn, a process of its own) on the benchmark Neo4j (or ``NEO4J_URI``),
posts ``--trials`` bodies of ``--mb`` MB (declared with Content-Length, and chunked), and
prints the time to the 413 answer (p50 and max, ms) and the API's resident memory before and
after (MB). The limit is ``C360_MAX_BODY_BYTES`` (default 1 MB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import bench_settings

PORT = 18991
KEY = "bench-limits-key-0123456789"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _post(client: httpx.Client, body: bytes, chunked: bool) -> tuple[float, int]:
    def chunks():
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    started = time.perf_counter()
    try:
        response = client.post(
            "/graphql",
            content=chunks() if chunked else body,
            headers={"Content-Type": "application/json"},
        )
        status = response.status_code
    except httpx.HTTPError:  # the server closed while the rest of the body was on its way
        status = -1
    return (time.perf_counter() - started) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    settings = bench_settings()
    env = dict(
        os.environ,
        NEO4J_URI=settings.uri,
        NEO4J_PASSWORD=settings.password(),
        C360_API_KEYS=f"{KEY}=admin",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        + ["--port", str(PORT), "--log-level", "warning"],
        env=env,
    )
    body = b'{"query": "mutation { x }", "pad": "' + b"x" * (args.mb << 20) + b'"}'
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{PORT}", headers={"X-API-Key": KEY}, timeout=60
        ) as client:
            for _ in range(150):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            before = _rss_mb(server.pid)
            for chunked in (False, True):
                runs = [_post(client, body, chunked) for _ in range(args.trials)]
                ms = [t for t, _ in runs]
                statuses = sorted({s for _, s in runs})
                print(
                    f"{args.mb} MB body ({'chunked' if chunked else 'Content-Length'}): "
                    f"answered {statuses} in p50 {statistics.median(ms):.1f} ms, "
                    f"max {max(ms):.1f} ms over {args.trials} requests"
                )
            after = _rss_mb(server.pid)
            print(f"API resident memory: {before:.0f} MB before, {after:.0f} MB after")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
