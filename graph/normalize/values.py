"""The result of normalising one value: :class:`Normalized` and its status. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Normalized", "Status", "Verdict", "empty_value", "raw_text", "rejected_value"]

Status = Literal["ok", "empty", "placeholder", "invalid"]


#: What a cached normaliser decides for one text: (value, key, status, reason).
Verdict = tuple[str | None, str | None, Status, str | None]


@dataclass(frozen=True, slots=True)
class Normalized:
    """One normalized value.

    ``raw`` is the value as received (non-strings as ``str(raw)``). ``value`` (to store and
    show) and ``key`` (to match on) are set only when ``status == "ok"``; ``reason`` says why
    when the status is ``"placeholder"`` or ``"invalid"``.
    """

    raw: str | None
    value: str | None
    key: str | None
    status: Status
    reason: str | None = None


def raw_text(raw: object) -> str | None:
    """The value as received, as text (non-strings as ``str(raw)``); None stays None."""
    return raw if raw is None or isinstance(raw, str) else str(raw)


def empty_value(raw: object) -> Normalized:
    """An ``"empty"`` result for ``raw``."""
    return Normalized(raw_text(raw), None, None, "empty")


def rejected_value(raw: object, status: Status, reason: str) -> Normalized:
    """A ``"placeholder"`` or ``"invalid"`` result for ``raw`` with its reason."""
    return Normalized(raw_text(raw), None, None, status, reason)
