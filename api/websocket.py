"""Credentials for subscriptions over WebSocket (graphql-transport-ws and the legacy graphql-ws).

A browser's ``WebSocket`` cannot set request headers, so graphql-ws clients (GraphiQL,
Apollo, urql, ``gql``) send credentials in the ``connection_init`` payload instead::

    {"type": "connection_init", "payload": {"X-API-Key": "KEY"}}
    {"type": "connection_init", "payload": {"Authorization": "Bearer JWT"}}

Names are case-insensitive; credentials in the payload win over those of the upgrade request's
headers, which still work for clients that can set them. The handshake itself is always
accepted, so a refusal can say why: the socket is closed with graphql-transport-ws codes

====  ===================================================================
4401  no credentials in the payload nor in the headers
4403  credentials that are not valid (an unknown key, a bad or expired token)
====  ===================================================================

and a reason (at most 123 bytes, the WebSocket limit). The legacy ``graphql-ws`` protocol
answers ``connection_error`` with the same reason and an ``UNAUTHENTICATED`` code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from api.auth import Role, authenticate_headers
from api.context import Context
from api.errors import log_client_error
from graph.settings import Settings

__all__ = ["MISSING", "REJECTED", "Refusal", "TransportWSHandler", "authenticate_connection"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a WebSocket connection is closed: a graphql-transport-ws close code and a reason."""

    code: int
    reason: str


MISSING = Refusal(
    4401,
    'Unauthorized: send {"X-API-Key": ...} or {"Authorization": "Bearer ..."} in connection_init',
)
REJECTED = Refusal(4403, "Forbidden: the API key or bearer token is not valid")


def _credentials(payload: Mapping[str, Any]) -> dict[str, str]:
    found = {str(k).lower(): v for k, v in payload.items()}
    return {
        name: value
        for name in ("x-api-key", "authorization")
        if isinstance(value := found.get(name), str) and value
    }


def authenticate_connection(
    context: Context,
    payload: Mapping[str, Any],
    settings: Settings,
    api_keys: dict[str, Role],
    header_presented: bool,
) -> Refusal | None:
    """Authenticate a WebSocket at ``connection_init``: sets ``context.caller`` and returns
    None, or returns the :class:`Refusal` to close with.

    ``context.caller`` arrives holding the principal of the upgrade request's headers (None
    when they held none or invalid ones; ``header_presented`` tells which).
    """
    given = _credentials(payload)
    if given:
        principal = authenticate_headers(given, settings, api_keys)
        if principal is None:
            return REJECTED
        context.caller = principal
        return None
    if context.caller is not None:
        return None
    return REJECTED if header_presented else MISSING


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with credentials checked at ``connection_init`` (see module doc).

    ``view`` must have ``settings`` and ``api_keys``; the connection's scope holds
    ``c360.presented`` (whether its headers carried credentials).
    """

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        if not self.connection_init_received and isinstance(payload, dict):
            view: Any = self.view
            refusal = authenticate_connection(
                self.context,
                payload,
                view.settings,
                view.api_keys,
                bool(self.context.request.scope.get("c360.presented")),
            )
            if refusal is not None:
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                log_client_error(f"WEBSOCKET_{refusal.code}", refusal.reason)
                await self.websocket.close(code=refusal.code, reason=refusal.reason)
                return
        await super().handle_connection_init(message)
