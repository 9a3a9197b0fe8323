"""GraphQL over HTTP's ``application/graphql-response+json`` (the GraphQL-over-HTTP spec).

A client that accepts this media type gets it, with status codes that tell a request error from
a result: a request that could not run at all (a parse or validation error, a variable value
that does not fit its type: errors without a ``path`` and no ``data``) answers **400** with
no ``data`` entry; one that ran answers 200, field errors or not. A client asking only for
``application/json`` keeps getting 200 for every GraphQL result, as the spec requires.
"""

from __future__ import annotations

import json

from starlette.responses import Response

__all__ = ["GRAPHQL_RESPONSE", "as_graphql_response", "wants_graphql_response"]

GRAPHQL_RESPONSE = "application/graphql-response+json"


def wants_graphql_response(accept: str) -> bool:
    """True when the ``Accept`` header lists ``application/graphql-response+json`` (not
    with ``q=0``)."""
    for media_range in accept.split(","):
        media, *params = (part.strip() for part in media_range.split(";"))
        if media.lower() == GRAPHQL_RESPONSE:
            return not any(
                p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params
            )
    return False


def as_graphql_response(response: Response) -> Response:
    """``response`` (a JSON GraphQL result) as ``application/graphql-response+json`` with the
    spec's status code; anything else is returned unchanged."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return response
    status = response.status_code
    if (
        isinstance(body, dict)
        and body.get("errors")
        and body.get("data") is None
        and all(isinstance(e, dict) and "path" not in e for e in body["errors"])
    ):
        body.pop("data", None)
        if status == 200:
            status = 400
    headers = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    return Response(json.dumps(body), status, headers=headers, media_type=GRAPHQL_RESPONSE)
