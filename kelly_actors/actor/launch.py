"""What the supervisor hands a new actor process (local pipe, never a socket)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The file in the run directory that names the live supervisor (pid, run tag, endpoints).
SUPERVISOR_INFO = "supervisor.json"


@dataclass(frozen=True)
class RingAttachment:
    """One ring an actor uses: its segment and, for readers, the reader slot."""

    segment: str
    slot: int = 0


@dataclass(frozen=True)
class Launch:
    """Everything an actor process needs to join the run.

    Attributes:
        name: actor name.
        target: ``module:Class``.
        options: the actor's ``[actors.options]`` table.
        incarnation: 1 for the first start, +1 per restart.
        supervisor_pid: the supervisor; without one for ``adoption_grace`` s, the actor stops.
        endpoint: the supervisor's actor ROUTER endpoint.
        writes / reads: ring name → attachment.
        transport: transport block segment name.
        heartbeat_interval: seconds between heartbeats.
        cpu_affinity: CPUs to pin to (empty = any).
        nice: scheduling niceness to apply (0 = leave as is).
        restored_state: the last control state of the previous incarnation.
        record_dir: where to record the performance ("" = no recording).
        run_dir: the run directory (endpoints, event log, ``supervisor.json``).
        tag: the run's tag (a successor supervisor must name the same run).
        adoption_grace: seconds to play on without a supervisor, waiting for the next one
            to adopt this actor (0 = stop with the supervisor).
    """

    name: str
    target: str
    options: dict[str, Any]
    incarnation: int
    supervisor_pid: int
    endpoint: str
    transport: str
    writes: dict[str, RingAttachment] = field(default_factory=dict)
    reads: dict[str, RingAttachment] = field(default_factory=dict)
    heartbeat_interval: float = 0.2
    cpu_affinity: tuple[int, ...] = ()
    nice: int = 0
    restored_state: dict[str, Any] | None = None
    record_dir: str = ""
    run_dir: str = ""
    tag: str = ""
    adoption_grace: float = 0.0
