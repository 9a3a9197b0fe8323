"""The journey runner: emit due actions as JSON Lines, cancel those whose conditions failed.

Delivery guarantee, honestly:

* **To an output file: exactly once**, for any number of runners sharing that file, killed
  and restarted at any point. A runner claims a batch (status CLAIMED, its runner id, a lease),
  decides each action (:func:`graph.store.journey_rules.cancel_reason`), then, holding an
  exclusive ``flock`` on the file, reads what was appended since it last looked, leaves out
  every action id already in the file, appends the rest in one ``write`` and ``fsync``\\ s,
  and only then marks them EMITTED. A runner killed after the write and before the mark
  leaves CLAIMED actions whose lease runs out; whoever claims them next finds their ids in
  the file and marks them EMITTED without writing them again. The file, not the graph, is
  the record of what was sent; every runner must write the same file (a different file
  cannot see the first one's lines).
* **To stdout: at least once** across a crash: a runner killed between printing a batch and
  marking it prints that batch again after the lease runs out (there is nothing to re-read).
  Without crashes, once.

Each line: ``actionId, journeyId, journeyVersion, step, personId, channel, template, to``
(the person's email for EMAIL, phone for SMS and PHONE, else null), ``dueAt``,
``triggerType``, ``triggerKey``, ``emittedAt``, ``runner``. Conditions are checked when an
action is due, never earlier; a cancelled action keeps its reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import neo4j
from tqdm import tqdm

from graph.settings import Settings
from graph.store import actions
from graph.store.journey_rules import cancel_reason

__all__ = ["RunReport", "run_journeys"]


@dataclass
class RunReport:
    """What one run did: ``emitted`` lines written, ``recovered`` actions found already in
    the output (written by a runner that died) and marked, ``cancelled`` by reason,
    ``waiting`` due actions whose record is not resolved to a person yet (left SCHEDULED)."""

    runner: str
    emitted: int = 0
    recovered: int = 0
    waiting: int = 0
    cancelled: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def __str__(self) -> str:
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(self.cancelled.items())) or "none"
        return (
            f"runner {self.runner}: {self.emitted} emitted, {sum(self.cancelled.values())} "
            f"cancelled ({reasons}), {self.recovered} recovered from the output, "
            f"{self.waiting} waiting for resolution, in {self.seconds:.1f} s"
        )


class _FileSink:
    """Appends lines to a file shared by runners, each action id at most once (see module)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.offset = 0
        self.seen: set[str] = set()
        self.partial = False

    def _scan(self) -> None:
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            try:
                self.seen.add(json.loads(line)["actionId"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn line of a crashed write: it was never a complete action
        self.offset += end
        self.partial = end < len(data)

    def write(self, lines: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
        """Append ``[(action id, json)]`` not yet in the file; returns (written, present)."""
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            self._scan()
            fresh = [(i, text) for i, text in lines if i not in self.seen]
            present = [i for i, _ in lines if i in self.seen]
            if fresh:
                data = ("\n" if self.partial else "") + "".join(t + "\n" for _, t in fresh)
                view = memoryview(data.encode())
                while view:
                    view = view[os.write(self.fd, view) :]
                os.fsync(self.fd)
                self._scan()
            return [i for i, _ in fresh], present
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)


class _StreamSink:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, lines: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
        self.stream.write("".join(t + "\n" for _, t in lines))
        self.stream.flush()
        return [i for i, _ in lines], []

    def close(self) -> None:
        pass


def run_journeys(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    out: Path | None,
    now: datetime | None = None,
    limit: int | None = None,
    batch_size: int = 500,
    lease_seconds: float = 300.0,
    runner_id: str | None = None,
    show_progress: bool = True,
    stream: IO[str] | None = None,
) -> RunReport:
    """Emit every action due at ``now`` (default the wall clock, read per batch) to ``out``
    (JSON Lines, appended; None for ``stream``, default stdout) and cancel those whose
    conditions no longer hold, until none is due or ``limit`` actions were handled.

    ``lease_seconds`` is how long a claimed batch stays this runner's (leases use the wall
    clock whatever ``now`` says); it must exceed the time a batch takes. Returns the
    :class:`RunReport`. Raises :class:`graph.errors.Neo4jError` when Neo4j fails (actions
    claimed then are taken over when their lease runs out; the guarantee above holds).
    """
    runner = runner_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    report = RunReport(runner)
    sink: _FileSink | _StreamSink = (
        _FileSink(out) if out is not None else _StreamSink(stream or sys.stdout)
    )
    started = datetime.now(UTC)
    waiting: list[str] = []
    handled = 0
    total = actions.due_count(driver, settings, now or started)
    bar = tqdm(
        total=total if limit is None else min(total, limit),
        desc="journey actions",
        unit=" actions",
        disable=None if show_progress else True,
        mininterval=0.5,
        file=sys.stderr,
    )
    try:
        while limit is None or handled < limit:
            clock = datetime.now(UTC)
            size = batch_size if limit is None else min(batch_size, limit - handled)
            claimed = actions.claim(
                driver,
                settings,
                runner,
                now=now or clock,
                clock=clock,
                lease_until=clock + timedelta(seconds=lease_seconds),
                limit=size,
                skip=waiting,
            )
            if not claimed:
                break
            found = actions.facts(driver, settings, [c.id for c in claimed])
            cancels: list[tuple[str, str, str | None]] = []
            lines: list[tuple[str, str]] = []
            persons: dict[str, str | None] = {}
            hold: list[str] = []
            at = datetime.now(UTC)
            for c in claimed:
                f = found[c.id]
                if f.trigger_exists and f.person_id is None:
                    hold.append(c.id)
                    continue
                reason = cancel_reason(c.channel, c.conditions, f)
                if reason is not None:
                    cancels.append((c.id, reason, f.person_id))
                    continue
                persons[c.id] = f.person_id
                to = {"EMAIL": f.email, "SMS": f.phone, "PHONE": f.phone}.get(c.channel)
                lines.append(
                    (
                        c.id,
                        json.dumps(
                            {
                                "actionId": c.id,
                                "journeyId": c.journey_id,
                                "journeyVersion": c.version,
                                "step": c.step,
                                "personId": f.person_id,
                                "channel": c.channel,
                                "template": c.template,
                                "to": to,
                                "dueAt": c.due_at,
                                "triggerType": c.trigger_type,
                                "triggerKey": c.trigger_key,
                                "emittedAt": at.isoformat(),
                                "runner": runner,
                            },
                            sort_keys=True,
                        ),
                    )
                )
            actions.cancel(driver, settings, runner, cancels, at=at)
            for _, reason, _ in cancels:
                report.cancelled[reason] += 1
            written, present = sink.write(lines)
            rows = [
                {"id": i, "personId": persons[i], "at": None, "recovered": False} for i in written
            ] + [{"id": i, "personId": persons[i], "at": None, "recovered": True} for i in present]
            actions.mark_emitted(driver, settings, runner, rows, at=at)
            report.emitted += len(written)
            report.recovered += len(present)
            actions.release(driver, settings, runner, hold)
            waiting.extend(hold)
            report.waiting += len(hold)
            handled += len(claimed)
            bar.update(len(claimed))
    finally:
        bar.close()
        sink.close()
        report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report
