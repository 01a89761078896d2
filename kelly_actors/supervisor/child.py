"""What the supervisor knows about one actor between its incarnations."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from kelly_actors.config.performance import ChildSpec
from kelly_actors.supervisor.adopted import AdoptedProcess
from kelly_actors.supervisor.backoff import Backoff

STARTING, READY, DEGRADED, RESTARTING, STOPPING, STOPPED, FAILED = (
    "starting",
    "ready",
    "degraded",
    "restarting",
    "stopping",
    "stopped",
    "failed",
)
RUNNING_STATES = (STARTING, READY, DEGRADED, STOPPING)


def describe_exit(code: int | None) -> str:
    """A readable exit reason from a process exit code (None: an adopted process, whose
    status went to the watchdog that reaped it)."""
    if code is None:
        return "exited while adopted (exit status unknown)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    if code == 0:
        return "exited cleanly"
    if code == 78:
        return "bad configuration (exit 78)"
    return f"exit code {code}"


@dataclass
class Child:
    """Runtime record of one actor (times are ``time.monotonic()`` seconds).

    Attributes:
        kill_reason: why the supervisor killed the current incarnation, if it did.
        commanded: the current stop was asked for (restart command, shutdown,
            a sibling's restart), so its exit is not a crash.
        restart_after_stop: start again once the commanded stop completes.
        restart_at: earliest time a queued start may happen (backoff).
        saved_state: the control state the actor last declared; handed to
            the next incarnation.
    """

    spec: ChildSpec
    backoff: Backoff
    process: BaseProcess | AdoptedProcess | None = None
    state: str = STOPPED
    incarnation: int = 0
    restarts: int = 0
    last_exit: str = ""
    started_at: float = 0.0
    ready_at: float = 0.0
    last_heartbeat: float = 0.0
    telemetry: dict[str, Any] = field(default_factory=dict)
    saved_state: dict[str, Any] | None = None
    degraded_reason: str = ""
    kill_reason: str = ""
    commanded: bool = False
    restart_after_stop: bool = False
    restart_at: float = 0.0
    stop_deadline: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None

    def kill(self, reason: str) -> None:
        """SIGKILL the current incarnation once; its exit arrives via the sentinel."""
        if self.process is not None and not self.kill_reason:
            self.kill_reason = reason
            self.process.kill()
