"""The agents' 360 page (/console) in headless Chromium, network cut to the API: search, a
person in three systems with orders, consents, cases and timeline, a live update when a new
record links to them, and an admin's merge (an agent may look but not merge)."""

from __future__ import annotations

import httpx

ADMIN, AGENT = "admin-key-1", "agent-key-1"  # tests/api/conftest.py's keys
INGEST = 'mutation($r: JSON!) { ingestRecord(input: {source: "commerce", record: $r}) { person { personId } } }'
SPLIT = 'mutation($k: String!) { splitRecord(input: {recordKey: $k, reason: "t"}) { __typename } }'
BY_RECORD = (
    'query($id: String!) { personBySourceRecord(source: "commerce", sourceId: $id) { personId } }'
)


def _open(offline_page, api, key):
    browser_page = offline_page(api.url)
    page = browser_page.page
    page.goto(api.url + "/console")
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.locator('#key-status[data-state="accepted"]').wait_for(timeout=10_000)
    page.locator('#live[data-state="connected"]').wait_for(timeout=10_000)
    return browser_page, page


def _find(page, name: str) -> None:
    page.fill("#search input[name=name]", name)
    page.click("#search button")
    page.locator(".result").first.click()
    page.locator("#person-name").wait_for(timeout=10_000)


def test_an_agent_finds_a_caller_and_sees_everything_live_and_an_admin_merges(
    api, demo_people, offline_page
):
    browser_page, page = _open(offline_page, api, ADMIN)
    _find(page, "jakub kutera")
    assert page.inner_text("#person-name") == "Jakub Kutera"
    assert page.locator("#records h4").all_inner_texts() == [
        "commerce",
        "marketing",
        "service_desk",
    ]
    assert "linked by" in page.locator(".record .why").first.inner_text()
    assert page.locator("#orders .order").count() > 0
    assert page.locator("#consents tr").count() > 1 and page.locator("#cases div").count() > 0
    assert page.locator("#timeline li").count() > 0
    browser_page.shot("console-person")

    with httpx.Client(base_url=api.url, headers={"X-API-Key": ADMIN}, timeout=30) as http:
        http.post(
            "/graphql",
            json={
                "query": INGEST,
                "variables": {
                    "r": {
                        "customer_no": "LIVE1",
                        "first_name": "Jakub",
                        "last_name": "Kutera",
                        "email": "jkutera5490@wp.pl",
                    }
                },
            },
        )
        page.locator("#notice:has-text('LINKED commerce:LIVE1')").wait_for(timeout=20_000)
        assert page.locator('.record[data-record="commerce:LIVE1"]').count() == 1
        browser_page.shot("console-live-update")

        other = http.post(
            "/graphql", json={"query": BY_RECORD, "variables": {"id": "00000001"}}
        ).json()
        other_id = other["data"]["personBySourceRecord"]["personId"]
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.fill("#merge-with", other_id)
    page.click("#merge-form button")
    page.locator("#action-status.ok:has-text('merged')").wait_for(timeout=20_000)
    page.locator(f"#person-id:has-text('{other_id}')").wait_for(timeout=10_000)  # now an alias
    assert page.locator("#records h4").count() >= 3
    # the confirmation named both people, not only their ids
    assert "Jakub Kutera" in asked[0] and other_id in asked[0], asked
    assert page.locator('.record[data-record="commerce:00000001"]').count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    browser_page.shot("console-merge")

    # another steward splits the merged record off elsewhere: the page stays with its caller
    with httpx.Client(base_url=api.url, headers={"X-API-Key": ADMIN}, timeout=30) as http:
        split = http.post(
            "/graphql", json={"query": SPLIT, "variables": {"k": "commerce:00000001"}}
        )
        assert split.json()["data"]["splitRecord"]["__typename"] == "RecordSplitSuccess"
    page.locator("#notice:has-text('SPLIT')").wait_for(timeout=20_000)
    page.locator('.record[data-record="commerce:00000001"]').wait_for(state="detached")
    assert page.inner_text("#person-name") == "Jakub Kutera"
    assert browser_page.blocked == [], browser_page.blocked


def test_an_agent_may_look_but_not_merge(api, demo_people, offline_page):
    browser_page, page = _open(offline_page, api, AGENT)
    _find(page, "jakub kutera")
    page.on("dialog", lambda dialog: dialog.accept())
    with httpx.Client(base_url=api.url, headers={"X-API-Key": AGENT}, timeout=30) as http:
        other = http.post("/graphql", json={"query": BY_RECORD, "variables": {"id": "00000001"}})
    page.fill("#merge-with", other.json()["data"]["personBySourceRecord"]["personId"])
    page.click("#merge-form button")
    page.locator("#action-status.error:has-text('FORBIDDEN')").wait_for(timeout=10_000)
