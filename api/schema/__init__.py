"""The GraphQL schema, split by feature and combined here.

:func:`build_schema` applies the protection limits of the settings (query depth, aliases,
tokens) and masks unexpected errors; :data:`schema` is built with the defaults (used to write
``api/schema.graphql``).
"""

from __future__ import annotations

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    max_aliases,
    query_depth_limiter,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.errors import CodedErrors, log_errors
from api.limits import WriteGate, write_limit
from api.schema.audit import AuditQuery
from api.schema.documents import Documents, document_cache
from api.schema.events import EventsMutation, PrivacyQuery
from api.schema.health import HealthQuery
from api.schema.journeys import JourneyMutation, JourneyQuery
from api.schema.people import PeopleQuery
from api.schema.review import ReviewMutation, ReviewQuery
from api.schema.segments import SegmentsMutation, SegmentsQuery
from api.schema.stewardship import PrivacyMutation, StewardshipMutation
from api.schema.subscriptions import IdentitySubscription
from api.warnings import Warnings
from graph.settings import Settings

__all__ = ["build_schema", "schema"]

Query = merge_types(
    "Query",
    (HealthQuery, PeopleQuery, AuditQuery, PrivacyQuery, ReviewQuery, SegmentsQuery, JourneyQuery),
)
Mutation = merge_types(
    "Mutation",
    (
        StewardshipMutation,
        EventsMutation,
        PrivacyMutation,
        ReviewMutation,
        SegmentsMutation,
        JourneyMutation,
    ),
)


class _Schema(strawberry.Schema):
    #: the parsed and validated query texts of this schema (:mod:`api.schema.documents`)
    documents: Documents

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors)  # before masking: the original errors


def build_schema(settings: Settings | None = None) -> _Schema:
    """The schema with the limits of ``settings`` (defaults when None).

    The depth and alias rules are made once, and each distinct query text is parsed and
    validated once (:mod:`api.schema.documents`): the limits hold for every request, but a
    known-good text costs nothing to check again. Mutations share the schema's
    :class:`~api.limits.WriteGate` (``C360_MAX_CONCURRENT_WRITES``, ``C360_WRITE_WAIT_S``).
    """
    depth, aliases, tokens = (
        (12, 20, 4000)
        if settings is None
        else (settings.max_query_depth, settings.max_aliases, settings.max_tokens)
    )
    gate = (
        WriteGate(4, 1.0)
        if settings is None
        else WriteGate(settings.max_concurrent_writes, settings.write_wait_s)
    )
    limits: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(depth, None),
        max_aliases.create_validator(aliases),
    ]
    documents = Documents()
    built = _Schema(
        query=Query,
        mutation=Mutation,
        subscription=IdentitySubscription,
        extensions=[
            lambda: AddValidationRules(limits),
            lambda: MaxTokensLimiter(max_token_count=tokens),
            document_cache(documents),
            write_limit(gate),
            CodedErrors,
            Warnings,
        ],
    )
    built.documents = documents
    return built


schema = build_schema()
