"""Blocking: which records are worth comparing, found through indexes, never by a scan.

Two kinds of shared evidence make records *candidate pairs*:

* identifiers (``(:SourceRecord)-[:HAS_IDENTIFIER]->(:Identifier)``: email, phone, loyalty id,
  device and cookie ids), unless the identifier is carried by more records than
  ``limits.max_identifier_records`` (a placeholder such as a store's dummy email);
* blocking keys (``(:SourceRecord)-[:IN_BLOCK]->(:BlockingKey {key})``) derived by
  :func:`blocking_keys`, unless the block holds more than ``limits.max_block_records``.

Both are unique-constrained nodes, so finding the candidates of a record costs a few index
seeks and relationship expansions, independent of the size of the database.
"""

from __future__ import annotations

from graph.resolution.features import Features

__all__ = ["blocking_keys", "evidence_keys", "keys_for"]


def keys_for(given: str, family: str, birth_date: str | None, postcode: str | None) -> list[str]:
    """Blocking keys from folded names, an ISO birth date and a postcode key, sorted; none
    from missing values.

    * ``dob:<birth date>:<initial>`` for the given and the family name's initial, so swapped
      names and a typo in one name still share a key (rule ``name_birth_date``);
    * ``pc:<postcode>:<initial>`` likewise for postcode (rule ``name_address``).
    """
    initials = {i for i in (given[:1], family[:1]) if i}
    keys: set[str] = set()
    for prefix, value in (("dob", birth_date), ("pc", postcode)):
        if value:
            keys.update(f"{prefix}:{value}:{i}" for i in initials)
    return sorted(keys)


def blocking_keys(f: Features) -> list[str]:
    """Blocking keys of a record's features (see :func:`keys_for`)."""
    return keys_for(f.givenName, f.familyName, f.birthDate, f.postcode)


def evidence_keys(f: Features, identifiers: list[tuple[str, str]]) -> list[str]:
    """All keys a record shares with its candidates: its identifiers (``EMAIL:a@b.c``) and
    blocking keys. Used by batch resolution to build candidate pairs in memory."""
    return [f"{t}:{v}" for t, v in identifiers] + blocking_keys(f)
