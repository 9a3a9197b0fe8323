"""The Neo4j Browser guide and style sheet against a real Neo4j with the demo data: every query
of the guide runs and finds something, and the style sheet captions every label of the graph
model with properties its nodes really have."""

from __future__ import annotations

import html
import re

import pytest

from api.browser_guide import GRASS, GUIDE
from graph.demo import generate
from graph.demo.load import load_demo
from graph.ingest import ingest_record
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import sources
from graph.store.sources import validate_source

QUERIES = [
    html.unescape(q)
    for q in re.findall(
        r'<pre mode="cypher" class="code runnable">(.*?)</pre>', GUIDE.read_text(), re.S
    )
]
#: Labels of bookkeeping nodes a person reading the graph does not look at.
UNSTYLED = {"__Neo4jMigration", "C360Config", "MatchModel", "ForgottenIdentifier"}


@pytest.fixture(scope="module")
def demo_graph(neo4j_target, session_driver, tmp_path_factory):
    """The demo's first 30 people, a household sharing an address and a phone, and a steward
    merge: something for every slide."""
    from graph import db

    settings = neo4j_target.settings
    db.wipe_data(session_driver, settings)
    directory = tmp_path_factory.mktemp("demo")
    generate(directory, 30, 42)
    load_demo(session_driver, settings, directory, show_progress=False)
    sources.register_source(session_driver, settings, validate_source("crm", "SERVICE", "CRM", 50))
    resolver = Resolver(session_driver, settings, actor="guide-test")
    hook = resolve_after_ingest(resolver)
    home = {
        "addressLine1": "12 Elm Road",
        "postcode": "SW1A 1AA",
        "country": "GB",
        "phone": "+442079460123",
    }
    for sid, given, born in (("H1", "Anna", "1960-02-03"), ("H2", "Oskar", "1991-07-19")):
        ingest_record(
            session_driver,
            settings,
            "crm",
            {
                "sourceId": sid,
                "givenName": given,
                "familyName": "Lindqvist",
                "birthDate": born,
                **home,
            },
            after_batch=hook,
        )
    records, _, _ = session_driver.execute_query(
        "MATCH (p:Person) RETURN p.id AS id ORDER BY p.createdAt, p.id LIMIT 2",
        database_=settings.neo4j_database,
    )
    resolver.merge_people(records[0]["id"], records[1]["id"], reason="guide test")
    return session_driver, settings


def test_the_guide_has_a_query_for_each_slide_it_promises():
    text = GUIDE.read_text()
    for title in (
        "A person and their records",
        "Why two records",
        "A merge",
        "A household",
        "most generic",
    ):
        assert title in text
    assert len(QUERIES) >= 8


@pytest.mark.parametrize("query", QUERIES, ids=[q.splitlines()[0][:60] for q in QUERIES])
def test_every_query_of_the_guide_runs_and_finds_something(demo_graph, query):
    driver, settings = demo_graph
    records, _, _ = driver.execute_query(query, database_=settings.neo4j_database)
    assert records, query


def _grass_blocks() -> dict[str, dict[str, str]]:
    blocks = {}
    for selector, body in re.findall(r"^([\w.]+) \{\n(.*?)\n\}", GRASS.read_text(), re.S | re.M):
        props = dict(
            (k.strip(), v.strip().strip("'\""))
            for k, _, v in (line.partition(":") for line in body.split(";") if ":" in line)
        )
        blocks[selector] = props
    return blocks


def test_the_style_sheet_captions_every_label_with_properties_its_nodes_have(demo_graph):
    driver, settings = demo_graph
    blocks = _grass_blocks()
    labels, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS label WITH label, collect(n)[..200] AS nodes "
        "RETURN label, reduce(keys = [], n IN nodes | keys + keys(n)) AS keys",
        database_=settings.neo4j_database,
    )
    seen = {r["label"]: set(r["keys"]) for r in labels if r["label"] not in UNSTYLED}
    assert {"Person", "SourceRecord", "Identifier", "Order", "Consent", "ResolutionEvent"} <= set(
        seen
    )
    for label, keys in seen.items():
        if label == "BlockingKey" or label in UNSTYLED:
            continue
        block = blocks.get(f"node.{label}")
        assert block is not None, f"no style for {label}"
        assert {"color", "diameter", "caption"} <= set(block), label
        used = set(re.findall(r"\{(\w+)\}", block["caption"]))
        assert used and used <= keys, f"{label} caption {block['caption']} names {used - keys}"
    assert (
        "{id}" in blocks["node.Person"]["caption"]
        and "{sourceId}" in blocks["node.SourceRecord"]["caption"]
        and "{masked}" in blocks["node.Identifier"]["caption"]
    )
