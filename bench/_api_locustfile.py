"""Locust users of bench/api_load.py: person-360 reads with 10% ingestRecord (one in ten tasks).

Reads ``C360_LOAD_DATA`` (JSON: ``people`` 360 IDs, ``records`` rows of ``source`` to re-send,
``key`` the API key), written by bench/api_load.py. Not run on its own.
"""

from __future__ import annotations

import json
import os
import random
import sys

from locust import FastHttpUser, between, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _api_queries import INGEST, QUERY  # beside this file, found via sys.path

with open(os.environ["C360_LOAD_DATA"], encoding="utf-8") as fh:
    DATA = json.load(fh)


class Client(FastHttpUser):
    wait_time = between(0, 0)

    def on_start(self) -> None:
        self.headers = {"X-API-Key": DATA["key"], "Content-Type": "application/json"}

    def _post(self, name: str, payload: dict) -> None:
        with self.client.post(
            "/graphql", json=payload, headers=self.headers, name=name, catch_response=True
        ) as response:
            body = response.json() if response.status_code == 200 else {}
            if response.status_code != 200 or body.get("errors"):
                response.failure(f"{response.status_code} {str(body.get('errors'))[:200]}")

    @task(9)
    def person_360(self) -> None:
        self._post(
            "person-360", {"query": QUERY, "variables": {"id": random.choice(DATA["people"])}}
        )

    @task(1)
    def ingest_record(self) -> None:
        record = dict(random.choice(DATA["records"]))
        # half re-send a stored record (unchanged), half send it changed (a new phone number)
        if random.random() < 0.5:
            record["phone_home"] = f"+4420{random.randrange(10**7, 10**8)}"
        self._post(
            "ingestRecord",
            {"query": INGEST, "variables": {"source": DATA["source"], "record": record}},
        )
