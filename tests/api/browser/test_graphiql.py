"""GraphiQL at /graphql in headless Chromium with the network cut to all but the API: it loads
from the vendored assets, opens on the example tabs, takes the key from one field (and fetches
the schema again with it), runs the person-360 query and receives a subscription event."""

from __future__ import annotations

import time

import httpx

KEY = "admin-key-1"  # tests/api/conftest.py's admin key
INGEST = 'mutation($r: JSON!) { ingestRecord(input: {source: "commerce", record: $r}) { person { personId } } }'


def _open_tab(page, n: int, marker: str) -> None:
    page.locator(".graphiql-tab").nth(n).click()
    page.locator(f".graphiql-query-editor :text('{marker}')").first.wait_for(timeout=10_000)
    page.wait_for_timeout(300)  # GraphiQL settles the tab's operation name after rendering it


def _run_current_tab(page) -> None:
    page.locator(".graphiql-execute-button").click()


def _response_text(page) -> str:
    """The visible part of the result pane (an editor that renders only what is on screen)."""
    return page.locator(".graphiql-response").inner_text().replace("\xa0", " ")


def test_graphiql_works_offline_with_the_example_person_and_a_subscription(
    api, demo_people, offline_page
):
    browser_page = offline_page(api.url)
    page = browser_page.page
    introspections: list[str | None] = []
    page.on(
        "request",
        lambda r: (
            introspections.append(r.headers.get("x-api-key"))
            if r.method == "POST" and "IntrospectionQuery" in (r.post_data or "")
            else None
        ),
    )
    page.goto(api.url + "/graphql")
    page.locator(".graphiql-container").wait_for(timeout=20_000)
    tabs = page.locator(".graphiql-tab")
    assert [t.strip() for t in tabs.all_inner_texts()][:4] == [
        "Person360",
        "Search",
        "Merge",
        "Events",
    ]
    assert browser_page.blocked == [], browser_page.blocked
    assert introspections and set(introspections) == {None}  # before any key: refused

    page.fill("#c360-key", KEY)
    page.press("#c360-key", "Enter")
    page.locator('#c360-key-status[data-state="accepted"]').wait_for(timeout=10_000)
    deadline = time.monotonic() + 10
    while KEY not in introspections and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert introspections[-1] == KEY  # the schema fetched again, with the key

    _open_tab(page, 0, "personBySourceRecord")
    with page.expect_response(
        lambda r: r.request.method == "POST" and "Person360" in (r.request.post_data or "")
    ) as answered:
        _run_current_tab(page)
    assert answered.value.status == 200
    body = answered.value.json()
    page.locator(".graphiql-response :text('Kutera')").first.wait_for(timeout=20_000)
    person = body["data"]["personBySourceRecord"]
    assert person["familyName"] == "Kutera"
    assert {e["node"]["sourceId"] for e in person["sourceRecords"]["edges"]} == {
        "commerce",
        "marketing",
        "service_desk",
    }
    assert person["orders"]["totalCount"] > 0 and person["orders"]["edges"][0]["node"]["lines"]
    assert person["consents"] and person["cases"]["edges"] and person["timeline"]["edges"]
    browser_page.shot("graphiql-person360")

    _open_tab(page, 3, "identityEvents")
    _run_current_tab(page)
    with httpx.Client(base_url=api.url, headers={"X-API-Key": KEY}, timeout=30) as http:
        deadline, n = time.monotonic() + 30, 0
        while "CREATED" not in _response_text(page) and time.monotonic() < deadline:
            n += 1
            http.post(
                "/graphql",
                json={
                    "query": INGEST,
                    "variables": {"r": {"customer_no": f"B{n}", "email": f"b{n}@example.com"}},
                },
            )
            page.wait_for_timeout(700)
    assert '"kind": "CREATED"' in _response_text(page)
    browser_page.shot("graphiql-subscription")
    assert browser_page.blocked == [], browser_page.blocked
