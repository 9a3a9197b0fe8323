"""Journey triggers: store definitions, schedule their actions, run the outbox.

:func:`schedule` finds the triggers of every active journey (abandoned carts, placed orders)
and creates one ``(:Action)`` per step with its due time; the action id is deterministic
(journey, version, step, trigger entity), so scheduling again, or re-ingesting the same cart,
adds nothing. :func:`run` emits the due actions as JSON Lines and cancels those whose
conditions no longer hold, storing the reason.

Delivery guarantee of :func:`run`, stated exactly:

* **To an output file, exactly once** per file, also when a runner is killed at any point and
  restarted, and with several runners at once appending to the same file. A runner claims a
  batch in one transaction (status CLAIMED, its runner id, a lease), appends the batch's lines
  to the file and fsyncs it while holding an exclusive ``flock`` on it, then marks the actions
  EMITTED. Before appending, still under the lock, it reads what other runners (or its own
  earlier life) appended since it last looked and skips any action id already in the file. A
  runner killed after the fsync but before the mark leaves the actions CLAIMED; when their
  lease expires, a runner takes them over, finds their ids in the file and only marks them.
  A line cut short by a kill is removed on start (its action was never marked, so it is
  written again in full).
* Runners writing to **different files** (or to stdout) must not run on the same actions: the
  database's claim keeps two live runners apart, but an action taken over after its lease
  expired is written again if its first runner had written it to another file.
* **To stdout (``-``), at least once**: a runner killed between printing a batch and marking
  it prints that batch again after the lease expires.
* An action taken over after an expired lease is emitted without checking its conditions
  again (they held when it was first claimed, at most one lease ago).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import neo4j
from tqdm import tqdm

from graph.errors import FieldError, ValidationError
from graph.normalize import parse_moment
from graph.services.journey_rules import JourneyDefinition, parse_definition
from graph.settings import Settings
from graph.store import journeys as store
from graph.store.journeys import JourneyView

__all__ = [
    "RunReport",
    "ScheduleReport",
    "create_journey",
    "load_definition_file",
    "parse_now",
    "run",
    "schedule",
    "schedule_after_ingest",
]

#: Test-only fault injection: ``after-claim`` or ``after-write`` makes :func:`run` stop dead
#: (sleep) at that point of its first batch, so a test can kill it there with SIGKILL.
FAULT_ENV = "C360_JOURNEYS_FAULT"


def load_definition_file(path: Path) -> Any:
    """The definition in a JSON or YAML file (by extension ``.yaml``/``.yml``, else JSON);
    raises :class:`ValidationError` on field ``file`` when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(FieldError("file", f"cannot read {path}: {exc}")) from exc
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # only this command reads YAML

            return yaml.safe_load(text)
        return json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError's parse errors
        raise ValidationError(FieldError("file", f"{path} is not valid: {exc}")) from exc
    except Exception as exc:  # yaml.YAMLError is not a ValueError
        raise ValidationError(FieldError("file", f"{path} is not valid YAML: {exc}")) from exc


def create_journey(driver: neo4j.Driver, settings: Settings, raw: Any) -> tuple[JourneyView, str]:
    """Validate a definition (dict or JSON text) and store it as the active version of its
    journey: ``(journey, created|unchanged|reactivated)``. Raises :class:`ValidationError`
    naming the path of each bad field; nothing is stored then."""
    definition = parse_definition(raw)
    return store.save_journey(driver, settings, definition.id, definition.name, definition.json())


def parse_now(value: str | None) -> datetime:
    """``value`` (ISO 8601; naive = UTC) as an aware datetime, or the current time; raises
    :class:`ValidationError` on field ``now``."""
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise ValidationError(FieldError("now", str(exc))) from exc


@dataclass(slots=True)
class ScheduleReport:
    """What :func:`schedule` did: journeys scanned, trigger entities found, actions created."""

    journeys: int = 0
    triggers: int = 0
    created: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.created / self.seconds if self.seconds > 0 else 0.0
        return (
            f"scheduled {self.created} new action(s) from {self.triggers} trigger(s) of "
            f"{self.journeys} active journey(s) in {self.seconds:.1f} s ({rate:,.0f} actions/s)"
        )


def _steps(definition: JourneyDefinition) -> list[dict[str, Any]]:
    return [
        {"index": s.index, "delay": s.delay_s, "channel": s.channel, "template": s.template}
        for s in definition.steps
    ]


