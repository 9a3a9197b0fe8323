"""A Fellegi-Sunter match model declared as data: comparisons with ordered levels, m and u.

Fellegi & Sunter, "A Theory for Record Linkage", JASA 64 (1969) 1183-1210; the data model
follows Splink's "comparison levels" and "match weights"
(https://moj-analytical-services.github.io/splink/, topic guides *Comparisons* and *The
Fellegi-Sunter model*). Each :class:`Comparison` compares one field of two records; its levels
are tried in order and the first that holds is the pair's level for it:

* ``null``: either side empty. No evidence: weight 0, never trained.
* ``exact``: equal after normalisation; with ``tf = true`` its u is replaced, per value, by the
  value's frequency (term-frequency adjustment, bounded below by ``tf_min_u``).
* ``fuzzy``: ``scorer`` (see :mod:`graph.resolution.comparisons`) at least ``threshold``.
* ``one_edit``: one character substituted, inserted, deleted or two adjacent ones transposed.
* ``date_swap`` / ``year_month``: ISO dates with day and month swapped / same year and month.
* ``initial``: one side is a single letter that starts the other ("j" and "john").
* ``else``: anything else (always last).

A level with ``when = "postcode"`` (a *conditional* level) is tried only when both records
hold the same, non-empty postcode; the comparison's other levels only when they do not. Its m
and u are then P(level | postcode agrees, match) and P(level | postcode agrees, non-match):
the chain rule P(postcode, city) = P(postcode) P(city | postcode), so a city that agrees
because the postcode already does is not counted as independent evidence a second time. This
is how Splink lets a comparison level read several columns (topic guide *Comparisons*:
"comparison levels ... can use any SQL expression", e.g. the address comparisons of its
example models), for fields that the Fellegi-Sunter independence assumption would otherwise
over-count: a street, its postcode and its city are one fact, shared by a whole household.
Conditional levels come first (after null) and end with their own ``else``; they take no term
frequencies. Training estimates their u over pairs blocked on the ``when`` field (see
:mod:`graph.resolution.training`), since random pairs rarely agree on it.

A level's weight is log2(m / u) in bits; a pair's match weight is log2(λ / (1 - λ)) plus the
weights of its levels, and its match probability 2^w / (1 + 2^w). When the model names two
``swap`` fields (given and family name) and a pair fits better with one record's two values
exchanged, that record's values are compared exchanged (Febrl and real forms swap them).
``λ`` is the probability that two records drawn at random are the same person. Thresholds
(``link``, ``review``) are match weights. :func:`load_model` reads the TOML format of
``default_model.toml``; :func:`model_to_json` / :func:`model_from_json` store a model (its
``version`` is a hash of its content).
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from graph.errors import FieldError, ValidationError
from graph.resolution.comparisons import SCORERS
from graph.resolution.rules import FEATURE_FIELDS

__all__ = [
    "DEFAULT_MODEL",
    "LEVEL_KINDS",
    "Comparison",
    "Level",
    "Model",
    "TrainingPass",
    "load_model",
    "model_from_json",
    "model_to_json",
    "parse_model",
]

DEFAULT_MODEL = Path(__file__).with_name("default_model.toml")

LEVEL_KINDS = frozenset(
    {"null", "exact", "fuzzy", "one_edit", "date_swap", "year_month", "initial", "else"}
)
_TEXT_FIELDS = FEATURE_FIELDS - {"fullName"}


@dataclass(frozen=True, slots=True)
class Level:
    """One comparison level: probabilities m = P(level | match), u = P(level | non-match)."""

    name: str
    kind: str
    m: float = 1.0
    u: float = 1.0
    scorer: str = ""
    threshold: float = 0.0
    tf: bool = False
    tf_min_u: float = 0.0
    when: str = ""

    @property
    def weight(self) -> float:
        """log2(m / u) in bits; 0 for the null level."""
        return 0.0 if self.kind == "null" else math.log2(self.m / self.u)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A field compared by ordered ``levels``; ``levels[0]`` is null, ``levels[-1]`` else."""

    name: str
    field: str
    levels: tuple[Level, ...]
    description: str = ""

    def level_names(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.levels)

    @property
    def when(self) -> str:
        """The field its conditional levels depend on (see the module docstring), or ""."""
        return next((lv.when for lv in self.levels if lv.when), "")

    def groups(self) -> list[list[int]]:
        """Indices of its non-null levels, by condition: the conditional levels (when any),
        then the others. Each group's m (and u) sum to 1."""
        conditional = [n for n, lv in enumerate(self.levels) if n and lv.when]
        other = [n for n, lv in enumerate(self.levels) if n and not lv.when]
        return [g for g in (conditional, other) if g]


