"""Browser tests: Playwright driving headless Chromium (Debian's ``chromium``; Playwright's own
browser download is not used). ``./dev.sh test`` installs both. The network of every page is
cut to all but the servers a test names: a request anywhere else is aborted and recorded, so a
test can assert a page needs no internet."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from graph.demo import generate
from graph.demo.load import load_demo

#: Screenshots land here (git-ignored), one per step a person would look at.
SHOTS = Path(os.environ.get("C360_SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts"))


def _chromium() -> str:
    for candidate in (os.environ.get("C360_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    raise RuntimeError(
        "no Chromium found: install Debian's chromium (./dev.sh test does) or set C360_CHROMIUM"
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), headless=True)
        yield browser
        browser.close()


class OfflinePage:
    """A page whose requests may only reach ``allowed`` origins; ``blocked`` lists the rest."""

    def __init__(self, context: BrowserContext, allowed: set[str]) -> None:
        self.context, self.allowed, self.blocked = context, allowed, []
        self.console: list[str] = []
        context.route("**/*", self._route)
        self.page: Page = context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def _route(self, route: Route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme == "data" or f"{parts.scheme}://{parts.netloc}" in self.allowed:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def offline_page(browser):
    """``offline_page(url, ...)``: a fresh page allowed to reach only those origins."""
    contexts = []

    def make(*origins: str) -> OfflinePage:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        return OfflinePage(context, {o.rstrip("/") for o in origins})

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def demo_people(settings, neo4j_driver, tmp_path_factory):
    """The demo data set's first 30 people (seed 42, as ``./dev.sh up`` loads, which holds
    them too), loaded and resolved in the test Neo4j."""
    directory = tmp_path_factory.mktemp("demo")
    generate(directory, 30, 42)
    return load_demo(neo4j_driver, settings, directory, show_progress=False)
