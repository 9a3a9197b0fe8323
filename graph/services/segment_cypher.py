"""Compile a validated segment definition into one Cypher predicate on ``p:Person`` (pure).

Every condition type maps to a fixed fragment written here (labels, relationship types and
properties come only from this whitelist); the values of a condition travel as one map
parameter, ``$c0``, ``$c1`` ..., whose names are built from the digits below so the query
text stays a ``LiteralString`` made of this module's literals only, never of input.
Times are relative to ``as_of`` (a parameter too), so a count is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, LiteralString

from graph.errors import FieldError, ValidationError

__all__ = ["CompiledSegment", "compile_definition", "param_name"]

Json = dict[str, Any]
Lookup = Callable[[str], Json | None]

_DIGITS: tuple[LiteralString, ...] = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def param_name(prefix: LiteralString, n: int) -> LiteralString:
    """``prefix`` followed by the digits of ``n``, as a literal (``param_name("c", 12)``)."""
    return prefix + "".join(_DIGITS[int(d)] for d in str(n))


# One fragment per condition; ``$X`` is replaced by the condition's parameter name.
_ORDERS: LiteralString = """(p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
  WHERE o.placeholder IS NULL AND coalesce(o.status, '') <> 'CANCELLED'
    AND ($X.since IS NULL OR o.placedAt >= $X.since)"""
_FRAGMENTS: dict[str, LiteralString] = {
    "age": "(p.birthDate IS NOT NULL AND ($X.bornOnOrBefore IS NULL OR p.birthDate <= "
    "$X.bornOnOrBefore) AND ($X.bornAfter IS NULL OR p.birthDate > $X.bornAfter))",
    "city": "(toLower(p.city) IN $X.values)",
    "country": "(p.country IN $X.values)",
    "postcodePrefix": "(replace(p.postcode, ' ', '') STARTS WITH $X.prefix)",
    "purchase": """EXISTS {
  MATCH """
    + _ORDERS
    + """
  MATCH (o)-[:CONTAINS]->(pr:Product)
  WHERE ($X.sku IS NULL OR pr.sku = $X.sku)
    AND ($X.category IS NULL OR toLower(pr.category) = $X.category)
}""",
    "spend": """all(total IN [reduce(t = 0.0, v IN COLLECT {
  MATCH """
    + _ORDERS
    + """
  RETURN coalesce(o.total, 0.0) } | t + v)]
  WHERE ($X.min IS NULL OR total >= $X.min) AND ($X.max IS NULL OR total <= $X.max))""",
    "orderCount": """all(n IN [COUNT {
  MATCH """
    + _ORDERS
    + """
}] WHERE ($X.min IS NULL OR n >= $X.min) AND ($X.max IS NULL OR n <= $X.max))""",
    "abandonedCart": """EXISTS {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:HAS_CART]->(c:Cart)
  WHERE c.placeholder IS NULL AND c.status IN ['OPEN', 'ABANDONED']
    AND c.updatedAt <= $X.before AND ($X.since IS NULL OR c.updatedAt >= $X.since)
    AND NOT EXISTS {
      MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(later:Order)
      WHERE later.placeholder IS NULL AND later.placedAt > c.updatedAt
    }
}""",
    "engaged": """EXISTS {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:ENGAGED]->(e:Engagement)
  WHERE e.type IN $X.types AND ($X.campaign IS NULL OR e.campaign = $X.campaign)
    AND ($X.since IS NULL OR e.at >= $X.since)
}""",
    "inactive": """NOT EXISTS {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:ENGAGED]->(e:Engagement)
  WHERE e.type IN ['OPENED', 'CLICKED'] AND e.at >= $X.since
}""",
    "openCase": """EXISTS {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:OPENED]->(k:Case)
  WHERE k.placeholder IS NULL AND k.closedAt IS NULL
    AND NOT toUpper(coalesce(k.status, '')) IN ['CLOSED', 'RESOLVED', 'CANCELLED']
}""",
    "source": """EXISTS {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:FROM]->(s:Source)
  WHERE ($X.id IS NULL OR s.id = $X.id) AND ($X.kind IS NULL OR s.kind = $X.kind)
}""",
    # the effective consent is the latest event (graph.store.people reads it the same way)
    "consent": """(coalesce(head(COLLECT {
  MATCH (p)-[:GAVE]->(k:Consent)
  WHERE k.channel = $X.channel AND k.purpose = $X.purpose
  RETURN k.status ORDER BY k.at DESC, k.key
}), 'NONE') = $X.status)""",
}


# Where the people of a condition can be found from an index rather than by testing every
# person: a MATCH binding ``p`` to a superset of the condition's people (the predicate is still
# tested on each). Used for a top-level condition or one of a top-level AND, the first found in
# this order of selectivity.
_ANCHORS: dict[str, LiteralString] = {
    "purchase": """MATCH (pr:Product)