def schedule(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    now: datetime | None = None,
    record_keys: Iterable[str] | None = None,
    progress: bool = False,
    batch_size: int = 1000,
) -> ScheduleReport:
    """Schedule the actions of every active journey for its triggers at ``now`` (default the
    current time): the trigger entities whose time lies in ``[now - trigger.within, now]``;
    only those of the people holding ``record_keys`` when given. Idempotent; existing
    actions follow their trigger to its current person (after a merge). ``progress`` shows a
    progress bar on stderr. Raises :class:`graph.errors.Neo4jError` when Neo4j fails."""
    started = time.monotonic()
    moment = now or datetime.now(UTC)
    keys_of = None if record_keys is None else sorted(set(record_keys))
    report = ScheduleReport()
    plans = []
    for journey in store.list_journeys(driver, settings, active_only=True):
        definition = parse_definition(journey.definition)
        since = (moment - timedelta(seconds=definition.within_s)).isoformat()
        if keys_of is None:
            triggers = store.trigger_keys(
                driver, settings, definition.trigger, since, moment.isoformat()
            )
        else:
            triggers = store.trigger_keys_of_records(
                driver, settings, definition.trigger, keys_of, since, moment.isoformat()
            )
        plans.append((journey, definition, triggers))
    report.journeys = len(plans)
    report.triggers = sum(len(t) for _, _, t in plans)
    with tqdm(total=report.triggers, unit="trigger", desc="schedule", disable=not progress) as bar:
        for journey, definition, triggers in plans:
            for start in range(0, len(triggers), batch_size):
                batch = triggers[start : start + batch_size]
                report.created += store.schedule_triggers(
                    driver,
                    settings,
                    journey_id=journey.id,
                    version=journey.version,
                    kind=definition.trigger,
                    keys=batch,
                    steps=_steps(definition),
                )
                bar.update(len(batch))
    report.seconds = time.monotonic() - started
    return report


def schedule_after_ingest(
    driver: neo4j.Driver, settings: Settings, record_keys: Iterable[str] | None = None
) -> ScheduleReport:
    """The ingest hook: schedule the journeys' actions for what was just stored (the people
    holding ``record_keys``, or every trigger in the journeys' windows when None)."""
    return schedule(driver, settings, record_keys=record_keys)


@dataclass(slots=True)
class RunReport:
    """What :func:`run` did: actions emitted, found already written (a restart after a
    kill), taken over from expired leases, and cancelled by reason."""

    emitted: int = 0
    already_written: int = 0
    reclaimed: int = 0
    cancelled: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.emitted / self.seconds if self.seconds > 0 else 0.0
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.cancelled.items())) or "none"
        return (
            f"emitted {self.emitted} action(s) in {self.seconds:.1f} s ({rate:,.0f}/s); "
            f"{self.already_written} already in the output, {self.reclaimed} taken over "
            f"from expired leases; cancelled: {reasons}"
        )


