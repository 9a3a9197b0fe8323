"""Authentication and roles.

A caller presents an API key (``X-API-Key: KEY`` or ``Authorization: ApiKey KEY``) configured
in ``C360_API_KEYS`` as ``key=role`` pairs, or a bearer token (``Authorization: Bearer JWT``)
signed with HS256 and ``C360_JWT_SECRET`` whose ``role`` claim names the role (``sub`` is the
actor recorded on every write). Roles:

=========  =====================================================================
admin      everything
agent      read people and their history, set consent
marketer   read people; raw identifiers only of people who consented to marketing
ingest     write records and events only
=========  =====================================================================
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import jwt
from starlette.requests import HTTPConnection

from graph.settings import Settings

__all__ = [
    "Principal",
    "Role",
    "authenticate",
    "authenticate_headers",
    "credentials_presented",
    "parse_api_keys",
]


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    MARKETER = "marketer"
    INGEST = "ingest"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: ``actor`` (recorded on writes) and ``role``."""

    actor: str
    role: Role


def parse_api_keys(raw: str | None) -> dict[str, Role]:
    """``"k1=admin,k2=agent"`` -> ``{"k1": Role.ADMIN, ...}``; raises ValueError naming a bad
    entry."""
    keys: dict[str, Role] = {}
    for entry in (raw or "").split(","):
        if not entry.strip():
            continue
        key, sep, role = entry.strip().rpartition("=")
        if not sep or not key:
            raise ValueError(f"C360_API_KEYS entry {entry.strip()[:4]}... is not key=role")
        try:
            keys[key] = Role(role.strip().lower())
        except ValueError:
            raise ValueError(
                f"C360_API_KEYS: unknown role {role!r}; use one of "
                f"{', '.join(r.value for r in Role)}"
            ) from None
    return keys


def authenticate(
    conn: HTTPConnection, settings: Settings, api_keys: dict[str, Role]
) -> Principal | None:
    """The principal of a request, or None when it carries no valid credentials."""
    return authenticate_headers(conn.headers, settings, api_keys)


def credentials_presented(headers: Mapping[str, str]) -> bool:
    """True when ``headers`` (names in lower case) carry an API key or an Authorization."""
    return bool(headers.get("x-api-key") or headers.get("authorization"))


def authenticate_headers(
    headers: Mapping[str, str], settings: Settings, api_keys: dict[str, Role]
) -> Principal | None:
    """The principal of ``x-api-key`` / ``authorization`` in ``headers`` (names in lower case,
    as HTTP headers or a WebSocket ``connection_init`` payload carry them), or None."""
    header = headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    key = headers.get("x-api-key") or (value if scheme.lower() == "apikey" else "")
    if key:
        for known, role in api_keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return Principal(f"api-key:{known[:4]}…", role)
        return None
    if scheme.lower() == "bearer" and value and settings.jwt_secret is not None:
        try:
            claims = jwt.decode(
                value,
                settings.jwt_secret.get_secret_value(),
                algorithms=["HS256"],
                options={"require": ["sub", "role"]},
            )
            return Principal(str(claims["sub"]), Role(str(claims["role"]).lower()))
        except (jwt.PyJWTError, ValueError):
            return None
    return None