WHERE ($X.sku IS NULL OR pr.sku = $X.sku)
  AND ($X.category IS NULL OR toLower(pr.category) = $X.category)
MATCH (pr)<-[:CONTAINS]-(o:Order)<-[:PLACED]-(:SourceRecord)<-[:HAS_RECORD]-(p:Person)
WHERE $X.since IS NULL OR o.placedAt >= $X.since""",
    "abandonedCart": """MATCH (c:Cart)
WHERE c.updatedAt <= $X.before AND ($X.since IS NULL OR c.updatedAt >= $X.since)
  AND c.status IN ['OPEN', 'ABANDONED']
MATCH (c)<-[:HAS_CART]-(:SourceRecord)<-[:HAS_RECORD]-(p:Person)""",
    "engaged": """MATCH (e:Engagement)
WHERE ($X.since IS NULL OR e.at >= $X.since) AND e.type IN $X.types
  AND ($X.campaign IS NULL OR e.campaign = $X.campaign)
MATCH (e)<-[:ENGAGED]-(:SourceRecord)<-[:HAS_RECORD]-(p:Person)""",
    "openCase": """MATCH (k:Case) WHERE k.closedAt IS NULL
MATCH (k)<-[:OPENED]-(:SourceRecord)<-[:HAS_RECORD]-(p:Person)""",
}
_ANCHOR_ORDER = ("purchase", "abandonedCart", "openCase", "engaged")


@dataclass(frozen=True, slots=True)
class CompiledSegment:
    """``predicate``: Cypher boolean expression on ``p`` using ``params``; ``words``: the
    definition in a sentence; ``segments``: the ids of segments inlined (``inSegment``);
    ``anchor``: None, or a MATCH binding ``p`` (repeated: take DISTINCT) to a superset of the
    members, found through indexes, for the predicate to test instead of every person."""

    predicate: LiteralString
    params: dict[str, Any]
    words: str
    segments: frozenset[str] = field(default_factory=frozenset)
    anchor: LiteralString | None = None


class _Compiler:
    def __init__(self, lookup: Lookup, as_of: datetime, prefix: LiteralString) -> None:
        self.lookup, self.as_of, self.prefix = lookup, as_of, prefix
        self.params: dict[str, Any] = {}
        self.inlined: set[str] = set()
        self.anchors: dict[str, LiteralString] = {}

    def since(self, days: int | None) -> datetime | None:
        return None if days is None else self.as_of - timedelta(days=days)

    def values(self, kind: str, v: Any) -> Json:
        today = self.as_of.date()
        if kind == "age":
            return {
                "bornOnOrBefore": _years_before(today, v["min"]) if "min" in v else None,
                "bornAfter": _years_before(today, v["max"] + 1) if "max" in v else None,
            }
        if kind == "city":
            return {"values": [c.lower() for c in v]}
        if kind == "country":
            return {"values": list(v)}
        if kind == "postcodePrefix":
            return {"prefix": v}
        if kind == "purchase":
            category = v.get("category")
            return {
                "sku": v.get("sku"),
                "category": category.lower() if category else None,
                "since": self.since(v.get("withinDays")),
            }
        if kind in ("spend", "orderCount"):
            return {
                "min": v.get("min"),
                "max": v.get("max"),
                "since": self.since(v.get("withinDays")),
            }
        if kind == "abandonedCart":
            return {
                "before": self.as_of - timedelta(hours=v["olderThanHours"]),
                "since": self.since(v.get("withinDays")),
            }
        if kind == "engaged":
            types = ["OPENED", "CLICKED"] if v["type"] == "OPENED" else ["CLICKED"]
            return {
                "types": types,
                "campaign": v.get("campaign"),
                "since": self.since(v.get("withinDays")),
            }
        if kind == "inactive":
            return {"since": self.since(v["days"])}
        if kind == "source":
            return {"id": v.get("id"), "kind": v.get("kind")}
        if kind == "consent":
            return dict(v)
        return {}

    def compile(
        self, node: Json, trail: tuple[str, ...], path: str, anchor: str | None = None
    ) -> tuple[LiteralString, str]:
        """``anchor``: the path of the outermost ``inSegment`` being inlined, where a fault
        inside another segment's definition is reported."""
        kind, value = next(iter(node.items()))
        if kind in ("and", "or"):
            parts = [
                self.compile(c, trail, f"{path}.{kind}[{i}]", anchor) for i, c in enumerate(value)
            ]
            joiner: LiteralString = " AND " if kind == "and" else " OR "
            words = " and " if kind == "and" else " or "
            return "(" + joiner.join(p for p, _ in parts) + ")", (
                "(" + words.join(w for _, w in parts) + ")"
            )
        if kind == "not":
            inner, words = self.compile(value, trail, f"{path}.not", anchor)
            return "(NOT " + inner + ")", f"not {words}"
        if kind == "inSegment":
            where = anchor or f"{path}.inSegment"
            if value in trail:
                cycle = " -> ".join([*trail, value])
                raise ValidationError(FieldError(where, f"makes a cycle of segments: {cycle}"))
            definition = self.lookup(value)
            if definition is None:
                raise ValidationError(FieldError(where, f"no segment with id {value!r}"))
            self.inlined.add(value)
            inner, words = self.compile(definition, (*trail, value), path, where)
            return inner, f"in segment {value} {words}"
        name = param_name(self.prefix, len(self.params))
        self.params[name] = self.values(kind, value)
        if kind in _ANCHORS:
            self.anchors.setdefault(kind, _ANCHORS[kind].replace("$X", "$" + name))
        return _FRAGMENTS[kind].replace("$X", "$" + name), _words(kind, value)


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _since(v: Json, key: str = "withinDays") -> str:
    return f" in the last {v[key]} days" if v.get(key) else " ever"


