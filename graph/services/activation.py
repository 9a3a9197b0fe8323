"""Audience activation: a segment's people with their contact point for a channel, after the
suppression rules, written as CSV or JSON Lines and recorded as an ``(:Export)``.

One statement streams the segment's members, each with its contact point and the first
suppression rule (in :data:`RULES` order) that removes it; every rule is switchable per
export. The rules:

==================  =================================================================
``NO_CONSENT``       no effective GRANTED consent for the channel and purpose (latest
                     event, engagement opt-outs included)
``UNDELIVERABLE``    EMAIL only: every email address of the person hard-bounced
``RECENT_PURCHASE``  bought the promoted product (sku) or category in the last N days
``FREQUENCY_CAP``    more than K messages (``SENT`` engagement, any channel) in the last D days
``OPEN_CASE``        a service case that is not closed
``NO_CONTACT_POINT`` no email (EMAIL) or phone (SMS, PHONE) at all; always on
==================  =================================================================

The contact point is the best deliverable email (the golden one first, then the most recently
updated record's) or the golden phone in E.164.
"""

from __future__ import annotations

import csv
import json
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, LiteralString, TextIO

import neo4j
from tqdm import tqdm

from graph.db import translate_errors
from graph.errors import FieldError, NotFound, ValidationError
from graph.services.segments import compile_segment, members_head
from graph.settings import Settings
from graph.store import segments as store
from graph.store.segments import ExportView

__all__ = [
    "CHANNELS",
    "FORMATS",
    "RULES",
    "FrequencyCap",
    "RecentPurchase",
    "Suppression",
    "export_audience",
]

RULES = (
    "NO_CONSENT",
    "UNDELIVERABLE",
    "RECENT_PURCHASE",
    "FREQUENCY_CAP",
    "OPEN_CASE",
    "NO_CONTACT_POINT",
)
CHANNELS = ("EMAIL", "SMS", "PHONE")
FORMATS = ("csv", "jsonl")
COLUMNS = ("personId", "channel", "contactPoint", "givenName", "familyName")


@dataclass(frozen=True, slots=True)
class RecentPurchase:
    """Suppress who bought ``sku`` or a product of ``category`` in the last ``within_days``."""

    sku: str | None = None
    category: str | None = None
    within_days: int = 30


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """Suppress who was sent more than ``max_messages`` in the last ``days`` days."""

    max_messages: int = 3
    days: int = 7


@dataclass(frozen=True, slots=True)
class Suppression:
    """Which rules apply to an export. The defaults: consent, undeliverable, a frequency cap of
    3 messages a week and open cases on; the recent-purchase rule needs a promoted product."""

    consent: bool = True
    undeliverable: bool = True
    recent_purchase: RecentPurchase | None = None
    frequency_cap: FrequencyCap | None = field(default_factory=FrequencyCap)
    open_case: bool = True

    def enabled(self) -> tuple[str, ...]:
        """The rules on, in :data:`RULES` order."""
        on = {
            "NO_CONSENT": self.consent,
            "UNDELIVERABLE": self.undeliverable,
            "RECENT_PURCHASE": self.recent_purchase is not None,
            "FREQUENCY_CAP": self.frequency_cap is not None,
            "OPEN_CASE": self.open_case,
            "NO_CONTACT_POINT": True,
        }
        return tuple(r for r in RULES if on[r])


_TAIL: LiteralString = """
WITH p, CASE WHEN $channel = 'EMAIL' THEN COLLECT {
  MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:HAS_IDENTIFIER]->(i:Identifier {type: 'EMAIL'})
  WHERE r.email IS NOT NULL
  RETURN {email: r.email, ok: i.undeliverable IS NULL}
  ORDER BY r.email = p.email DESC, r.updatedAt DESC, r.key
} ELSE [] END AS emails
WITH p, emails,
     CASE WHEN $channel = 'EMAIL'
          THEN coalesce(head([e IN emails WHERE e.ok | e.email]),
                        CASE WHEN $rules.undeliverable THEN null ELSE head(emails).email END)
          ELSE p.phone END AS contact
RETURN p.id AS personId, contact, p.givenName AS givenName, p.familyName AS familyName,
  CASE
    WHEN $rules.consent AND coalesce(head(COLLECT {
        MATCH (p)-[:GAVE]->(k:Consent) WHERE k.channel = $channel AND k.purpose = $purpose
        RETURN k.status ORDER BY k.at DESC, k.key }), 'NONE') <> 'GRANTED'
      THEN 'NO_CONSENT'
    WHEN $rules.undeliverable AND size(emails) > 0 AND NOT any(e IN emails WHERE e.ok)
      THEN 'UNDELIVERABLE'
    WHEN $rules.recentPurchase AND EXISTS {
        MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)-[:CONTAINS]->(pr:Product)
        WHERE o.placeholder IS NULL AND coalesce(o.status, '') <> 'CANCELLED'
          AND o.placedAt >= $rules.purchaseSince
          AND ($rules.sku IS NULL OR pr.sku = $rules.sku)
          AND ($rules.category IS NULL OR toLower(pr.category) = $rules.category) }
      THEN 'RECENT_PURCHASE'
    WHEN $rules.frequencyCap AND COUNT {
        MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:ENGAGED]->(e:Engagement)
        WHERE e.type = 'SENT' AND e.at >= $rules.capSince } > $rules.capMessages
      THEN 'FREQUENCY_CAP'
    WHEN $rules.openCase AND EXISTS {
        MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:OPENED]->(k:Case)
        WHERE k.placeholder IS NULL AND k.closedAt IS NULL
          AND NOT toUpper(coalesce(k.status, '')) IN ['CLOSED', 'RESOLVED', 'CANCELLED'] }
      THEN 'OPEN_CASE'
    WHEN contact IS NULL THEN 'NO_CONTACT_POINT'
  END AS suppressedBy
"""