class _FileOutbox:
    """Appends lines to a file under an exclusive flock, skipping ids already in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self.offset = 0
        self.ids: set[str] = set()
        with self._locked():
            self._repair()
            self._catch_up()

    def _locked(self) -> Any:
        outbox = self

        class _Lock:
            def __enter__(self) -> None:
                fcntl.flock(outbox.fd, fcntl.LOCK_EX)

            def __exit__(self, *exc: object) -> None:
                fcntl.flock(outbox.fd, fcntl.LOCK_UN)

        return _Lock()

    def _repair(self) -> None:
        """Cut a last line left incomplete by a kill (its action was never marked)."""
        size = os.fstat(self.fd).st_size
        if size == 0:
            return
        os.lseek(self.fd, 0, os.SEEK_SET)
        data = os.read(self.fd, size) if size < 1 << 30 else b""
        if data and not data.endswith(b"\n"):
            os.ftruncate(self.fd, data.rfind(b"\n") + 1)
            os.fsync(self.fd)

    def _catch_up(self) -> None:
        """Read the ids appended since the last look (by this or any other runner)."""
        size = os.fstat(self.fd).st_size
        if size <= self.offset:
            return
        os.lseek(self.fd, self.offset, os.SEEK_SET)
        chunks = []
        remaining = size - self.offset
        while remaining > 0:
            chunk = os.read(self.fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            if line.strip():
                try:
                    self.ids.add(json.loads(line)["actionId"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line written by hand: not an action of ours
        self.offset += end

    def write(self, actions: list[dict[str, Any]]) -> tuple[int, int]:
        """Append the actions not yet in the file, fsync; ``(written, already there)``."""
        with self._locked():
            self._catch_up()
            fresh = [a for a in actions if a["actionId"] not in self.ids]
            if fresh:
                data = "".join(_line(a) for a in fresh).encode()
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view) :]
                os.fsync(self.fd)
                self.ids.update(a["actionId"] for a in fresh)
                self.offset = os.fstat(self.fd).st_size
            return len(fresh), len(actions) - len(fresh)

    def close(self) -> None:
        os.close(self.fd)


class _StreamOutbox:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, actions: list[dict[str, Any]]) -> tuple[int, int]:
        self.stream.write("".join(_line(a) for a in actions))
        self.stream.flush()
        return len(actions), 0

    def close(self) -> None:
        self.stream.flush()


def _line(action: dict[str, Any]) -> str:
    return json.dumps(action, sort_keys=True, separators=(",", ":")) + "\n"


_CONTACT = {"EMAIL": "email", "SMS": "phone", "PHONE": "phone"}


def _message(action: dict[str, Any], runner: str) -> dict[str, Any]:
    contact = _CONTACT.get(action["channel"])
    return {
        "actionId": action["id"],
        "journeyId": action["journeyId"],
        "journeyVersion": action["journeyVersion"],
        "step": action["step"],
        "personId": action["personId"],
        "channel": action["channel"],
        "template": action["template"],
        "to": action.get(contact) if contact else None,
        "triggerKind": action["triggerKind"],
        "triggerKey": action["triggerKey"],
        "triggerAt": action["triggerAt"],
        "dueAt": action["dueAt"],
        "runner": runner,
    }


class _Conditions:
    """The conditions of each (journey, version, step), read once per run."""

    def __init__(self, driver: neo4j.Driver, settings: Settings) -> None:
        self.driver, self.settings = driver, settings
        self.cache: dict[tuple[str, int], tuple[bool, JourneyDefinition | None]] = {}

    def __call__(self, journey_id: str, version: int, step: int) -> dict[str, Any]:
        key = (journey_id, version)
        if key not in self.cache:
            view = store.get_journey(self.driver, self.settings, journey_id, version)
            self.cache[key] = (
                (view.active, parse_definition(view.definition))
                if view is not None and view.version == version
                else (False, None)
            )
        active, definition = self.cache[key]
        if definition is None or step >= len(definition.steps):
            return {
                "active": False,
                "noOrder": False,
                "consentChannel": None,
                "consentPurpose": None,
            }
        s = definition.steps[step]
        return {
            "active": active,
            "noOrder": s.no_order_since_trigger,
            "consentChannel": s.consent[0] if s.consent else None,
            "consentPurpose": s.consent[1] if s.consent else None,
        }


def _pause(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        sys.stderr.write(f"fault injected: stopped {point}\n")
        sys.stderr.flush()
        time.sleep(3600)


def run(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    out: Path | None = None,
    stream: IO[str] | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    runner_id: str | None = None,
    lease_s: int = 60,
    batch_size: int = 500,
) -> RunReport:
    """Emit the actions due at ``now`` (default the current time) as JSON Lines to the file
    ``out`` (appended) or else to ``stream`` (default stdout), at most ``limit`` of them,
    in batches of ``batch_size``, and cancel the due ones whose conditions fail: the order
    arrived (``ORDER_PLACED``), the cart converted (``CART_CONVERTED``), no GRANTED consent
    (``NO_CONSENT``), the person forgotten (``PERSON_FORGOTTEN``), the journey deactivated
    (``JOURNEY_INACTIVE``). Each line: ``{actionId, journeyId, journeyVersion, step, personId,
    channel, template, to (the person's email or E.164 phone), triggerKind, triggerKey,
    triggerAt, dueAt, runner}``. The guarantee is in the module docstring: exactly once per
    output file, at least once to a stream. Raises :class:`graph.errors.Neo4jError` when
    Neo4j fails (a rerun continues where it stopped)."""
    started = time.monotonic()
    moment = (now or datetime.now(UTC)).isoformat()
    runner = runner_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    outbox: _FileOutbox | _StreamOutbox = (
        _FileOutbox(out) if out is not None else _StreamOutbox(stream or sys.stdout)
    )
    output = str(out) if out is not None else "-"
    conditions = _Conditions(driver, settings)
    report = RunReport()
    idle = 0
    try:
        while limit is None or report.emitted < limit:
            size = batch_size if limit is None else min(batch_size, limit - report.emitted)
            token = uuid.uuid4().hex
            batch = store.reclaim_expired(
                driver, settings, limit=size, runner=runner, token=token, lease_s=lease_s
            )
            report.reclaimed += len(batch)
            if not batch:
                batch, cancelled = store.claim_due(
                    driver,
                    settings,
                    now=moment,
                    limit=size,
                    runner=runner,
                    token=token,
                    lease_s=lease_s,
                    conditions=conditions,
                )
                for reason, n in cancelled.items():
                    report.cancelled[reason] = report.cancelled.get(reason, 0) + n
                if not batch and not cancelled:
                    if not store.work_left(driver, settings, now=moment) or idle > 200:
                        break
                    idle += 1  # another runner holds the due ones' locks, or their leases
                    time.sleep(0.05)
                    continue
            idle = 0
            if not batch:
                continue
            _pause("after-claim")
            written, already = outbox.write([_message(a, runner) for a in batch])
            _pause("after-write")
            store.mark_emitted(
                driver,
                settings,
                [a["id"] for a in batch],
                token=token,
                runner=runner,
                output=output,
            )
            report.emitted += written
            report.already_written += already
    finally:
        outbox.close()
    report.seconds = time.monotonic() - started
    return report
