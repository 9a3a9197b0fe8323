"""Load a generated demo data set: register its sources, ingest every file, resolve.

Records are stored first and resolved in one batch afterwards (the fast path for a fresh
load); ``realtime=True`` resolves each batch of records as it arrives instead, as a live feed
would be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import neo4j

from graph.demo.generate import DEMO_SOURCES, MANIFEST_NAME
from graph.errors import FieldError, ValidationError
from graph.ingest import IngestSummary, ingest_file
from graph.services.resolver import BatchReport, Resolver, resolve_after_ingest
from graph.settings import Settings
from graph.store import sources

__all__ = ["DemoLoad", "load_demo", "read_manifest"]


@dataclass
class DemoLoad:
    """What a load did: one summary per file and the batch resolution report (if any)."""

    files: list[IngestSummary] = field(default_factory=list)
    resolution: BatchReport | None = None

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.files)


def read_manifest(directory: Path) -> dict:
    """The parsed ``manifest.json`` of a demo directory; raises ValidationError when absent."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise ValidationError(
            FieldError("dir", f"{directory} has no {MANIFEST_NAME}; run `c360 demo generate` first")
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load_demo(
    driver: neo4j.Driver,
    settings: Settings,
    directory: Path,
    *,
    realtime: bool = False,
    show_progress: bool = True,
    resolver: Resolver | None = None,
) -> DemoLoad:
    """Register the demo sources and ingest every file of ``directory`` in manifest order.

    Idempotent: loading the same directory again changes nothing. Raises
    :class:`ValidationError` when the directory holds no manifest.
    """
    manifest = read_manifest(directory)
    for demo in DEMO_SOURCES:
        sources.register_source(
            driver,
            settings,
            sources.validate_source(demo.id, demo.kind.value, demo.name, demo.priority),
        )
    resolver = resolver or Resolver(driver, settings, actor="demo-load")
    hook = resolve_after_ingest(resolver) if realtime else None
    result = DemoLoad()
    for entry in manifest["files"]:
        result.files.append(
            ingest_file(
                driver,
                settings,
                directory / entry["path"],
                entry["source"],
                entry["file_type"],
                show_progress=show_progress,
                after_batch=hook,
            )
        )
    if not realtime:
        result.resolution = resolver.resolve_all(show_progress=show_progress)
    return result
