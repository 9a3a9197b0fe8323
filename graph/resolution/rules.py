"""The declarative rule set: match rules, conflicts, limits and reconciliation, from TOML.

The format is documented in ``default_rules.toml`` beside this module (the default rule set).
:func:`load_rules` validates the whole file and raises one :class:`ValidationError` naming every
bad rule and field (``rules[2].comparisons[0].scorer: unknown scorer 'fuzzy'``).
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.resolution.comparisons import SCORERS

__all__ = ["DEFAULT_RULES", "FEATURE_FIELDS", "RECONCILED_ATTRIBUTES", "STRATEGIES",
           "Comparison", "Conflict", "Limits", "Rule", "RuleSet", "load_rules", "parse_rules"]

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")

#: Fields a comparison or conflict may name (see :mod:`graph.resolution.features`).
FEATURE_FIELDS = frozenset({
    "email", "phone", "loyaltyId", "givenName", "familyName", "fullName", "birthDate",
    "address", "postcode", "city", "country",
})

#: Golden attributes of a person, each reconciled from the person's records.
RECONCILED_ATTRIBUTES = (
    "givenName", "familyName", "birthDate", "email", "phone", "addressLine1", "addressLine2",
    "city", "postcode", "country", "loyaltyId",
)
STRATEGIES = frozenset({"source_priority", "most_recent", "most_frequent"})


@dataclass(frozen=True, slots=True)
class Comparison:
    """Compare ``field`` of two records with ``scorer``; passes at ``threshold`` (0-100)."""

    field: str
    scorer: str
    threshold: float


@dataclass(frozen=True, slots=True)
class Rule:
    """A named AND of comparisons; the first rule (in file order) that passes links."""

    name: str
    comparisons: tuple[Comparison, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """Negative evidence: both values present and different vetoes a link."""

    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Limits:
    """Evidence limits: identifiers/blocks on more records than these are ignored."""

    max_identifier_records: int = 20
    max_block_records: int = 200


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated rule set; ``version`` is a short hash of the file, stored on each link."""

    rules: tuple[Rule, ...]
    conflicts: tuple[Conflict, ...]
    limits: Limits
    reconciliation: dict[str, str] = field(default_factory=dict)
    default_strategy: str = "source_priority"
    version: str = ""
    origin: str = ""

    def strategy(self, attribute: str) -> str:
        return self.reconciliation.get(attribute, self.default_strategy)


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and validate a TOML rule file (default: :data:`DEFAULT_RULES`)."""
    path = path or DEFAULT_RULES
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(FieldError("rules", f"cannot read {path}: {exc.strerror}")) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(FieldError("rules", f"{path.name} is not valid TOML: {exc}")) from exc
    return parse_rules(data, origin=str(path),
                       version=hashlib.sha1(text.encode()).hexdigest()[:12])


def _number(errors: list[FieldError], where: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors.append(FieldError(where, f"must be a number from {low:g} to {high:g}"))
        return low
    return float(value)


def _comparison(errors: list[FieldError], where: str, raw: Any) -> Comparison | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(where, "must be a table {field, scorer, threshold}"))
        return None
    unknown = set(raw) - {"field", "scorer", "threshold"}
    if unknown:
        errors.append(FieldError(where, f"unknown keys {sorted(unknown)}"))
    field_name, scorer = raw.get("field"), raw.get("scorer")
    if field_name not in FEATURE_FIELDS:
        errors.append(FieldError(f"{where}.field", f"unknown field {field_name!r}; use one of "
                                 f"{', '.join(sorted(FEATURE_FIELDS))}"))
    if scorer not in SCORERS:
        errors.append(FieldError(f"{where}.scorer", f"unknown scorer {scorer!r}; use one of "
                                 f"{', '.join(sorted(SCORERS))}"))
    threshold = _number(errors, f"{where}.threshold", raw.get("threshold", 100), 0, 100)
    return Comparison(str(field_name), str(scorer), threshold)


def _rules(errors: list[FieldError], raw: Any) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("rules", "at least one [[rules]] table is needed"))
        return []
    rules: list[Rule] = []
    names: set[str] = set()
    for n, rule in enumerate(raw):
        where = f"rules[{n}]"
        if not isinstance(rule, dict):
            errors.append(FieldError(where, "must be a table"))
            continue
        name = rule.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(FieldError(f"{where}.name", "is required"))
            name = f"rule{n}"
        elif name in names:
            errors.append(FieldError(f"{where}.name", f"{name!r} is used twice"))
        names.add(name)
        where = f"rules[{n}] ({name})"
        comparisons = rule.get("comparisons")
        if not isinstance(comparisons, list) or not comparisons:
            errors.append(FieldError(f"{where}.comparisons", "at least one comparison is needed"))
            continue
        parsed = [_comparison(errors, f"{where}.comparisons[{i}]", c)
                  for i, c in enumerate(comparisons)]
        rules.append(Rule(name, tuple(c for c in parsed if c), str(rule.get("description", ""))))
    return rules


def _conflicts(errors: list[FieldError], raw: Any) -> list[Conflict]:
    conflicts = []
    for n, item in enumerate(raw or []):
        where = f"conflicts[{n}]"
        if not isinstance(item, dict) or item.get("field") not in FEATURE_FIELDS:
            errors.append(FieldError(f"{where}.field", "must name a known field"))
            continue
        conflicts.append(Conflict(item["field"], str(item.get("reason") or
                                                     f"different {item['field']}")))
    return conflicts


def _limits(errors: list[FieldError], raw: Any) -> Limits:
    raw = raw or {}
    values = {}
    for name in ("max_identifier_records", "max_block_records"):
        if name in raw:
            values[name] = int(_number(errors, f"limits.{name}", raw[name], 2, 1_000_000))
    return Limits(**values)


def _reconciliation(errors: list[FieldError], raw: Any) -> tuple[str, dict[str, str]]:
    raw = raw or {}
    default = raw.get("default", "source_priority")
    if default not in STRATEGIES:
        errors.append(FieldError("reconciliation.default", f"use one of {sorted(STRATEGIES)}"))
    attributes = raw.get("attributes", {})
    for name, strategy in attributes.items():
        if name not in RECONCILED_ATTRIBUTES:
            errors.append(FieldError(f"reconciliation.attributes.{name}",
                                     f"unknown attribute; use one of {RECONCILED_ATTRIBUTES}"))
        if strategy not in STRATEGIES:
            errors.append(FieldError(f"reconciliation.attributes.{name}",
                                     f"unknown strategy {strategy!r}; use one of "
                                     f"{sorted(STRATEGIES)}"))
    return str(default), {str(k): str(v) for k, v in attributes.items()}


def parse_rules(data: dict[str, Any], *, origin: str = "<dict>", version: str = "") -> RuleSet:
    """Validate a rule set given as parsed TOML; raises :class:`ValidationError` listing all
    problems, each naming its rule and field."""
    errors: list[FieldError] = []
    unknown = set(data) - {"limits", "rules", "conflicts", "reconciliation"}
    for key in sorted(unknown):
        errors.append(FieldError(key, "unknown section"))
    rules = _rules(errors, data.get("rules"))
    conflicts = _conflicts(errors, data.get("conflicts"))
    limits = _limits(errors, data.get("limits"))
    default, attributes = _reconciliation(errors, data.get("reconciliation"))
    if errors:
        raise ValidationError(errors)
    if not version:
        version = hashlib.sha1(repr(sorted(data.items())).encode()).hexdigest()[:12]
    return RuleSet(tuple(rules), tuple(conflicts), limits, attributes, default, version, origin)
