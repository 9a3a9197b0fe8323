"""What customer360 writes to and reads from Neo4j: one module per node family.

Every module holds its Cypher as module-level constants next to the function that runs it,
values only as ``$parameters``, and maps results into plain dicts or frozen dataclasses.

=================  ===========================================================================
``sources``        ``(:Source)``: registering and caching source systems
``records``        ``(:SourceRecord)`` upserts with their ``(:Identifier)`` and blocking keys
``identifiers``    looking people up by an ``(:Identifier)``
``components``     what resolution reads (a component around a change) and writes (a plan:
                   ``(:Person)``, ``HAS_RECORD``, ``(:PersonAlias)``, ``(:ResolutionEvent)``)
``people``         person reads for front ends: golden records, records, consents, history
``orders``         ``(:Order)``, ``(:Product)`` and order lines
``activity``       ``(:Case)``, ``(:Cart)`` and ``(:Engagement)`` events
``consents``       ``(:Consent)`` events captured by sources or set through the API
``audit``          the ``(:ResolutionEvent)`` trail, filtered and paged
``privacy``        subject access export and forgetting (``(:ForgottenIdentifier)``)
``segments``       versioned ``(:Segment)`` definitions and recorded ``(:Export)`` audiences
=================  ===========================================================================
"""

from __future__ import annotations

__all__: list[str] = []
