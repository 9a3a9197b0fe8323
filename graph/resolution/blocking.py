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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from graph.resolution.features import Features

__all__ = [
    "blocking_keys",
    "evidence_keys",
    "keys_for",
    "pairs_sharing_keys",
    "probabilistic_keys",
    "soundex",
]


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


_SOUNDEX = {
    c: d
    for letters, d in (
        ("bfpv", "1"),
        ("cgjkqsxz", "2"),
        ("dt", "3"),
        ("l", "4"),
        ("mn", "5"),
        ("r", "6"),
    )
    for c in letters
}


def soundex(name: str) -> str:
    """American Soundex (Knuth, TAOCP vol. 3) of a folded name: a letter and three digits
    (``"robert"`` and ``"rupert"`` -> ``"r163"``); "" without a leading letter."""
    letters = [c for c in name if "a" <= c <= "z"]
    if not letters:
        return ""
    code, last = [letters[0]], _SOUNDEX.get(letters[0], "")
    for c in letters[1:]:
        digit = _SOUNDEX.get(c, "")
        if digit and digit != last:
            code.append(digit)
        if c not in "hw":  # h and w do not separate equal codes; vowels do
            last = digit
    return "".join(code)[:4].ljust(4, "0")


def probabilistic_keys(f: Features) -> list[str]:
    """Blocking keys for Fellegi-Sunter resolution, a handful per record, sorted.

    :func:`blocking_keys` (birth date or postcode with a name initial) plus ``nid:<national
    id>``, ``nm:<soundex>:<soundex>`` of the two names in sorted order (so swapped names
    share it; a compound family name also gives one per part, for a record that carries only
    one of its surnames), ``dp:<birth date>:<postcode>`` (for names that changed or were mistyped
    beyond their initials) and ``ad:<house number or postcode>:<soundex of the street>:<place>``
    (for a person whose name, date and postcode were all mistyped, at the same address), once
    with the Soundex of the city and once with the first two characters of the postcode as the
    place, so a typo in one of them still meets. Without the place, number and street are
    shared by thousands of unrelated records in a country-wide data set: on 50,000 demo people
    the address key gave half of all candidate pairs (416,820 in all, 209,877 with the place)
    and no true pair that the model links was lost (also none on Febrl 1-4; measured with
    bench/quality_offline.py's loaders).
    """
    keys = blocking_keys(f)
    if (address := _address_key(f)) is not None:
        places = [p for p in (soundex(f.city), (f.postcode or "")[:2]) if p] or [""]
        keys.extend(f"{address}:{place}" for place in places)
    if f.birthDate and f.postcode:
        keys.append(f"dp:{f.birthDate}:{f.postcode}")
    if f.nationalId:
        keys.append(f"nid:{f.nationalId}")
    given = soundex(f.givenName)
    if given:
        # the whole family name and, for a compound one ("pavon francisco", "grein-groth"),
        # each of its parts: a record may carry only one of them
        parts = f.familyName.split()
        names = {soundex(f.familyName), *(soundex(p) for p in parts if len(parts) > 1)}
        keys.extend("nm:" + ":".join(sorted((given, family))) for family in names if family)
    return sorted(set(keys))


def _address_key(f: Features) -> str | None:
    words = f.address.split()
    number = next((w for w in words if w.isdigit()), None) or f.postcode
    street = next((soundex(w) for w in words if w.isalpha() and len(w) > 2), "")
    return f"ad:{number}:{street}" if number and street else None


def pairs_sharing_keys(
    keys: Mapping[str, Iterable[str]], max_block: int, prefix: str = ""
) -> set[tuple[str, str]]:
    """Record pairs ``(a, b)``, ``a < b``, sharing a key that starts with ``prefix``; blocks
    of more than ``max_block`` records (generic keys) give none. ``keys``: record -> keys."""
    blocks: dict[str, list[str]] = defaultdict(list)
    for record, record_keys in keys.items():
        for key in record_keys:
            if key.startswith(prefix):
                blocks[key].append(record)
    pairs: set[tuple[str, str]] = set()
    for members in blocks.values():
        if 1 < len(members) <= max_block:
            ordered: Sequence[str] = sorted(members)
            pairs.update(combinations(ordered, 2))
    return pairs
