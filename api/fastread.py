"""The person-360 read without per-field resolvers.

Strawberry resolves every field of a response through its own machinery, which costs a few
microseconds a field (DESIGN.md, performance notes): the person-360 query of a service
console, a few hundred fields, spent most of its time there and in ``json.dumps``, not in
Neo4j. This module answers such a query from the one Cypher statement of
:func:`graph.store.people.person_360`, whose lists come paged from Neo4j, by walking the
query's selection (compiled once per document) over plain dicts, and encodes with orjson.

It serves only what it can answer exactly as the schema's resolvers would, and hands
everything else back to the general path (returns None), so the GraphQL semantics stay
those of the schema:

- a POST of a JSON body whose query text already passed parsing and validation on the
  general path (:class:`api.schema.documents.Documents`: the first request of a text always
  takes the general path, so every limit and rule holds);
- one query operation whose only root field is ``person``, with no directives anywhere;
  fragments (inline and named) and aliases are followed as graphql-core's executor does;
- fields of :data:`FIELDS` only (a field this module does not know, such as one added to
  ``Person`` later, sends the request to the general path), each paged list
  (``sourceRecords``, ``orders``, ``timeline``) at most once, without ``since``/``until``;
- a caller whose role may read people (:class:`api.permissions.CanReadPeople`);
  a marketer's identifiers follow :func:`api.schema.identity.visible_to_marketer`, as on
  the general path;
- no error anywhere: a variable that does not fit, a ``first`` out of range, a foreign
  cursor, an empty id, Neo4j failing, a null in a non-null field all go to the general path,
  which answers them with its coded errors.

A person not found answers ``null`` with the general path's ``NOT_FOUND`` warning.

The values are those of the schema's resolvers by construction where they share code
(:func:`api.schema.identity.visible_to_marketer`, :func:`api.schema.identity.why_linked`,
:func:`api.schema.history.timeline_summary`, :func:`api.schema.pagination.cursor_at`), and
``tests/api/test_person_reads_api.py`` compares the two paths' answers field for field: a
change to how a field of :data:`FIELDS` resolves belongs in both (or out of :data:`FIELDS`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import neo4j
import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.relay import to_base64

from api.auth import Principal, Role
from api.permissions import CanReadPeople
from api.schema.documents import Documents
from api.schema.history import order_line, timeline_summary
from api.schema.identity import visible_to_marketer, why_linked
from api.schema.pagination import cursor_at, offset_after, page_size
from graph.errors import C360Error
from graph.settings import Settings
from graph.store import people

__all__ = ["FIELDS", "PersonReads"]

log = logging.getLogger("customer360.api")

_NAME_AND_ADDRESS = (
    "givenName",
    "familyName",
    "birthDate",
    "addressLine1",
    "addressLine2",
    "city",
    "postcode",
    "country",
)
_CONNECTION = frozenset({"edges", "pageInfo", "totalCount"})
_EDGE = frozenset({"cursor", "node"})

#: The fields this module answers, by GraphQL type; any other field takes the general path.
FIELDS: dict[str, frozenset[str]] = {
    "Person": frozenset(
        {
            "id",
            "personId",
            *_NAME_AND_ADDRESS,
            "email",
            "phone",
            "loyaltyId",
            "sources",
            "recordCount",
            "aliases",
            "createdAt",
            "updatedAt",
            "sourceRecords",
            "orders",
            "consents",
            "timeline",
        }
    ),
    "SourceRecordConnection": _CONNECTION,
    "OrderConnection": _CONNECTION,
    "TimelineEntryConnection": _CONNECTION,
    "SourceRecordEdge": _EDGE,
    "OrderEdge": _EDGE,
    "TimelineEntryEdge": _EDGE,
    "PageInfo": frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}),
    "SourceRecord": frozenset(
        {
            "id",
            "recordKey",
            "sourceId",
            "sourceKind",
            "recordId",
            *_NAME_AND_ADDRESS,
            "email",
            "phone",
            "loyaltyId",
            "identifiers",
            "qualityFlags",
            "updatedAt",
            "whyLinked",
            "raw",
            "nationalId",
        }
    ),
    "Identifier": frozenset({"type", "value"}),
    "WhyLinked": frozenset(
        {
            "rule",
            "score",
            "scores",
            "matchedRecord",
            "linkedAt",
            "actor",
            "explainedAt",
            "rulesVersion",
            "modelVersion",
        }
    ),
    "FieldScore": frozenset({"field", "score"}),
    "Order": frozenset(
        {
            "key",
            "orderId",
            "sourceId",
            "sourceRecord",
            "placedAt",
            "status",
            "total",
            "currency",
            "lines",
        }
    ),
    "Line": frozenset({"sku", "name", "category", "quantity", "unitPrice"}),
    "Consent": frozenset({"channel", "purpose", "status", "at", "sourceRecord"}),
    "TimelineEntry": frozenset({"at", "type", "sourceRecord", "summary"}),
}
_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
# the paged lists of a person, each fetched as one page by person_360
_PAGED = {"sourceRecords": "records", "orders": "orders", "timeline": "timeline"}


class _General(Exception):
    """The request needs the general path."""


@dataclass(frozen=True, slots=True)
class _Field:
    """One response key of a selection: the field, its type's shape and its sub-selection."""

    key: str
    name: str
    node: FieldNode
    definition: GraphQLField | None  # None for __typename
    nonnull: bool
    is_list: bool
    item_nonnull: bool
    leaf: Callable[[Any], Any] | None  # a leaf's serializer; None for an object
    children: tuple[_Field, ...]
    typename: str  # the type holding the field (the value of __typename)


