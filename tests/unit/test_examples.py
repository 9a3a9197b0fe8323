from __future__ import annotations

import hashlib
import json
import re

import pytest
from graphql import parse, validate

from api.console import DOCUMENTS
from api.examples import ASSETS, EXAMPLES, graphiql_page
from api.schema import schema


@pytest.mark.parametrize(
    "example",
    EXAMPLES,
    ids=lambda e: re.findall(r"(?:query|mutation|subscription) (\w+)", e["query"])[0],
)
def test_every_graphiql_example_is_valid_against_the_schema(example):
    assert validate(schema._schema, parse(example["query"])) == []


def test_examples_become_the_default_tabs_of_the_page():
    page = graphiql_page()
    tabs = re.search(r'<script id="c360-tabs" type="application/json">(.*?)</script>', page, re.S)
    assert tabs is not None and json.loads(tabs.group(1)) == EXAMPLES


def test_no_tab_carries_a_placeholder_key_that_would_be_sent_as_credentials():
    assert all("headers" not in example for example in EXAMPLES)


def test_the_page_loads_nothing_from_another_host():
    page = graphiql_page()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/graphiql/") or s.startswith("data:") for s in sources)
    for source in sources:
        if source.startswith("/graphiql/"):
            assert (ASSETS / source.removeprefix("/graphiql/")).is_file(), source


def test_vendored_assets_are_the_pinned_npm_files_with_their_licences():
    pinned = dict(
        reversed(line.split()) for line in (ASSETS / "SHA256SUMS").read_text().splitlines()
    )
    assert set(pinned) == {
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
    }
    for name, digest in pinned.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    for licence in ("react", "react-dom", "graphiql"):
        assert "MIT License" in (ASSETS / "licenses" / f"{licence}.LICENSE").read_text()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_console_operation_is_valid_against_the_schema(name):
    assert validate(schema._schema, parse(DOCUMENTS[name])) == []
