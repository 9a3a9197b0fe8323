"""Errors raised by customer360's graph layer.

Every error the package raises on purpose derives from :class:`C360Error`, so a caller
(CLI, API) can catch one type and show its message as one clear line::

    C360Error
    ├── ConfigError              settings missing or invalid
    ├── Neo4jError
    │   ├── Neo4jUnavailable     server unreachable (wrong URI, not started, network)
    │   └── Neo4jAuthError       server answered but refused the credentials
    ├── LocalNeo4jError          the local server could not be fetched, started or stopped
    ├── MigrationError
    │   └── ChecksumMismatch     an applied migration file was edited afterwards
    ├── ValidationError          bad input; carries every FieldError found, raised once
    ├── NotFound                 a referenced thing does not exist
    └── Conflict                 the request contradicts stored state

Driver exceptions are translated at the boundary (:mod:`graph.db`) and chained with
``raise ... from exc`` so the original stays available for debugging.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "C360Error",
    "ChecksumMismatch",
    "ConfigError",
    "Conflict",
    "FieldError",
    "LocalNeo4jError",
    "MigrationError",
    "Neo4jAuthError",
    "Neo4jError",
    "Neo4jUnavailable",
    "NotFound",
    "ValidationError",
]


class C360Error(Exception):
    """Base of every error customer360 raises on purpose; ``str(err)`` is one clear line."""


class ConfigError(C360Error):
    """A setting is missing or invalid."""


class Neo4jError(C360Error):
    """Talking to Neo4j failed."""


class Neo4jUnavailable(Neo4jError):
    """Neo4j could not be reached at the configured URI."""


class Neo4jAuthError(Neo4jError):
    """Neo4j refused the configured user name or password."""


class LocalNeo4jError(C360Error):
    """The local Neo4j server could not be fetched, configured, started or stopped."""


class MigrationError(C360Error):
    """A migration could not be read, checked or applied."""


class ChecksumMismatch(MigrationError):
    """An already-applied migration file was changed after it was applied."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field.

    ``field`` is the field's name as the caller spelled it (``email``, ``rules[2].threshold``),
    ``reason`` a short human sentence, ``line`` the 1-based input line when the input is a file.
    """

    field: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.reason}"


class ValidationError(C360Error):
    """Input was rejected; ``errors`` lists every problem found (never empty)."""

    def __init__(self, errors: list[FieldError] | FieldError):
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class NotFound(C360Error):
    """A referenced entity (source, person, record, ...) does not exist."""


class Conflict(C360Error):
    """The request contradicts stored state (for example a cannot-link between two people)."""
