"""Reconciliation: a person's golden attributes chosen from its source records, with provenance.

The last stage of resolution, pure Python. :func:`reconcile` picks each attribute of
:data:`~graph.resolution.rules.RECONCILED_ATTRIBUTES` by the strategy the rule set names for it
(``[reconciliation]`` in the rule file) and says which record it came from;
:func:`merge_attributes` merges the records' nested extra attributes key by key.

An empty value (``None``, blank text, an empty collection) is never a candidate, whatever its
record's recency or priority: a newer but sparse record must not wipe what an older one knows
(case 21, after Tracardi issue #892 and Apache Unomi PR #262). Values are returned exactly as
the winning record carries them (an NFC name stays NFC); only the ``most_frequent`` vote
compares them in :func:`~graph.resolution.normalize.fold` form.

Strategies and their tie-breaks (each ends in the smallest record key, so the choice is
deterministic whatever the input order):

===================  ============================================================================
``source_priority``  highest ``source_priority``; then most recent; then smallest key
``most_recent``      most recent ``updated_at`` (``None`` is oldest); then priority; then key
``most_frequent``    the value most records carry (fold-equal values agree), shown as on the
                     most recent record carrying it; ties between values: most recent, then
                     priority, then key
===================  ============================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from graph.resolution.normalize import fold, parse_datetime
from graph.resolution.rules import RECONCILED_ATTRIBUTES, RuleSet

__all__ = ["GoldenValue", "RecordValues", "merge_attributes", "reconcile"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class RecordValues:
    """One source record as reconciliation sees it.

    ``key`` is ``"source:id"``; a higher ``source_priority`` wins ``source_priority``;
    ``updated_at`` is ISO 8601 (``Z``, an offset, or none for UTC), later is more recent and
    ``None`` is older than any time. ``values`` maps attribute names to values (text, or a
    date as ISO text); ``attributes`` holds nested extra attributes
    (``{"preferences": {"language": "en"}}``).
    """

    key: str
    source_priority: int
    updated_at: str | None
    values: Mapping[str, object]
    attributes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GoldenValue:
    """A golden attribute's value and its provenance: the record and strategy that chose it."""

    attribute: str
    value: object
    record_key: str
    strategy: str


def _is_empty(value: object) -> bool:
    """True for ``None``, text that is empty or whitespace only, and an empty collection."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, Collection) and len(value) == 0


# A rank is compared with min(): the smallest rank wins.
_Rank = tuple[float, float, str]


@dataclass(frozen=True, slots=True)
class _Ranked:
    record: RecordValues
    recency: float  # microseconds since 1970 UTC; -inf when updated_at is None


def _recency(record: RecordValues) -> float:
    try:
        moment = parse_datetime(record.updated_at)
    except ValueError as exc:
        raise ValueError(f"record {record.key}: updated_at {exc}") from exc
    return -math.inf if moment is None else (moment - _EPOCH) // _MICROSECOND


def _by_priority(r: _Ranked) -> _Rank:
    return (-r.record.source_priority, -r.recency, r.record.key)


def _by_recency(r: _Ranked) -> _Rank:
    return (-r.recency, -r.record.source_priority, r.record.key)


def _vote_key(value: object) -> object:
    """The form in which ``most_frequent`` compares values; text folds, dates as ISO text."""
    if isinstance(value, date):
        value = value.isoformat()
    if isinstance(value, str):
        return fold(value) or value  # pure punctuation folds to "": keep such values apart
    return value


def _candidates(ranked: Sequence[_Ranked], attribute: str) -> list[_Ranked]:
    return [r for r in ranked if not _is_empty(r.record.values.get(attribute))]


def _most_frequent(candidates: Sequence[_Ranked], attribute: str) -> _Ranked:
    groups: dict[object, list[_Ranked]] = {}
    for r in candidates:
        groups.setdefault(_vote_key(r.record.values[attribute]), []).append(r)
    # Each value is represented by its most recent record; more votes win, then that record.
    best = [(-len(group), _by_recency(min(group, key=_by_recency)), group)
            for group in groups.values()]
    _, _, group = min(best, key=lambda entry: entry[:2])
    return min(group, key=_by_recency)


def _choose(strategy: str) -> Callable[[Sequence[_Ranked], str], _Ranked]:
    if strategy == "source_priority":
        return lambda candidates, _: min(candidates, key=_by_priority)
    if strategy == "most_recent":
        return lambda candidates, _: min(candidates, key=_by_recency)
    if strategy == "most_frequent":
        return _most_frequent
    raise ValueError(f"unknown reconciliation strategy {strategy!r}")


def reconcile(records: Sequence[RecordValues], rules: RuleSet) -> dict[str, GoldenValue]:
    """The golden value of each reconciled attribute that at least one record carries.

    Returns ``{attribute: GoldenValue}`` for the attributes of
    :data:`~graph.resolution.rules.RECONCILED_ATTRIBUTES` with a non-empty value on some record
    (others are absent), each chosen by ``rules.strategy(attribute)`` as the module docstring
    describes. Raises ``ValueError`` for an ``updated_at`` that is not ISO 8601 (naming the
    record) or a strategy the rule set should not contain.
    """
    ranked = [_Ranked(record, _recency(record)) for record in records]
    golden: dict[str, GoldenValue] = {}
    for attribute in RECONCILED_ATTRIBUTES:
        candidates = _candidates(ranked, attribute)
        if not candidates:
            continue
        strategy = rules.strategy(attribute)
        winner = _choose(strategy)(candidates, attribute).record
        golden[attribute] = GoldenValue(attribute, winner.values[attribute], winner.key,
                                        strategy)
    return golden


def _pruned(mapping: Mapping[str, object]) -> dict[str, object]:
    """A copy of ``mapping`` without empty leaves, nor mappings left empty by dropping them."""
    kept: dict[str, object] = {}
    for name, value in mapping.items():
        if isinstance(value, Mapping):
            value = _pruned(value)
        if not _is_empty(value):
            kept[str(name)] = value
    return kept


def _overlay(base: dict[str, object], top: Mapping[str, object]) -> None:
    """Write the (pruned) ``top`` over ``base`` in place, merging mappings key by key."""
    for name, value in top.items():
        current = base.get(name)
        if isinstance(value, Mapping) and isinstance(current, dict):
            _overlay(current, value)
        else:
            base[name] = value


def merge_attributes(records: Sequence[RecordValues]) -> dict[str, object]:
    """The records' nested ``attributes`` merged key by key, recursively through mappings.

    Per leaf key the most recent record with a non-empty value wins (ties: higher priority,
    then smallest key, as ``most_recent``); a key holding a mapping on one record and a plain
    value on another takes the more recent whole. Empty values never win.
    ``A {"preferences": {"language": "en", "store": "Bath"}}`` then newer
    ``B {"preferences": {"language": "cy"}}`` give ``{"preferences": {"language": "cy",
    "store": "Bath"}}`` (case 21). The dicts are new (the inputs are never modified), leaf values
    are shared. Raises ``ValueError`` for an ``updated_at`` that is not ISO 8601.
    """
    ranked = sorted((_Ranked(record, _recency(record)) for record in records),
                    key=_by_recency, reverse=True)  # the winner of every tie comes last
    merged: dict[str, object] = {}
    for r in ranked:
        _overlay(merged, _pruned(r.record.attributes))
    return merged
