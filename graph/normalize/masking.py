"""Identifier values masked for display, where a person reads them over a shoulder (Neo4j
Browser captions the ``Identifier`` nodes by their ``masked`` property). Pure.

The rule is the one of card receipts and bank letters (PCI DSS shows at most the first six and
last four digits; we show less): an email keeps its first character and its domain
(``j•••@example.com``), a phone its first three and last three characters (``+44•••123``),
anything else (loyalty ids, device ids, national ids) its last two characters (``•••42``).
Values too short to keep anything are masked whole. ``cypher/V0009`` computes the same for
identifiers stored before the property existed; a test holds the two to each other.
"""

from __future__ import annotations

__all__ = ["MASK", "masked_identifier"]

MASK = "\u2022\u2022\u2022"  # three bullets


def masked_identifier(type_: str, value: str) -> str:
    """``value`` of an identifier of ``type_`` (EMAIL, PHONE, ...) masked for display.

    >>> masked_identifier("EMAIL", "jane.doe@example.com")
    'j•••@example.com'
    >>> masked_identifier("PHONE", "+447700900123")
    '+44•••123'
    >>> masked_identifier("NATIONAL_ID", "123456789")
    '•••89'
    """
    if type_ == "EMAIL" and "@" in value:
        return value[:1] + MASK + "@" + value.rsplit("@", 1)[1]
    if type_ == "PHONE" and len(value) > 6:
        return value[:3] + MASK + value[-3:]
    if len(value) > 4:
        return MASK + value[-2:]
    return MASK
