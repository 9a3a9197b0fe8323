"""The declarative rule set: match rules, conflicts, limits and reconciliation, from TOML.

The format is documented in ``default_rules.toml`` beside this module (the default rule set).
:func:`load_rules` validates the whole file and raises one :class:`ValidationError` naming every
bad rule and field (``rules[2].comparisons[0].scorer: unknown scorer 'fuzzy'``).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.resolution.comparisons import SCORERS

__all__ = [
    "DEFAULT_RULES",
    "FEATURE_FIELDS",
    "RECONCILED_ATTRIBUTES",
    "STRATEGIES",
    "Comparison",
    "Conflict",
    "Limits",
    "Rule",
    "RuleSet",
    "load_rules",
    "parse_rules",
]

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")

#: Fields a comparison or conflict may name (see :mod:`graph.resolution.features`).
FEATURE_FIELDS = frozenset(
    {
        "email",
        "phone",
        "loyaltyId",
        "givenName",
        "familyName",
        "fullName",
        "birthDate",
        "address",
        "postcode",
        "city",
        "country",
        "nationalId",
    }
)

#: Golden attributes of a person, each reconciled from the person's records.
RECONCILED_ATTRIBUTES = (
    "givenName",
    "familyName",
    "birthDate",
    "email",
    "phone",
    "addressLine1",
    "addressLine2",
    "city",
    "postcode",
    "country",
    "loyaltyId",
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
    #: the comparisons' indices, exact ones first: a rule passes only when all pass, so the
    #: cheap test that most candidate pairs fail is tried before the fuzzy scorers
    order: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        order = sorted(
            range(len(self.comparisons)), key=lambda n: self.comparisons[n].scorer != "exact"
        )
        object.__setattr__(self, "order", tuple(order))


@dataclass(frozen=True, slots=True)
class Conflict:
    """Negative evidence: both values present and different vetoes a rule's link. A ``hard``
    conflict vetoes the match model's links too; a soft one is left to the model, whose
    levels weigh the difference (a one-digit typo in a birth date is weak evidence against,
    a different date strong evidence), plus ``penalty`` bits (negative) when the model finds
    the values unlike beyond its typo levels (its ``else`` level).

    A conflict with ``when`` fields holds only when both records hold the same, non-empty
    value in each of them (an entry ``"address|postcode"`` holds when either agrees), and
    weighs only in the match model (a soft ``penalty``; it vetoes no rule): another given
    name under the same family name and address is the mark of a household member, whom the
    model would otherwise link on the shared name and address, read as independent evidence
    (Fellegi-Sunter assumes the comparisons independent; within a household they are not:
    Herzog, Scheuren and Winkler, *Data Quality and Record Linkage Techniques*, 2007)."""

    field: str
    reason: str
    hard: bool = False
    penalty: float = 0.0
    when: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    """Evidence limits: identifiers/blocks on more records than these are ignored."""

    max_identifier_records: int = 20
    max_block_records: int = 100


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated rule set; ``version`` is a short hash of the file, stored on each link.

    Immutable: ``rules`` and ``conflicts`` are tuples and ``reconciliation`` (attribute ->
    strategy) a read-only mapping, whatever containers they were given as.
    """

    rules: tuple[Rule, ...]
    conflicts: tuple[Conflict, ...]
    limits: Limits
    reconciliation: Mapping[str, str] = field(default_factory=dict)
    default_strategy: str = "source_priority"
    version: str = ""
    origin: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "conflicts", tuple(self.conflicts))
        object.__setattr__(self, "reconciliation", MappingProxyType(dict(self.reconciliation)))

    def strategy(self, attribute: str) -> str:
        """The reconciliation strategy for ``attribute``: its own, else the default."""
        return self.reconciliation.get(attribute, self.default_strategy)


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and validate a TOML rule file (default: :data:`DEFAULT_RULES`)."""
    path = path or DEFAULT_RULES
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(FieldError("rules", f"cannot read {path}: {exc.strerror}")) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(
            FieldError("rules", f"{path.name} is not UTF-8 text (byte {exc.start}: {exc.reason})")
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(FieldError("rules", f"{path.name} is not valid TOML: {exc}")) from exc
    return parse_rules(data, origin=str(path), version=hashlib.sha1(text.encode()).hexdigest()[:12])


_RULE_KEYS = ("name", "description", "comparisons")
_COMPARISON_KEYS = ("field", "scorer", "threshold")
_CONFLICT_KEYS = ("field", "reason", "hard", "penalty", "when")
_LIMIT_KEYS = tuple(f.name for f in fields(Limits))
_RECONCILIATION_KEYS = ("default", "attributes")
_LIMIT_RANGE = (2, 1_000_000)
#: Scorers that compare (given, family) pairs, so only work on ``fullName``.
_NAME_PAIR_SCORERS = frozenset({"person_name"})


def _listed(options: Collection[str]) -> str:
    """Options for a message: a tuple in its own order, anything else sorted."""
    return ", ".join(options if isinstance(options, tuple) else sorted(options))


def _is_one_of(value: Any, options: Collection[str]) -> bool:
    # Type first: a list or table from the file is unhashable, so cannot be looked up.
    return isinstance(value, str) and value in options


def _unknown_keys(
    errors: list[FieldError], where: str, raw: dict[Any, Any], known: tuple[str, ...]
) -> None:
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        errors.append(FieldError(where, f"unknown keys {unknown}; use {_listed(known)}"))


def _text(errors: list[FieldError], where: str, value: Any, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        errors.append(FieldError(where, "must be a string"))
        return default
    return value


def _number(errors: list[FieldError], where: str, value: Any, low: int, high: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors.append(FieldError(where, f"must be a number from {low:,} to {high:,}"))
        return float(low)
    return float(value)


def _whole_number(errors: list[FieldError], where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(where, f"must be a number from {low:,} to {high:,}, without a fraction")
        )
        return low
    return value


def _comparison(errors: list[FieldError], where: str, raw: Any) -> Comparison | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(where, "must be a table {field, scorer, threshold}"))
        return None
    _unknown_keys(errors, where, raw, _COMPARISON_KEYS)
    field_name, scorer = raw.get("field"), raw.get("scorer")
    known_field = _is_one_of(field_name, FEATURE_FIELDS)
    if not known_field:
        errors.append(
            FieldError(
                f"{where}.field",
                f"unknown field {field_name!r}; use one of {_listed(FEATURE_FIELDS)}",
            )
        )
    if not _is_one_of(scorer, SCORERS):
        errors.append(
            FieldError(
                f"{where}.scorer", f"unknown scorer {scorer!r}; use one of {_listed(SCORERS)}"
            )
        )
    elif scorer in _NAME_PAIR_SCORERS and known_field and field_name != "fullName":
        errors.append(
            FieldError(
                f"{where}.scorer",
                f"{scorer} compares (given, family) name "
                f"pairs; use it on fullName, not {field_name}",
            )
        )
    threshold = _number(errors, f"{where}.threshold", raw.get("threshold", 100), 0, 100)
    return Comparison(str(field_name), str(scorer), threshold)


def _rule(errors: list[FieldError], n: int, raw: dict[Any, Any], names: set[str]) -> Rule | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        reason = "is required" if name is None or isinstance(name, str) else "must be a string"
        errors.append(FieldError(f"rules[{n}].name", reason))
        name = f"rule{n}"
    elif name in names:
        errors.append(FieldError(f"rules[{n}].name", f"{name!r} is used twice"))
    names.add(name)
    where = f"rules[{n}] ({name})"
    _unknown_keys(errors, where, raw, _RULE_KEYS)
    description = _text(errors, f"{where}.description", raw.get("description"), "")
    comparisons = raw.get("comparisons")
    if not isinstance(comparisons, list) or not comparisons:
        errors.append(FieldError(f"{where}.comparisons", "at least one comparison is needed"))
        return None
    parsed = [
        _comparison(errors, f"{where}.comparisons[{i}]", c) for i, c in enumerate(comparisons)
    ]
    return Rule(name, tuple(c for c in parsed if c), description)


def _rules(errors: list[FieldError], raw: Any) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("rules", "at least one [[rules]] table is needed"))
        return []
    rules: list[Rule] = []
    names: set[str] = set()
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append(FieldError(f"rules[{n}]", "must be a table"))
        elif (parsed := _rule(errors, n, item, names)) is not None:
            rules.append(parsed)
    return rules


def _conflicts(errors: list[FieldError], raw: Any) -> list[Conflict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append(FieldError("conflicts", "must be a list of [[conflicts]] tables"))
        return []
    conflicts = []
    for n, item in enumerate(raw):
        where = f"conflicts[{n}]"
        if not isinstance(item, dict):
            errors.append(
                FieldError(f"{where}.field", "must name a known field in a table {field, reason}")
            )
            continue
        _unknown_keys(errors, where, item, _CONFLICT_KEYS)
        field_name = item.get("field")
        if not _is_one_of(field_name, FEATURE_FIELDS):
            errors.append(
                FieldError(
                    f"{where}.field",
                    f"must name a known field, not "
                    f"{field_name!r}; use one of {_listed(FEATURE_FIELDS)}",
                )
            )
            continue
        reason = _text(errors, f"{where}.reason", item.get("reason"), "")
        hard = item.get("hard", False)
        if not isinstance(hard, bool):
            errors.append(FieldError(f"{where}.hard", "must be true or false"))
            hard = False
        penalty = item.get("penalty", 0)
        if isinstance(penalty, bool) or not isinstance(penalty, int | float) or penalty > 0:
            errors.append(FieldError(f"{where}.penalty", "must be a number of bits, 0 or less"))
            penalty = 0
        when = _conflict_when(errors, where, item.get("when", []), str(field_name))
        if when and (hard or not penalty):
            errors.append(
                FieldError(
                    f"{where}.when",
                    "a conflict with `when` weighs only in the match model: give it a "
                    "penalty below 0 and no `hard`",
                )
            )
        conflicts.append(
            Conflict(
                str(field_name), reason or f"different {field_name}", hard, float(penalty), when
            )
        )
    return conflicts


def _conflict_when(
    errors: list[FieldError], where: str, raw: Any, field_name: str
) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(
        isinstance(f, str) and all(_is_one_of(g, FEATURE_FIELDS) for g in f.split("|")) for f in raw
    ):
        errors.append(
            FieldError(
                f"{where}.when",
                'must be a list of fields (or alternatives such as "address|postcode") '
                f"from {_listed(FEATURE_FIELDS)}",
            )
        )
        return ()
    if field_name in {g for f in raw for g in f.split("|")}:
        errors.append(
            FieldError(f"{where}.when", f"must not name the conflict's field {field_name!r}")
        )
        return ()
    return tuple(dict.fromkeys(raw))


def _limits(errors: list[FieldError], raw: Any) -> Limits:
    if raw is None:
        return Limits()
    if not isinstance(raw, dict):
        errors.append(FieldError("limits", f"must be a table {{{_listed(_LIMIT_KEYS)}}}"))
        return Limits()
    _unknown_keys(errors, "limits", raw, _LIMIT_KEYS)
    values = {
        name: _whole_number(errors, f"limits.{name}", raw[name], *_LIMIT_RANGE)
        for name in _LIMIT_KEYS
        if name in raw
    }
    return Limits(**values)


def _strategy(errors: list[FieldError], where: str, value: Any) -> str:
    if not _is_one_of(value, STRATEGIES):
        errors.append(
            FieldError(where, f"unknown strategy {value!r}; use one of {_listed(STRATEGIES)}")
        )
    return str(value)


def _reconciliation(errors: list[FieldError], raw: Any) -> tuple[str, dict[str, str]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.append(FieldError("reconciliation", "must be a table {default, attributes}"))
        raw = {}
    _unknown_keys(errors, "reconciliation", raw, _RECONCILIATION_KEYS)
    default = _strategy(errors, "reconciliation.default", raw.get("default", "source_priority"))
    attributes = raw.get("attributes", {})
    if not isinstance(attributes, dict):
        errors.append(
            FieldError("reconciliation.attributes", "must be a table of attribute = strategy")
        )
        attributes = {}
    chosen: dict[str, str] = {}
    for name, strategy in attributes.items():
        where = f"reconciliation.attributes.{name}"
        if name not in RECONCILED_ATTRIBUTES:
            errors.append(
                FieldError(where, f"unknown attribute; use one of {_listed(RECONCILED_ATTRIBUTES)}")
            )
        chosen[str(name)] = _strategy(errors, where, strategy)
    return default, chosen


def parse_rules(data: dict[str, Any], *, origin: str = "<dict>", version: str = "") -> RuleSet:
    """Validate a rule set given as parsed TOML; raises :class:`ValidationError` listing all
    problems, each naming its rule and field."""
    if not isinstance(data, dict):
        raise ValidationError(FieldError("rules", "must be a table of sections"))
    errors: list[FieldError] = []
    unknown = set(data) - {"limits", "rules", "conflicts", "reconciliation"}
    for key in sorted(unknown, key=str):
        errors.append(FieldError(str(key), "unknown section"))
    rules = _rules(errors, data.get("rules"))
    conflicts = _conflicts(errors, data.get("conflicts"))
    limits = _limits(errors, data.get("limits"))
    default, attributes = _reconciliation(errors, data.get("reconciliation"))
    if errors:
        raise ValidationError(errors)
    if not version:
        version = hashlib.sha1(repr(sorted(data.items())).encode()).hexdigest()[:12]
    return RuleSet(tuple(rules), tuple(conflicts), limits, attributes, default, version, origin)
