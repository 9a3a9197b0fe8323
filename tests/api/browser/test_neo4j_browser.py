"""Neo4j Browser (the one the local server serves) in headless Chromium: it loads the style
sheet and plays the guide from the API, and a guide query draws the example person styled."""

from __future__ import annotations

import pytest

GUIDE_QUERY_START = "MATCH (:SourceRecord {key: 'commerce:00000016'})"


@pytest.fixture
def neo4j_browser_url(neo4j_target) -> str:
    settings = neo4j_target.settings
    if not settings.uses_local_server:
        pytest.skip("Neo4j Browser is tested on the local test server (its HTTP port is known)")
    return f"http://127.0.0.1:{settings.http_port}"


def _run(page, command: str) -> None:
    page.locator(".monaco-editor").first.click()
    page.keyboard.type(command)
    page.keyboard.press("Control+Enter")


def test_neo4j_browser_plays_the_guide_and_draws_a_person_with_the_style(
    api, demo_people, neo4j_target, neo4j_browser_url, offline_page
):
    settings = neo4j_target.settings
    browser_page = offline_page(neo4j_browser_url, api.url)
    page = browser_page.page
    page.goto(f"{neo4j_browser_url}/browser/?preselectAuthMethod=basic")
    page.locator("[data-testid=connect]").wait_for(timeout=30_000)
    selects = page.locator("select")
    selects.nth(0).select_option(label="bolt://")
    # the user name and password fields appear once an authentication type is chosen
    selects.nth(1).select_option(label="No authentication")
    selects.nth(1).select_option(label="Username / Password")
    page.fill("[data-testid=boltaddress]", f"127.0.0.1:{settings.bolt_port}")
    page.fill("[data-testid=username]", settings.neo4j_username)
    page.fill("[data-testid=password]", settings.password())
    page.click("[data-testid=connect]")
    page.locator("text=neo4j$").first.wait_for(timeout=30_000)

    _run(page, f":style {api.url}/browser/customer360.grass")
    page.locator("text=node.Person").first.wait_for(timeout=15_000)

    _run(page, f":guide {api.url}/browser/guide.html")
    page.locator("text=customer360 in Neo4j Browser").first.wait_for(timeout=15_000)
    page.locator("text=Next").first.click()
    page.locator("text=A person and their records").first.wait_for(timeout=10_000)
    page.locator(f'pre:has-text("{GUIDE_QUERY_START}")').first.click()
    page.locator(".monaco-editor").first.click()
    page.keyboard.press("Control+Enter")
    person = page.locator("svg text:has-text('Jakub Kutera')").first
    person.wait_for(timeout=20_000)
    page.wait_for_timeout(1500)  # the layout settles
    browser_page.shot("neo4j-browser-guide")
    circle = page.locator("svg g.node:has(text:has-text('Jakub Kutera')) circle[fill]").first
    assert circle.get_attribute("fill").lower() == "#1f5fad"  # node.Person's colour
    captions = [c.strip() for c in page.locator("svg g.node text").all_text_contents()]
    # a source record reads as its source and id, an identifier as its kind and masked value
    assert "00000016" in captions, captions
    assert any(c.startswith("j\u2022\u2022\u2022@") for c in captions), captions