@dataclass(frozen=True, slots=True)
class TrainingPass:
    """An EM pass over pairs sharing a blocking key starting with ``block`` (``"dob:"``);
    comparisons in ``deactivate`` are left out of it (their m cannot be estimated there)."""

    block: str
    deactivate: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Model:
    """A validated model. ``prior`` is λ; ``link``/``review`` are match-weight thresholds;
    ``join_margin`` is the extra weight a single link needs to join two multi-record groups
    (see :mod:`graph.resolution.linkage`); ``swap`` names two fields whose values may have
    been written into each other (given and family name)."""

    comparisons: tuple[Comparison, ...]
    prior: float
    link: float
    review: float
    join_margin: float
    swap: tuple[str, ...] = ()
    training: tuple[TrainingPass, ...] = ()
    description: str = ""

    @property
    def prior_weight(self) -> float:
        """log2(λ / (1 - λ)): the match weight of a pair before any evidence."""
        return math.log2(self.prior / (1.0 - self.prior))

    @property
    def version(self) -> str:
        """A short hash of the model's content: equal models have equal versions."""
        return hashlib.sha1(model_to_json(self).encode()).hexdigest()[:12]

    def comparison(self, name: str) -> Comparison:
        return next(c for c in self.comparisons if c.name == name)

    def with_parameters(
        self,
        m: dict[str, list[float]] | None = None,
        u: dict[str, list[float]] | None = None,
        prior: float | None = None,
    ) -> Model:
        """A copy with new m and/or u per comparison name (one value per level, the null
        level's ignored) and/or a new prior."""
        comparisons = []
        for c in self.comparisons:
            levels = list(c.levels)
            for n, level in enumerate(levels):
                if level.kind == "null":
                    continue
                if m and c.name in m:
                    level = replace(level, m=float(m[c.name][n]))
                if u and c.name in u:
                    level = replace(level, u=float(u[c.name][n]))
                levels[n] = level
            comparisons.append(replace(c, levels=tuple(levels)))
        return replace(
            self,
            comparisons=tuple(comparisons),
            prior=self.prior if prior is None else float(prior),
        )


def load_model(path: Path | None = None) -> Model:
    """Read and validate a TOML model file (default: :data:`DEFAULT_MODEL`)."""
    path = path or DEFAULT_MODEL
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(FieldError("model", f"cannot read {path}: {exc.strerror}")) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(FieldError("model", f"{path.name}: {exc}")) from exc
    return parse_model(data)


def model_to_json(model: Model) -> str:
    """The model as canonical JSON (sorted keys), in the shape :func:`parse_model` reads."""
    return json.dumps(_to_dict(model), sort_keys=True, separators=(",", ":"))


def model_from_json(text: str) -> Model:
    """The model :func:`model_to_json` wrote."""
    return parse_model(json.loads(text))


def _to_dict(model: Model) -> dict[str, Any]:
    def level(lv: Level) -> dict[str, Any]:
        out: dict[str, Any] = {"name": lv.name, "kind": lv.kind}
        if lv.kind != "null":
            out.update(m=lv.m, u=lv.u)
        if lv.kind == "fuzzy":
            out.update(scorer=lv.scorer, threshold=lv.threshold)
        if lv.tf:
            out.update(tf=True, tf_min_u=lv.tf_min_u)
        if lv.when:
            out.update(when=lv.when)
        return out

    return {
        "model": {"description": model.description, "prior": model.prior, "swap": list(model.swap)},
        "thresholds": {
            "link": model.link,
            "review": model.review,
            "join_margin": model.join_margin,
        },
        "comparisons": [
            {
                "name": c.name,
                "field": c.field,
                "description": c.description,
                "levels": [level(lv) for lv in c.levels],
            }
            for c in model.comparisons
        ],
        "training": [{"block": p.block, "deactivate": list(p.deactivate)} for p in model.training],
    }


