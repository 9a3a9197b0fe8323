"""Identity resolution: normalize, block, compare, score and cluster source records.

The stages live in their own modules (``normalize``, ``blocking``, ``comparisons``,
``scoring``, ``clustering``); all but blocking are pure Python.
"""

from __future__ import annotations

__all__: list[str] = []
