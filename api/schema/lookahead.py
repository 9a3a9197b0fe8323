"""Look-ahead: which parts of a person (records, consents, history kinds) a query selects.

Resolvers returning people pass these parts to the people loader, so a person and everything
selected under it come in one statement (:func:`graph.store.people.people_with`) instead of one
query per kind of data; the fields below then find their data already loaded. The answer depends
only on the operation (a cached document's nodes are the same objects on every request), the
path to the field and the caller's role, so it is worked out once per operation and path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, Selection

from api.auth import Role

__all__ = ["person_parts"]

_PARTS_OF_FIELD: dict[str, tuple[str, ...]] = {
    "sourceRecords": ("records",),
    "consents": ("consents",),
    "orders": ("orders",),
    "carts": ("carts",),
    "cases": ("cases",),
    "engagements": ("engagements",),
    "consentHistory": ("consentHistory",),
    "timeline": ("orders", "cases", "engagements", "consentHistory"),
    # computed from the person's records (api.schema.identity)
    "emails": ("records",),
    "phones": ("records",),
    "addresses": ("records",),
    "explanation": ("records",),
}
# a marketer sees raw identifiers only with consent (api.schema.identity.visible_identifiers)
_CONSENT_GATED = frozenset({"email", "phone", "loyaltyId", "identifiers", "emails", "phones"})
# a record's own history is its person's, filtered: look inside sourceRecords too (a record's
# person is not looked into: it has a look-ahead of its own)
_RECORDS = "sourceRecords"
# fields of Relay connections between the current field and its people
_CONNECTION = frozenset({"edges", "node"})

# (id of the operation, field path, marketer) -> (the operation, parts); holding the operation
# keeps its id from being reused while the entry lives
_known: dict[tuple[int, tuple[str, ...], bool], tuple[Any, frozenset[str]]] = {}
_KNOWN_MAX = 1024


def person_parts(info: Info) -> frozenset[str]:
    """The parts the current field's selection needs of the people it returns (a Person, a
    list of them or a connection of them), through fragments. Over-approximates (directives
    are not evaluated): a part fetched and not shown costs a little, not a wrong answer."""
    marketer = info.context.principal.role == Role.MARKETER
    operation = info.operation
    path = tuple(k for k in info.path.as_list() if isinstance(k, str))
    known = _known.get((id(operation), path, marketer))
    if known is not None and known[0] is operation:
        return known[1]
    found: set[str] = set()
    for field in info.selected_fields:
        _collect(getattr(field, "selections", ()), found, marketer)
    parts = frozenset(found)
    if len(_known) >= _KNOWN_MAX:
        _known.clear()
    _known[id(operation), path, marketer] = (operation, parts)
    return parts


def _collect(selections: Iterable[Selection], parts: set[str], marketer: bool) -> None:
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            _collect(selection.selections, parts, marketer)
        elif selection.name in _CONNECTION:
            _collect(selection.selections, parts, marketer)
        elif selection.name == _RECORDS:
            parts.add("records")
            _collect(selection.selections, parts, marketer)
        else:
            parts.update(_PARTS_OF_FIELD.get(selection.name, ()))
            if marketer and selection.name in _CONSENT_GATED:
                parts.add("consents")
