from __future__ import annotations

from api.export_schema import SDL_PATH, sdl


def test_committed_schema_sdl_matches_the_code():
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), (
        "api/schema.graphql is out of date: run `.venv/bin/python -m api.export_schema`"
    )


def test_schema_has_the_person_360_entry_points():
    text = sdl()
    for field in (
        "person(id: String!): Person",
        "personBySourceRecord(",
        "personByIdentifier(",
        "node(id: ID!): Node",
        "ingestRecord(",
        "mergePeople(",
        "splitRecord(",
    ):
        assert field in text, field


def test_the_schema_source_kinds_are_the_graph_source_kinds():
    from api.schema.types import SourceKind
    from graph.models import SourceKind as GraphSourceKind

    assert [k.value for k in SourceKind] == [k.value for k in GraphSourceKind]
