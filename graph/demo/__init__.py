"""Demo data: seeded, realistic source files for four systems plus the truth behind them.

``generate(out_dir, people, seed)`` writes one folder per :data:`DEMO_SOURCES` system, a
``manifest.json`` listing the files in load order and ``truth.csv`` mapping every source record
to its true person, so identity resolution can be scored.
"""

from __future__ import annotations

from graph.demo.generate import DEMO_SOURCES, DemoFile, DemoSource, Manifest, generate

__all__ = ["DEMO_SOURCES", "DemoFile", "DemoSource", "Manifest", "generate"]
