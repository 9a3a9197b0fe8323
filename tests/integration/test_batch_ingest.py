"""File ingest resolved per chunk against a real Neo4j: the same people as one record at a
time, with two writers and resolution running behind them."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph import db
from graph.demo.generate import generate
from graph.ingest import ingest_file
from graph.ingest.reader import iter_rows
from graph.services.resolver import Resolver, resolve_after_ingest
from tests.integration.demo_graphs import people, register_demo_sources, unresolved


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list]:
    directory = tmp_path_factory.mktemp("demo")
    manifest = generate(directory, 120, 11)
    return directory, [f for f in manifest.files if f.file_type == "records"]


def test_file_ingest_resolved_per_chunk_gives_the_same_people_as_one_record_at_a_time(
    neo4j_driver, settings, demo
):
    directory, files = demo
    register_demo_sources(neo4j_driver, settings)
    resolver = Resolver(neo4j_driver, settings)
    for f in files:
        for _, row in iter_rows(directory / f.path):
            resolver.ingest_record(f.source, row)
    one_by_one = people(neo4j_driver, settings)

    db.wipe_data(neo4j_driver, settings)
    register_demo_sources(neo4j_driver, settings)
    chunks: list[int] = []
    hook = resolve_after_ingest(resolver)

    def counted(file_type, outcomes):
        chunks.append(len(outcomes))
        hook(file_type, outcomes)

    for f in files:
        ingest_file(
            neo4j_driver,
            settings,
            directory / f.path,
            f.source,
            "records",
            batch_size=25,
            show_progress=False,
            after_batch=counted,
        )

    assert len(chunks) > len(files)  # several chunks per file, resolved behind the writers
    assert unresolved(neo4j_driver, settings) == 0
    assert any(len(keys) > 1 for keys in one_by_one)  # people that linked records
    assert people(neo4j_driver, settings) == one_by_one


def test_a_failing_batch_resolution_is_raised_from_the_ingest(neo4j_driver, settings, demo):
    directory, files = demo
    register_demo_sources(neo4j_driver, settings)

    def broken(file_type, outcomes):
        raise RuntimeError("resolution failed")

    with pytest.raises(RuntimeError, match="resolution failed"):
        ingest_file(
            neo4j_driver,
            settings,
            directory / files[0].path,
            files[0].source,
            "records",
            batch_size=25,
            show_progress=False,
            after_batch=broken,
        )