def _rule_params(s: Suppression, as_of: datetime) -> dict[str, Any]:
    purchase, cap = s.recent_purchase, s.frequency_cap
    return {
        "consent": s.consent,
        "undeliverable": s.undeliverable,
        "recentPurchase": purchase is not None,
        "sku": purchase.sku if purchase else None,
        "category": purchase.category.lower() if purchase and purchase.category else None,
        "purchaseSince": as_of - timedelta(days=purchase.within_days) if purchase else None,
        "frequencyCap": cap is not None,
        "capMessages": cap.max_messages if cap else 0,
        "capSince": as_of - timedelta(days=cap.days) if cap else None,
        "openCase": s.open_case,
    }


def _check(channel: str, purpose: str, fmt: str, s: Suppression) -> tuple[str, str]:
    errors = []
    channel, purpose = channel.strip().upper(), purpose.strip().upper()
    if channel not in CHANNELS:
        errors.append(FieldError("channel", f"must be one of {', '.join(CHANNELS)}"))
    if not purpose or not purpose.replace("_", "").isalnum():
        errors.append(FieldError("purpose", "must be a word such as MARKETING"))
    if fmt not in FORMATS:
        errors.append(FieldError("format", f"must be one of {', '.join(FORMATS)}"))
    p = s.recent_purchase
    if p is not None:
        if not (p.sku or p.category):
            errors.append(FieldError("suppress.recentPurchase", "needs sku or category"))
        if p.within_days <= 0:
            errors.append(FieldError("suppress.recentPurchase.withinDays", "must be > 0"))
    c = s.frequency_cap
    if c is not None:
        if c.max_messages < 0:
            errors.append(FieldError("suppress.frequencyCap.maxMessages", "must be >= 0"))
        if c.days <= 0:
            errors.append(FieldError("suppress.frequencyCap.days", "must be > 0"))
    if errors:
        raise ValidationError(errors)
    return channel, purpose


class _Writer:
    def __init__(self, out: TextIO, fmt: str) -> None:
        self.out, self.fmt = out, fmt
        self.csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow([row[c] if row[c] is not None else "" for c in COLUMNS])
        else:
            self.out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _stream(
    driver: neo4j.Driver, settings: Settings, query: LiteralString, params: dict[str, Any]
) -> Iterator[neo4j.Record]:
    with (
        translate_errors(settings),
        driver.session(
            database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS, fetch_size=5000
        ) as session,
    ):
        yield from session.run(query, params)


def export_audience(
    driver: neo4j.Driver,
    settings: Settings,
    segment_id: str,
    channel: str,
    purpose: str,
    out: TextIO,
    *,
    actor: str,
    fmt: str = "csv",
    suppression: Suppression | None = None,
    as_of: datetime | None = None,
    progress: bool = False,
    max_rows: int | None = None,
) -> ExportView:
    """Write the current version of segment ``segment_id``'s people who pass the suppression
    rules to ``out`` (``fmt`` csv with a header, or jsonl; columns :data:`COLUMNS`) and record
    the export with its counts and people (:mod:`graph.store.segments`).

    ``channel`` EMAIL, SMS or PHONE; ``purpose`` a consent purpose (MARKETING). ``progress``
    shows a tqdm bar of people read. Returns the recorded export, whose ``suppressed`` lists
    ``(rule, people removed)`` for each rule on, in order (a person counts once, for the first
    rule removing them). Raises :class:`NotFound` for an unknown segment,
    :class:`ValidationError` naming a bad argument, or when more than ``max_rows`` people
    would be exported (nothing is recorded then).
    """
    rules = suppression or Suppression()
    channel, purpose = _check(channel, purpose, fmt, rules)
    segment = store.get_segment(driver, settings, segment_id)
    if segment is None:
        raise NotFound(f"no segment with id {segment_id!r}")
    moment = as_of or datetime.now(UTC)
    compiled = compile_segment(
        driver, settings, segment.definition, segment_id=segment.id, as_of=moment
    )
    params = {
        **compiled.params,
        "channel": channel,
        "purpose": purpose,
        "rules": _rule_params(rules, moment),
    }
    writer = _Writer(out, fmt)
    removed: Counter[str] = Counter()
    exported: list[str] = []
    bar = tqdm(desc=f"export {segment.id}", unit=" people", disable=not progress)
    try:
        for record in _stream(
            driver, settings, members_head(compiled) + compiled.predicate + _TAIL, params
        ):
            bar.update()
            rule = record["suppressedBy"]
            if rule is not None:
                removed[rule] += 1
                continue
            if max_rows is not None and len(exported) >= max_rows:
                raise ValidationError(
                    FieldError(
                        "segment",
                        f"the audience holds more than {max_rows} people; "
                        "export it with `c360 segments export`",
                    )
                )
            exported.append(record["personId"])
            writer.write(
                {
                    "personId": record["personId"],
                    "channel": channel,
                    "contactPoint": record["contact"],
                    "givenName": record["givenName"],
                    "familyName": record["familyName"],
                }
            )
    finally:
        bar.close()
    enabled = rules.enabled()
    view = ExportView(
        id="exp-" + secrets.token_hex(8),
        segment_id=segment.id,
        segment_version=segment.version,
        channel=channel,
        purpose=purpose,
        format=fmt,
        at=datetime.now(UTC).isoformat(),
        actor=actor,
        candidates=len(exported) + sum(removed.values()),
        exported=len(exported),
        suppressed=tuple((r, removed[r]) for r in enabled),
    )
    store.record_export(driver, settings, view, exported, enabled)
    return view