def _probability(errors: list[FieldError], where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        errors.append(FieldError(where, "must be a probability above 0, at most 1"))
        return 1.0
    return float(value)


def _number(errors: list[FieldError], where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(FieldError(where, "must be a number"))
        return 0.0
    return float(value)


_LEVEL_KEYS = frozenset({"name", "kind", "m", "u", "scorer", "threshold", "tf", "tf_min_u", "when"})


def _level(errors: list[FieldError], where: str, raw: Any) -> Level | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(where, "must be a table {name, kind, m, u ...}"))
        return None
    for key in sorted(set(raw) - _LEVEL_KEYS):
        errors.append(FieldError(f"{where}.{key}", "unknown key"))
    kind, name = raw.get("kind"), raw.get("name", raw.get("kind"))
    if kind not in LEVEL_KINDS:
        errors.append(
            FieldError(
                f"{where}.kind",
                f"unknown kind {kind!r}; use one of {', '.join(sorted(LEVEL_KINDS))}",
            )
        )
        return None
    if kind == "null":
        return Level(str(name), "null")
    scorer, threshold = "", 0.0
    if kind == "fuzzy":
        scorer = raw.get("scorer", "")
        if scorer not in SCORERS:
            errors.append(FieldError(f"{where}.scorer", f"unknown scorer {scorer!r}"))
        threshold = _number(errors, f"{where}.threshold", raw.get("threshold"))
    tf = raw.get("tf", False)
    if tf and kind != "exact":
        errors.append(FieldError(f"{where}.tf", "term frequencies adjust exact levels only"))
    when = raw.get("when", "")
    if when and when not in _TEXT_FIELDS:
        errors.append(FieldError(f"{where}.when", f"unknown field {when!r}"))
    if when and tf:
        errors.append(FieldError(f"{where}.tf", "a conditional level takes no term frequencies"))
    return Level(
        str(name),
        kind,
        _probability(errors, f"{where}.m", raw.get("m")),
        _probability(errors, f"{where}.u", raw.get("u")),
        str(scorer),
        threshold,
        bool(tf),
        _number(errors, f"{where}.tf_min_u", raw.get("tf_min_u", 0.0)),
        str(when or ""),
    )


def _comparison(errors: list[FieldError], where: str, raw: Any) -> Comparison | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(where, "must be a table {name, field, levels}"))
        return None
    field = raw.get("field")
    if field not in _TEXT_FIELDS:
        errors.append(FieldError(f"{where}.field", f"unknown field {field!r}"))
    levels = [
        _level(errors, f"{where}.levels[{n}]", lv) for n, lv in enumerate(raw.get("levels") or [])
    ]
    kept = tuple(lv for lv in levels if lv is not None)
    if not kept or kept[0].kind != "null" or kept[-1].kind != "else":
        errors.append(
            FieldError(f"{where}.levels", "must start with a null level and end with an else level")
        )
    if len({lv.name for lv in kept}) != len(kept):
        errors.append(FieldError(f"{where}.levels", "level names must be unique"))
    _check_conditional(errors, f"{where}.levels", kept, field)
    return Comparison(
        str(raw.get("name", field)), str(field), kept, str(raw.get("description", ""))
    )


def _check_conditional(
    errors: list[FieldError], where: str, levels: tuple[Level, ...], field: Any
) -> None:
    """Conditional levels: one ``when`` field (not the compared one), right after the null
    level, ending with an ``else`` of their own."""
    conditional = [n for n, lv in enumerate(levels) if lv.when]
    if not conditional:
        return
    if len({levels[n].when for n in conditional}) > 1:
        errors.append(FieldError(where, "conditional levels must all name one `when` field"))
    if levels[conditional[0]].when == field:
        errors.append(FieldError(where, "a level cannot be conditional on its own field"))
    if conditional != list(range(1, len(conditional) + 1)):
        errors.append(FieldError(where, "conditional levels must come first, after null"))
    if levels[conditional[-1]].kind != "else":
        errors.append(FieldError(where, "conditional levels must end with an else level"))
    if levels[-1].when:
        errors.append(FieldError(where, "the last level must be an else level without `when`"))


def parse_model(data: dict[str, Any]) -> Model:
    """Validate a model given as parsed TOML or JSON; raises :class:`ValidationError`
    listing every problem, each named by its place (``comparisons[2].levels[1].m``)."""
    errors: list[FieldError] = []
    head, thresholds = data.get("model", {}), data.get("thresholds", {})
    for key in sorted(set(data) - {"model", "thresholds", "comparisons", "training"}):
        errors.append(FieldError(key, "unknown section"))
    prior = _probability(errors, "model.prior", head.get("prior"))
    if prior >= 1.0:
        errors.append(FieldError("model.prior", "must be below 1"))
    swap = tuple(head.get("swap", ()))
    if swap and (len(swap) != 2 or not set(swap) <= _TEXT_FIELDS):
        errors.append(FieldError("model.swap", "must name two fields"))
    comparisons = [
        _comparison(errors, f"comparisons[{n}]", c)
        for n, c in enumerate(data.get("comparisons") or [])
    ]
    kept = tuple(c for c in comparisons if c is not None)
    if not kept:
        errors.append(FieldError("comparisons", "at least one comparison is needed"))
    names = {c.name for c in kept}
    passes = []
    for n, raw in enumerate(data.get("training") or []):
        deactivate = tuple(raw.get("deactivate", ()))
        for name in sorted(set(deactivate) - names):
            errors.append(FieldError(f"training[{n}].deactivate", f"unknown comparison {name!r}"))
        passes.append(TrainingPass(str(raw.get("block", "")), deactivate))
    link = _number(errors, "thresholds.link", thresholds.get("link"))
    review = _number(errors, "thresholds.review", thresholds.get("review", link))
    if review > link:
        errors.append(FieldError("thresholds.review", "must not exceed thresholds.link"))
    margin = _number(errors, "thresholds.join_margin", thresholds.get("join_margin", 0.0))
    if errors:
        raise ValidationError(errors)
    return Model(
        kept, prior, link, review, margin, swap, tuple(passes), str(head.get("description", ""))
    )
