"""A front end on another origin, in headless Chromium: with its origin in C360_CORS_ORIGINS it
reads a person over CORS and receives identity events through graphql-ws (the npm client,
credentials in ``connection_init``); without it, the browser blocks the call."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

KEY = "admin-key-1"  # tests/api/conftest.py's admin key
INGEST = 'mutation($r: JSON!) { ingestRecord(input: {source: "commerce", record: $r}) { person { personId } } }'
WEB_APP = Path(__file__).resolve().parent / "web_app"


def _web_app():
    return Starlette(routes=[Mount("/", StaticFiles(directory=WEB_APP, html=True))])


def _origin(running) -> str:
    # "localhost" is another origin than the API's "127.0.0.1", as a dev server's would be
    return running.url.replace("127.0.0.1", "localhost")


def test_a_page_on_an_allowed_origin_reads_a_person_and_receives_events(
    serve, api_with, demo_people, offline_page
):
    with serve(_web_app()) as web:
        origin = _origin(web)
        with api_with(cors_origins=(origin,)) as api:
            browser_page = offline_page(origin, api.url)
            page = browser_page.page
            page.goto(f"{origin}/?api={api.url}&key={KEY}")
            page.locator('#person[data-state="loaded"]').wait_for(timeout=20_000)
            assert "Kutera" in page.inner_text("#person")
            page.locator('#ws-state[data-state="connected"]').wait_for(timeout=20_000)
            with httpx.Client(base_url=api.url, headers={"X-API-Key": KEY}, timeout=30) as http:
                deadline, n = time.monotonic() + 30, 0
                while page.locator(".event").count() == 0 and time.monotonic() < deadline:
                    n += 1
                    record = {"customer_no": f"O{n}", "email": f"o{n}@example.com"}
                    http.post("/graphql", json={"query": INGEST, "variables": {"r": record}})
                    page.wait_for_timeout(700)
            assert page.locator(".event").first.inner_text().startswith("CREATED p-")
            browser_page.shot("other-origin-subscription")
            assert browser_page.blocked == [], browser_page.blocked


def test_a_page_on_an_origin_not_allowed_is_blocked_by_the_browser(
    serve, api_with, settings, offline_page
):
    with serve(_web_app()) as web, api_with() as api:
        origin = _origin(web)
        browser_page = offline_page(origin, api.url)
        page = browser_page.page
        page.goto(f"{origin}/?api={api.url}&key={KEY}")
        page.locator('#person[data-state="blocked"]').wait_for(timeout=20_000)
        page.locator('#ws-state[data-state="closed"]').wait_for(timeout=20_000)
        assert page.locator(".event").count() == 0
