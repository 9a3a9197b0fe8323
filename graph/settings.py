"""One frozen settings object for the whole process.

Values come from the environment, then from a ``.env`` file (:func:`env_file`: the one
``C360_ENV_FILE`` names, else ``./.env``, else the project root's), then from the defaults
below. Neo4j settings use the names the driver docs, Aura and
neo4j-migrations use (``NEO4J_URI``, ``NEO4J_USERNAME`` with ``NEO4J_USER`` as alias,
``NEO4J_PASSWORD``, ``NEO4J_DATABASE``); everything of customer360's own is prefixed ``C360_``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from graph.errors import ConfigError

__all__ = ["PROJECT_ROOT", "InputLimits", "Settings", "env_file", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


@dataclass(frozen=True, slots=True)
class InputLimits:
    """What one input row may hold: ``max_field_chars`` characters in one canonical field
    (a name, an address line, an id), ``max_row_bytes`` bytes in the whole row as UTF-8 JSON.
    A value over its limit is refused, never stored (see :mod:`graph.ingest.parse`)."""

    max_field_chars: int = 1_000
    max_row_bytes: int = 65_536


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Connection and runtime settings (immutable once built).

    Neo4j: ``uri`` is handed to the driver as given, so ``neo4j://`` (routing, clusters,
    Aura), ``neo4j+s://`` and ``bolt://`` all work. Local server (``c360 neo4j ...``): ports,
    heap and page cache sizes (Neo4j size strings such as ``512m``, or ``auto``: see
    :func:`graph.localneo4j.memory_sizes`), and the folder that holds downloads and the Neo4j
    home. API: host and port for ``c360 serve``.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    neo4j_uri: str | None = Field(None, validation_alias=_env("NEO4J_URI"))
    neo4j_username: str = Field("neo4j", validation_alias=_env("NEO4J_USERNAME", "NEO4J_USER"))
    neo4j_password: SecretStr | None = Field(None, validation_alias=_env("NEO4J_PASSWORD"))
    neo4j_database: str = Field("neo4j", validation_alias=_env("NEO4J_DATABASE"))

    local_home: Path = Field(
        PROJECT_ROOT / ".c360" / "neo4j", validation_alias=_env("C360_NEO4J_HOME")
    )
    neo4j_lib_dir: Path = Field(
        PROJECT_ROOT / ".c360" / "lib", validation_alias=_env("C360_NEO4J_LIB")
    )
    bolt_port: int = Field(7687, ge=1, le=65535, validation_alias=_env("C360_BOLT_PORT"))
    http_port: int = Field(7474, ge=1, le=65535, validation_alias=_env("C360_HTTP_PORT"))
    # Neo4j size strings ("512m", "2g") or "auto" (graph.localneo4j.memory_sizes: a share of RAM)
    heap_size: str = Field(
        "auto", pattern=r"^(auto|\d+[kmgKMG]?)$", validation_alias=_env("C360_HEAP")
    )
    pagecache_size: str = Field(
        "auto", pattern=r"^(auto|\d+[kmgKMG]?)$", validation_alias=_env("C360_PAGECACHE")
    )
    start_timeout_s: float = Field(120.0, gt=0, validation_alias=_env("C360_START_TIMEOUT"))

    migrations_dir: Path = Field(
        PROJECT_ROOT / "cypher", validation_alias=_env("C360_MIGRATIONS_DIR")
    )

    rules_file: Path | None = Field(None, validation_alias=_env("C360_RULES"))

    api_host: str = Field("127.0.0.1", validation_alias=_env("C360_API_HOST"))
    api_port: int = Field(8000, ge=1, le=65535, validation_alias=_env("C360_API_PORT"))
    # "key=role,key2=role2"; roles: admin, agent, marketer, ingest
    api_keys: SecretStr | None = Field(None, validation_alias=_env("C360_API_KEYS"))
    # HS256 secret for bearer tokens (JWT with a "role" claim)
    jwt_secret: SecretStr | None = Field(None, validation_alias=_env("C360_JWT_SECRET"))
    max_page_size: int = Field(100, ge=1, le=10_000, validation_alias=_env("C360_MAX_PAGE"))
    # answer person-360 queries without per-field resolvers where exact (api.fastread);
    # false sends every query through Strawberry's general path
    fast_reads: bool = Field(True, validation_alias=_env("C360_FAST_READS"))
    max_query_depth: int = Field(12, ge=2, le=100, validation_alias=_env("C360_MAX_DEPTH"))
    max_aliases: int = Field(20, ge=1, le=1000, validation_alias=_env("C360_MAX_ALIASES"))
    max_tokens: int = Field(4000, ge=100, le=100_000, validation_alias=_env("C360_MAX_TOKENS"))
    # request body (bytes): larger ones get HTTP 413 before they are read
    max_body_bytes: int = Field(1_048_576, ge=1_024, validation_alias=_env("C360_MAX_BODY_BYTES"))
    # mutations running at once per API process; more wait write_wait_s, then "retry later"
    max_concurrent_writes: int = Field(
        4, ge=1, le=1_000, validation_alias=_env("C360_MAX_CONCURRENT_WRITES")
    )
    write_wait_s: float = Field(1.0, ge=0, le=60, validation_alias=_env("C360_WRITE_WAIT_S"))
    # how long an API request may wait for an unavailable Neo4j before it answers UNAVAILABLE
    api_neo4j_timeout_s: float = Field(
        2.0, gt=0, le=120, validation_alias=_env("C360_API_NEO4J_TIMEOUT_S")
    )
    # how long ingest and batch resolution wait for an unavailable Neo4j (retrying with
    # backoff from 0.5 s up to ingest_retry_max_s between tries) before giving up
    ingest_wait_s: float = Field(
        120.0, ge=0, le=86_400, validation_alias=_env("C360_INGEST_WAIT_S")
    )
    ingest_retry_max_s: float = Field(
        1.0, gt=0, le=3_600, validation_alias=_env("C360_INGEST_RETRY_MAX_S")
    )
    max_field_chars: int = Field(1_000, ge=1, validation_alias=_env("C360_MAX_FIELD_CHARS"))
    max_row_bytes: int = Field(65_536, ge=256, validation_alias=_env("C360_MAX_ROW_BYTES"))
    # browser origins allowed to call the API (CORS) and open its WebSocket: "a,b" or "*"
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("C360_CORS_ORIGINS")
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """``"https://app.example.com, http://localhost:5173"`` -> a tuple of origins as
        browsers send them (scheme and host in lower case, no path); ``*`` allows any."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        origins = []
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            if item == "*":
                origins.append(item)
                continue
            parts = urlsplit(item)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                not in (
                    "",
                    "/",
                )
            ):
                raise ValueError(
                    f"{item!r} is not an origin: write scheme://host[:port], "
                    "e.g. http://localhost:5173, or *"
                )
            origins.append(item.rstrip("/").lower())
        return tuple(origins)

    @field_validator("neo4j_uri")
    @classmethod
    def _bolt_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in _SCHEMES:
            raise ValueError(f"must start with one of {', '.join(s + '://' for s in _SCHEMES)}")
        return value

    @property
    def uri(self) -> str:
        """``NEO4J_URI`` when set, else the local server's Bolt address on ``bolt_port``."""
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def uses_local_server(self) -> bool:
        """True when no ``NEO4J_URI`` is set, so ``c360 neo4j`` manages the server."""
        return self.neo4j_uri is None

    @property
    def input_limits(self) -> InputLimits:
        """The per-field and per-row limits of ingested rows."""
        return InputLimits(self.max_field_chars, self.max_row_bytes)

    def password(self) -> str:
        """The Neo4j password in clear text (for the driver only).

        Raises :class:`ConfigError` when ``NEO4J_PASSWORD`` is not set anywhere.
        """
        if self.neo4j_password is None:
            raise ConfigError(
                "NEO4J_PASSWORD is not set: export it or put it in .env "
                "(`c360 neo4j start` writes one for a local server)"
            )
        return self.neo4j_password.get_secret_value()


def env_file() -> Path:
    """The ``.env`` file settings are read from (and generated secrets written to), so
    ``c360`` works from any folder: ``C360_ENV_FILE`` when set, else ``.env`` in the working
    directory when there is one, else the project root's ``.env`` (the checkout holding
    ``pyproject.toml``; the working directory for an installed package). It may not exist.
    """
    named = os.environ.get("C360_ENV_FILE")
    if named:
        return Path(named).expanduser()
    here = Path(".env")
    if here.is_file() or not (PROJECT_ROOT / "pyproject.toml").is_file():
        return here.resolve()
    return PROJECT_ROOT / ".env"


def load_settings(**overrides: object) -> Settings:
    """Build :class:`Settings` from env, :func:`env_file` and defaults, with ``overrides`` on
    top (an ``_env_file`` override replaces the file).

    Raises :class:`ConfigError` naming each invalid setting.
    """
    overrides.setdefault("_env_file", env_file())
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
