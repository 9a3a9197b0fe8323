from __future__ import annotations

import pytest
from graphql import parse, validate

from api.examples import EXAMPLES, graphiql_with_examples
from api.schema import schema


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["query"].split("\n")[1].split("(")[0])
def test_every_graphiql_example_is_valid_against_the_schema(example):
    assert validate(schema._schema, parse(example["query"])) == []


def test_examples_become_the_default_tabs_of_the_page():
    page = graphiql_with_examples("x defaultEditorToolsVisibility: true, y")
    assert "defaultTabs:" in page and "Person360" in page