def _bounds(v: Json) -> str:
    if "min" in v and "max" in v:
        return f"between {v['min']} and {v['max']}"
    return f"at least {v['min']}" if "min" in v else f"at most {v['max']}"


def _words(kind: str, v: Any) -> str:
    if kind == "age":
        return f"aged {_bounds(v)}"
    if kind == "city":
        return f"living in {' or '.join(v)}"
    if kind == "country":
        return f"living in country {' or '.join(v)}"
    if kind == "postcodePrefix":
        return f"with a postcode starting {v}"
    if kind == "purchase":
        what = f"product {v['sku']}" if "sku" in v else f"a product of category {v['category']}"
        if "sku" in v and "category" in v:
            what += f" (category {v['category']})"
        return f"bought {what}{_since(v)} (cancelled orders excluded)"
    if kind == "spend":
        return f"spent {_bounds(v)} in total{_since(v)}"
    if kind == "orderCount":
        return f"placed {_bounds(v)} orders{_since(v)}"
    if kind == "abandonedCart":
        return (
            f"left a cart open or abandoned more than {v['olderThanHours']} hours ago"
            f"{_since(v)} with no order since"
        )
    if kind == "engaged":
        campaign = f" campaign {v['campaign']!r}" if "campaign" in v else " any campaign"
        return f"{v['type'].lower()}{campaign}{_since(v)}"
    if kind == "inactive":
        return f"no open or click in the last {v['days']} days"
    if kind == "openCase":
        return "has an open service case"
    if kind == "source":
        return f"has a record from source {v.get('id') or 'of kind ' + v['kind']}"
    if kind == "consent":
        return f"effective {v['channel']} {v['purpose']} consent is {v['status']}"
    return kind


def compile_definition(
    definition: Json,
    lookup: Lookup,
    *,
    as_of: datetime | None = None,
    segment_id: str | None = None,
    prefix: LiteralString = "c",
) -> CompiledSegment:
    """Compile a validated definition (see :mod:`graph.services.segment_definition`).

    ``lookup(id)`` gives the current definition of another segment (None when there is none)
    for ``inSegment``, which is inlined; ``segment_id`` names the segment compiled, so a
    definition reaching itself is refused. ``as_of`` (default now, UTC) anchors every
    "within N days". Raises :class:`ValidationError` naming the path of an unknown segment or
    a cycle. Parameters are named ``prefix`` and a number (``c0``, ``c1`` ...), so several
    compiled segments can share one statement when each has its own prefix.
    """
    compiler = _Compiler(lookup, as_of or datetime.now(UTC), prefix)
    trail = (segment_id,) if segment_id else ()
    # conditions every member must meet: the definition itself, or the parts of a top AND
    required = definition["and"] if "and" in definition else [definition]
    anchors: dict[str, LiteralString] = {}
    parts: list[tuple[LiteralString, str]] = []
    for n, condition in enumerate(required):
        compiler.anchors = {}
        where = f"definition.and[{n}]" if "and" in definition else "definition"
        parts.append(compiler.compile(condition, trail, where))
        if next(iter(condition)) in _ANCHORS:
            anchors.update({k: v for k, v in compiler.anchors.items() if k not in anchors})
    if "and" in definition:
        predicate: LiteralString = "(" + " AND ".join(p for p, _ in parts) + ")"
        words = "(" + " and ".join(w for _, w in parts) + ")"
    else:
        predicate, words = parts[0]
    anchor = next((anchors[k] for k in _ANCHOR_ORDER if k in anchors), None)
    return CompiledSegment(predicate, compiler.params, words, frozenset(compiler.inlined), anchor)
