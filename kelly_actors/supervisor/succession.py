"""What a successor supervisor needs to adopt a live run, kept in ``supervision.json``.

The supervisor rewrites the record (atomically, 0600, in the private run directory) right
after every start and exit of an actor and otherwise whenever it changed, at most every
:data:`RECORD_INTERVAL` seconds. After its death the watchdog's next supervisor reads it and
takes over: each actor's pid (checked against its start time, so a reused pid is never
adopted), incarnation, state, restart count, backoff, last declared control state, the
queue of actors waiting to start, the restart-intensity window and the run's deadline.
Times are ``time.monotonic()`` seconds, one clock for every process of the machine.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kelly_actors.files import atomic_write
from kelly_actors.supervisor import child as cs
from kelly_actors.supervisor.adopted import AdoptedProcess, create_time

if TYPE_CHECKING:
    from kelly_actors.supervisor.child import Child
    from kelly_actors.supervisor.supervisor import Supervisor

RECORD_NAME = "supervision.json"
RECORD_VERSION = 1
#: Seconds between two checks whether the record changed.
RECORD_INTERVAL = 0.1
#: Why an actor that died while no supervisor watched is restarted.
DIED_UNSUPERVISED = "exited while no supervisor watched"

_CHILD_FIELDS = (
    "incarnation",
    "restarts",
    "state",
    "saved_state",
    "started_at",
    "ready_at",
    "degraded_reason",
    "last_exit",
    "restart_at",
    "commanded",
    "restart_after_stop",
)


class AdoptionError(RuntimeError):
    """The run cannot be adopted (no record, another run's record, run gone)."""


def _child_record(child: Child, pids: dict[int, float]) -> dict[str, Any]:
    record = {f: getattr(child, f) for f in _CHILD_FIELDS}
    pid = child.pid
    if pid is not None and pid not in pids:
        pids[pid] = create_time(pid)
    record["pid"] = pid
    record["create_time"] = pids.get(pid, 0.0) if pid is not None else 0.0
    record["backoff_failures"] = child.backoff.failures
    return record


class SuccessionRecord:
    """Writes ``supervision.json`` for one supervisor; reads it for the next."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / RECORD_NAME
        self._written = ""
        self._next_check = 0.0
        self._dirty = True
        self._start_times: dict[int, float] = {}

    def mark_changed(self) -> None:
        """A child started or exited: write on the next :meth:`write_if_changed` at once."""
        self._dirty = True

    def write_if_changed(self, sup: Supervisor, now: float) -> None:
        if not self._dirty and now < self._next_check:
            return
        self._next_check = now + RECORD_INTERVAL
        self._dirty = False
        text = json.dumps(self.snapshot(sup), sort_keys=True, default=str)
        if text == self._written:
            return
        try:
            atomic_write(self.path, text, mode=0o600)
        except OSError as exc:
            # A full disk must not stop the run; a successor would have to give up.
            if self._written != "unwritable":
                sup.log("succession_record_unwritable", path=str(self.path), error=str(exc))
            self._written = "unwritable"
            return
        self._written = text

    def snapshot(self, sup: Supervisor) -> dict[str, Any]:
        alive = {c.pid for c in sup.children.values() if c.pid is not None}
        self._start_times = {p: t for p, t in self._start_times.items() if p in alive}
        return {
            "v": RECORD_VERSION,
            "tag": sup.tag,
            "started": sup.started,
            "deadline": sup.deadline,
            "successions": sup.successions,
            "stopping": sup.lifecycle.stopping,
            "exit_reason": sup.exit_reason,
            "start_queue": list(sup.lifecycle.start_queue),
            "intensity": list(sup.lifecycle.policy.intensity.times),
            "children": {
                name: _child_record(c, self._start_times) for name, c in sup.children.items()
            },
        }

    def load(self, tag: str) -> dict[str, Any]:
        """The record of run ``tag``; raises :class:`AdoptionError` when there is none."""
        try:
            record = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise AdoptionError(f"no readable {self.path}: {exc}") from None
        if not isinstance(record, dict) or record.get("v") != RECORD_VERSION:
            raise AdoptionError(f"{self.path} is not a version {RECORD_VERSION} record")
        if record.get("tag") != tag:
            raise AdoptionError(f"{self.path} describes run {record.get('tag')}, not {tag}")
        return record

    def remove(self) -> None:
        """The run ended: nothing is left to adopt."""
        self.path.unlink(missing_ok=True)
        self._written = ""


def restore(sup: Supervisor, record: dict[str, Any], now: float) -> dict[str, list[str]]:
    """Take over ``record``'s actors into ``sup``; return the names adopted, lost and
    waiting (lost actors go to the restart policy as crashes)."""
    sup.started = float(record["started"])
    sup.deadline = record["deadline"]
    sup.successions = int(record["successions"]) + 1
    sup.lifecycle.policy.intensity.times = deque(float(t) for t in record["intensity"])
    sup.lifecycle.start_queue = [n for n in record["start_queue"] if n in sup.children]
    outcome: dict[str, list[str]] = {"adopted": [], "lost": [], "waiting": []}
    lost: list[Child] = []
    for name, saved in record["children"].items():
        child = sup.children.get(name)
        if child is None:
            continue
        for field in _CHILD_FIELDS:
            setattr(child, field, saved[field])
        child.backoff.failures = int(saved["backoff_failures"])
        child.last_heartbeat = now  # a full heartbeat timeout to speak to its new supervisor
        if saved["pid"] is not None:
            try:
                child.process = AdoptedProcess(int(saved["pid"]), float(saved["create_time"]))
                outcome["adopted"].append(name)
                continue
            except (ProcessLookupError, OSError):
                lost.append(child)
        elif child.state == cs.RESTARTING or name in sup.lifecycle.start_queue:
            outcome["waiting"].append(name)
    if record["stopping"]:
        sup.request_stop(record["exit_reason"] or "stopping when the previous supervisor died")
    for child in lost:
        outcome["lost"].append(child.name)
        sup.lifecycle.after_exit(child, DIED_UNSUPERVISED, crashed=True)
    for child in sup.children.values():
        if child.process is not None and child.state == cs.STOPPING:
            sup.lifecycle.stop(child, restart=child.restart_after_stop)
    return outcome
