"""Reconciliation: a person's golden attributes chosen from its source records, with provenance.

The last stage of resolution, pure Python. :func:`reconcile` picks each attribute of
:data:`~graph.resolution.rules.RECONCILED_ATTRIBUTES` by the strategy the rule set names for it
(``[reconciliation]`` in the rule file) and says which record it came from;
:func:`merge_attributes` merges the records' nested extra attributes key by key.

An empty value (``None``, blank text, an empty collection) is never a candidate, whatever its
record's recency or priority: a newer but sparse record must not wipe what an older one knows
(case 21, after Tracardi issue #892 and Apache Unomi PR #262). Values are returned exactly as
the winning record carries them (an NFC name stays NFC); only the ``most_frequent`` vote
compares them in :func:`~graph.normalize.fold` form.

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
from operator import attrgetter
from typing import NamedTuple

from graph.normalize import fold, parse_datetime
from graph.resolution.rules import RECONCILED_ATTRIBUTES, RuleSet

__all__ = [
    "Choice",
    "GoldenValue",
    "RecordValues",
    "merge_attributes",
    "reconcile",
    "reconcile_all",
]

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


class _Ranked(NamedTuple):
    record: RecordValues
    recency: float  # microseconds since 1970 UTC; -inf when updated_at is None
    by_recency: _Rank  # (-recency, -priority, key)
    by_priority: _Rank  # (-priority, -recency, key)


def _ranked(record: RecordValues) -> _Ranked:
    recency = _recency(record)
    return _Ranked(
        record,
        recency,
        (-recency, -record.source_priority, record.key),
        (-record.source_priority, -recency, record.key),
    )


def _recency(record: RecordValues) -> float:
    try:
        moment = parse_datetime(record.updated_at)
    except ValueError as exc:
        raise ValueError(f"record {record.key}: updated_at {exc}") from exc
    return -math.inf if moment is None else (moment - _EPOCH) // _MICROSECOND


_by_priority: Callable[[_Ranked], _Rank] = attrgetter("by_priority")
_by_recency: Callable[[_Ranked], _Rank] = attrgetter("by_recency")


def _vote_key(value: object) -> object:
    """The form in which ``most_frequent`` compares values; text folds, dates as ISO text."""
    if isinstance(value, date):
        value = value.isoformat()
    if isinstance(value, str):
        return fold(value) or value  # pure punctuation folds to "": keep such values apart
    return value


# The strategy of each reconciled attribute under the rule set used last: a RuleSet is
# immutable, and planning reconciles thousands of people under one.
_last_strategies: tuple[RuleSet | None, tuple[tuple[str, str], ...]] = (None, ())


def _strategies(rules: RuleSet) -> tuple[tuple[str, str], ...]:
    global _last_strategies
    used, strategies = _last_strategies
    if used is not rules:
        strategies = tuple((a, rules.strategy(a)) for a in RECONCILED_ATTRIBUTES)
        _last_strategies = (rules, strategies)
    return strategies


def _reconcile_one(only: _Ranked, rules: RuleSet) -> dict[str, Choice]:
    """:func:`_reconcile` of a person with one record: each non-empty value wins."""
    record = only.record
    values = record.values
    golden: dict[str, Choice] = {}
    for attribute, strategy in _strategies(rules):
        value = values.get(attribute)
        if value is None or (
            not value or value.isspace() if type(value) is str else _is_empty(value)
        ):
            continue
        choose = _choose(strategy)
        if choose is _most_frequent and not isinstance(value, str):
            value = choose([only], attribute).record.values[attribute]
        golden[attribute] = (value, record.key, strategy)
    return golden


def _candidates(ranked: Sequence[_Ranked], attribute: str) -> list[_Ranked]:
    candidates = []
    for r in ranked:
        value = r.record.values.get(attribute)
        if value is None:
            continue
        if type(value) is str:  # the common case of _is_empty, inlined
            if value and not value.isspace():
                candidates.append(r)
        elif not _is_empty(value):
            candidates.append(r)
    return candidates


def _most_frequent(candidates: Sequence[_Ranked], attribute: str) -> _Ranked:
    groups: dict[object, list[_Ranked]] = {}
    for r in candidates:
        groups.setdefault(_vote_key(r.record.values[attribute]), []).append(r)
    if len(groups) == 1:  # all agree: the most recent
        return min(candidates, key=_by_recency)
    # Each value is represented by its most recent record; more votes win, then that record.
    best = [
        (-len(group), _by_recency(min(group, key=_by_recency)), group) for group in groups.values()
    ]
    _, _, group = min(best, key=lambda entry: entry[:2])
    return min(group, key=_by_recency)


def _highest_priority(candidates: Sequence[_Ranked], _: str) -> _Ranked:
    return min(candidates, key=_by_priority)


def _latest(candidates: Sequence[_Ranked], _: str) -> _Ranked:
    return min(candidates, key=_by_recency)


_CHOOSERS: dict[str, Callable[[Sequence[_Ranked], str], _Ranked]] = {
    "source_priority": _highest_priority,
    "most_recent": _latest,
    "most_frequent": _most_frequent,
}


def _choose(strategy: str) -> Callable[[Sequence[_Ranked], str], _Ranked]:
    try:
        return _CHOOSERS[strategy]
    except KeyError:
        raise ValueError(f"unknown reconciliation strategy {strategy!r}") from None


def reconcile(records: Sequence[RecordValues], rules: RuleSet) -> dict[str, GoldenValue]:
    """The golden value of each reconciled attribute that at least one record carries.

    Returns ``{attribute: GoldenValue}`` for the attributes of
    :data:`~graph.resolution.rules.RECONCILED_ATTRIBUTES` with a non-empty value on some record
    (others are absent), each chosen by ``rules.strategy(attribute)`` as the module docstring
    describes. Raises ``ValueError`` for an ``updated_at`` that is not ISO 8601 (naming the
    record) or a strategy the rule set should not contain.
    """
    return {
        attribute: GoldenValue(attribute, value, key, strategy)
        for attribute, (value, key, strategy) in _reconcile(_rank(records), rules).items()
    }


#: A golden value as ``(value, record key, strategy)``: a :class:`GoldenValue` without its name.
Choice = tuple[object, str, str]


def reconcile_all(
    records: Sequence[RecordValues], rules: RuleSet
) -> tuple[dict[str, Choice], dict[str, object]]:
    """:func:`reconcile` and :func:`merge_attributes` of the same records, reading each
    record's ``updated_at`` once; golden values as ``{attribute: (value, record key,
    strategy)}`` (the hot path of planning: no object per attribute)."""
    ranked = _rank(records)
    return _reconcile(ranked, rules), _merge(ranked)


def _rank(records: Sequence[RecordValues]) -> list[_Ranked]:
    return [_ranked(record) for record in records]


def _reconcile(ranked: Sequence[_Ranked], rules: RuleSet) -> dict[str, Choice]:
    if len(ranked) == 1:
        return _reconcile_one(ranked[0], rules)
    golden: dict[str, Choice] = {}
    for attribute, strategy in _strategies(rules):
        candidates = _candidates(ranked, attribute)
        if not candidates:
            continue
        choose = _choose(strategy)
        winner = candidates[0].record
        value = winner.values[attribute]
        # one candidate wins whatever the strategy (a vote folds text, hashing anything else)
        if len(candidates) > 1 or (choose is _most_frequent and not isinstance(value, str)):
            winner = choose(candidates, attribute).record
            value = winner.values[attribute]
        golden[attribute] = (value, winner.key, strategy)
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
    return _merge(_rank(records))


def _merge(ranked: Sequence[_Ranked]) -> dict[str, object]:
    merged: dict[str, object] = {}
    for r in ranked:
        if r.record.attributes:
            break
    else:
        return merged  # no record has any
    # the winner of every tie comes last
    for r in sorted(ranked, key=_by_recency, reverse=True):
        _overlay(merged, _pruned(r.record.attributes))
    return merged