@dataclass(frozen=True, slots=True)
class _Plan:
    operation: OperationDefinitionNode
    person: _Field
    paged: dict[str, _Field]  # sourceRecords / orders / timeline selected under the person
    consents: bool


class PersonReads:
    """Answers the person-360 queries it can (see the module) for one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        documents: Documents,
        settings: Settings,
    ) -> None:
        self.schema, self.documents, self.settings = schema, documents, settings
        #: requests answered here (the others went to the general path)
        self.served = 0
        # (id of the document, operation name) -> (the document, plan or None): holding the
        # document keeps its id from being reused while the entry lives
        self._plans: dict[tuple[int, str | None], tuple[DocumentNode, _Plan | None]] = {}

    def plan(self, document: DocumentNode, operation_name: str | None) -> _Plan | None:
        """The compiled plan of a validated document's operation, None when this module
        cannot answer it (worked out once per document and operation name)."""
        key = (id(document), operation_name)
        known = self._plans.get(key)
        if known is not None and known[0] is document:
            return known[1]
        try:
            plan: _Plan | None = _compile(self.schema, document, operation_name)
        except _General:
            plan = None
        if len(self._plans) >= 1024:
            self._plans.clear()
        self._plans[key] = (document, plan)
        return plan

    async def respond(
        self, body: bytes, principal: Principal | None, driver: neo4j.Driver
    ) -> bytes | None:
        """The JSON response to a GraphQL request body, or None for the general path."""
        if principal is None or principal.role not in CanReadPeople.roles:
            return None
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(request, dict):
            return None
        query, variables = request.get("query"), request.get("variables")
        operation_name = request.get("operationName")
        if (
            not isinstance(query, str)
            or not (variables is None or isinstance(variables, dict))
            or not (operation_name is None or isinstance(operation_name, str))
        ):
            return None
        document = self.documents.validated(query)
        plan = self.plan(document, operation_name) if document is not None else None
        if plan is None:
            return None
        try:
            return await self._run(plan, variables or {}, principal.role == Role.MARKETER, driver)
        except (_General, C360Error, GraphQLError):
            return None
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError):
            # not retried here (one round trip): the general path retries, or says why
            log.warning("person-360 read handed to the general path", exc_info=True)
            return None

    async def _run(
        self, plan: _Plan, variables: dict[str, Any], marketer: bool, driver: neo4j.Driver
    ) -> bytes:
        coerced = get_variable_values(
            self.schema, plan.operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):  # a variable that does not fit: the general path says so
            raise _General
        asked = get_argument_values(plan.person.definition, plan.person.node, coerced)  # type: ignore[arg-type]
        person_id = asked["id"].strip()
        if not person_id:
            raise _General
        max_page = self.settings.max_page_size
        pages: dict[str, tuple[int, int]] = {}
        options: dict[str, Any] = {}
        for name, field in plan.paged.items():
            args = get_argument_values(field.definition, field.node, coerced)  # type: ignore[arg-type]
            if args.get("since") is not None or args.get("until") is not None:
                raise _General
            try:
                size, start = page_size(args["first"], max_page), offset_after(args["after"]) + 1
            except C360Error:
                raise _General from None
            pages[name] = (start, size)
            if name == "sourceRecords" and args.get("kind") is not None:
                options["record_kind"] = _enum_name(args["kind"])
            if name == "timeline" and args.get("types"):
                options["timeline_types"] = [_enum_name(t) for t in args["types"]]
        parts = {_PAGED[name] for name in pages}
        if plan.consents or marketer:
            parts.add("consents")
        for name, (start, size) in pages.items():
            options[_PAGED[name]] = (start, start + size)
        found = await anyio.to_thread.run_sync(
            lambda: people.person_360(driver, self.settings, person_id, parts, **options)
        )
        key = plan.person.key
        if found is None:
            message = f"no person has 360 ID {person_id!r}, nor had it before a merge"
            self.served += 1
            return orjson.dumps(
                {
                    "data": {key: None},
                    "extensions": {
                        "warnings": [{"code": "NOT_FOUND", "path": [key], "message": message}]
                    },
                }
            )
        person = _person(found, marketer, pages)
        answer = orjson.dumps({"data": {key: _emit(plan.person.children, person)}})
        self.served += 1
        return answer


# --- compiling a selection -------------------------------------------------------------------


def _compile(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> _Plan:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        raise _General
    operation = operations[0]
    if operation.operation != OperationType.QUERY or operation.directives:
        raise _General
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query = schema.query_type
    assert query is not None
    groups: dict[str, list[FieldNode]] = {}
    _collect(fragments, query, [operation.selection_set], groups)
    if len(groups) != 1:
        raise _General
    [(key, nodes)] = groups.items()
    if nodes[0].name.value != "person":
        raise _General
    person_type = schema.get_type("Person")
    assert isinstance(person_type, GraphQLObjectType)
    children = _fields(fragments, person_type, nodes)
    person = _Field(
        key,
        "person",
        nodes[0],
        query.fields["person"],
        False,
        False,
        False,
        None,
        children,
        query.name,
    )
    paged: dict[str, _Field] = {}
    for child in children:
        if child.name in _PAGED:
            if child.name in paged:  # two pages of one list: the general path
                raise _General
            paged[child.name] = child
    return _Plan(operation, person, paged, any(c.name == "consents" for c in children))


def _fields(
    fragments: dict[str, FragmentDefinitionNode],
    parent: GraphQLObjectType,
    nodes: Sequence[FieldNode],
) -> tuple[_Field, ...]:
    """The compiled sub-selection of ``nodes`` (fields of one response key) on ``parent``."""
    allowed = FIELDS.get(parent.name)
    if allowed is None:
        raise _General
    groups: dict[str, list[FieldNode]] = {}
    _collect(fragments, parent, [n.selection_set for n in nodes if n.selection_set], groups)
    out = []
    for key, same in groups.items():
        name = same[0].name.value
        if name == "__typename":
            out.append(_Field(key, name, same[0], None, True, False, False, str, (), parent.name))
            continue
        if name not in allowed:
            raise _General
        definition = parent.fields[name]
        kind = definition.type
        nonnull = isinstance(kind, GraphQLNonNull)
        kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
        is_list = isinstance(kind, GraphQLList)
        item_nonnull = False
        if isinstance(kind, GraphQLList):
            kind = kind.of_type
            item_nonnull = isinstance(kind, GraphQLNonNull)
            kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
        leaf: Callable[[Any], Any] | None = None
        children: tuple[_Field, ...] = ()
        if isinstance(kind, GraphQLObjectType):
            children = _fields(fragments, kind, same)
        elif isinstance(kind, GraphQLEnumType):
            leaf = _enum(frozenset(kind.values))
        elif isinstance(kind, GraphQLScalarType) and kind.name in _SCALARS:
            leaf = kind.serialize
        else:
            raise _General
        out.append(
            _Field(
                key,
                name,
                same[0],
                definition,
                nonnull,
                is_list,
                item_nonnull,
                leaf,
                children,
                parent.name,
            )
        )
    return tuple(out)


def _collect(
    fragments: dict[str, FragmentDefinitionNode],
    parent: GraphQLObjectType,
    selection_sets: Iterable[SelectionSetNode],
    groups: dict[str, list[FieldNode]],
) -> None:
    """Fields by response key, in the order of first appearance, through fragments (as
    graphql-core's ``collect_fields``; any directive sends the request to the general path)."""
    for selection_set in selection_sets:
        for selection in selection_set.selections:
            if selection.directives:
                raise _General
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                groups.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                _applies(selection.type_condition, parent)
                _collect(fragments, parent, [selection.selection_set], groups)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                if fragment.directives:
                    raise _General
                _applies(fragment.type_condition, parent)
                _collect(fragments, parent, [fragment.selection_set], groups)
            else:
                raise _General


def _applies(condition: NamedTypeNode | None, parent: GraphQLObjectType) -> None:
    if condition is None or condition.name.value == parent.name:
        return
    if any(i.name == condition.name.value for i in parent.interfaces):
        return
    raise _General  # (validation leaves only fragments that apply to an object type)


def _enum_name(value: Any) -> str:
    """An enum argument's value as its name (graphql-core gives the schema's value)."""
    return str(getattr(value, "value", value))


def _enum(names: frozenset[str]) -> Callable[[Any], Any]:
    def serialize(value: Any) -> Any:
        if value not in names:
            raise _General
        return value

    return serialize


# --- answering ---------------------------------------------------------------------------


def _emit(fields: tuple[_Field, ...], value: dict[str, Any]) -> dict[str, Any]:
    """The response object of ``fields`` over ``value`` (GraphQL field name -> value)."""
    out: dict[str, Any] = {}
    for field in fields:
        item: Any = field.typename if field.name == "__typename" else value[field.name]
        if item is None:
            if field.nonnull:
                raise _General  # the general path answers the error
            out[field.key] = None
        elif field.is_list:
            if field.item_nonnull and any(i is None for i in item):
                raise _General
            if field.leaf is not None:
                serialize = field.leaf
                out[field.key] = [None if i is None else serialize(i) for i in item]
            else:
                out[field.key] = [None if i is None else _emit(field.children, i) for i in item]
        elif field.leaf is not None:
            try:
                out[field.key] = field.leaf(item)
            except _General:
                raise
            except Exception:  # graphql-core's serializers raise GraphQLError, TypeError...
                raise _General from None
        else:
            out[field.key] = _emit(field.children, item)
    return out


def _connection(nodes: list[Any], start: int, size: int, total: int) -> dict[str, Any]:
    """A Relay connection as :func:`api.schema.pagination.paginate` builds it."""
    edges = [{"cursor": cursor_at(start + i), "node": node} for i, node in enumerate(nodes)]
    return {
        "edges": edges,
        "totalCount": total,
        "pageInfo": {
            "hasNextPage": start + size < total,
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _person(
    found: people.Person360, marketer: bool, pages: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    p, golden, consents = found.person, found.person.golden, found.consents

    def shown(kind: str, value: Any) -> Any:
        if value is None or not marketer:
            return value
        return value if visible_to_marketer(consents, [(kind, "")]) else None

    out: dict[str, Any] = {name: golden.get(name) for name in _NAME_AND_ADDRESS}
    out.update(
        id=to_base64("Person", p.id),
        personId=p.id,
        email=shown("EMAIL", golden.get("email")),
        phone=shown("PHONE", golden.get("phone")),
        loyaltyId=shown("LOYALTY_ID", golden.get("loyaltyId")),
        sources=p.sources,
        recordCount=p.record_count,
        aliases=p.aliases,
        createdAt=p.created_at,
        updatedAt=p.updated_at,
        consents=[
            {
                "channel": c.channel,
                "purpose": c.purpose,
                "status": c.status,
                "at": c.at,
                "sourceRecord": c.source_key,
            }
            for c in consents
        ],
    )
    if "sourceRecords" in pages:
        start, size = pages["sourceRecords"]
        records = [_record(r, marketer, consents) for r in found.records]
        out["sourceRecords"] = _connection(records, start, size, found.record_total)
    if "orders" in pages:
        start, size = pages["orders"]
        orders = [
            {
                "key": r["key"],
                "orderId": r["id"],
                "sourceId": r["source"],
                "sourceRecord": r["recordKey"],
                "placedAt": r["placedAt"],
                "status": r["status"],
                "total": r["total"],
                "currency": r["currency"],
                "lines": [order_line(line) for line in r["lines"]],
            }
            for r in found.orders
        ]
        out["orders"] = _connection(orders, start, size, found.order_total)
    if "timeline" in pages:
        start, size = pages["timeline"]
        entries = [
            {
                "at": e["at"],
                "type": e["type"],
                "sourceRecord": e["sourceRecord"],
                "summary": timeline_summary(e["type"], e["row"]),
            }
            for e in found.timeline
        ]
        out["timeline"] = _connection(entries, start, size, found.timeline_total)
    return out


def _record(
    r: people.RecordView, marketer: bool, consents: list[people.ConsentView]
) -> dict[str, Any]:
    a = r.attributes
    identifiers = visible_to_marketer(consents, r.identifiers) if marketer else r.identifiers

    def shown(kind: str, value: Any) -> Any:
        if value is None or not marketer:
            return value
        return value if visible_to_marketer(consents, [(kind, "")]) else None

    why = why_linked(r.link)
    out: dict[str, Any] = {name: a.get(name) for name in _NAME_AND_ADDRESS}
    out.update(
        id=to_base64("SourceRecord", r.key),
        recordKey=r.key,
        sourceId=r.source_id,
        sourceKind=r.source_kind,
        recordId=r.source_record_id,
        email=shown("EMAIL", a.get("email")),
        phone=shown("PHONE", a.get("phone")),
        loyaltyId=shown("LOYALTY_ID", a.get("loyaltyId")),
        identifiers=[{"type": t, "value": v} for t, v in identifiers],
        qualityFlags=r.quality_flags,
        updatedAt=r.updated_at,
        whyLinked=None
        if why is None
        else {
            "rule": why.rule,
            "score": why.score,
            "scores": [{"field": s.field, "score": s.score} for s in why.scores],
            "matchedRecord": why.matched_record,
            "linkedAt": why.linked_at,
            "actor": why.actor,
            "explainedAt": why.explained_at,
            "rulesVersion": why.rules_version,
            "modelVersion": why.model_version,
        },
        raw=None if marketer else r.raw,
        nationalId=None if marketer else a.get("nationalId"),
    )
    return out
