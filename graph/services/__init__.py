"""Use cases that combine the store, ingestion and the pure resolution engine.

:mod:`~graph.services.resolver` resolves records against the graph (real time, batch, a
steward's merge and split); :mod:`~graph.services.explain` says why records are or are not
one person. :mod:`~graph.services.segments` defines, counts and pages segments (validated by
:mod:`~graph.services.segment_definition`, compiled by :mod:`~graph.services.segment_cypher`);
:mod:`~graph.services.activation` exports their audiences after suppression.
"""

from __future__ import annotations

__all__: list[str] = []
