"""The actors' lives: queued starts in dependency order, exits, commanded stops, deadlines.

An exit the supervisor asked for (a restart command, a sibling's restart, shutdown) ends
as ``stopped`` and may start again at once; any other exit goes to the restart policy
(:mod:`.policy`). Deadlines are checked on every pass: no heartbeat for
``heartbeat_timeout`` (hung), not ready within ``start_timeout``, not stopped within
``shutdown_timeout``; each ends in SIGKILL, whose exit arrives through the process sentinel.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from kelly_actors.supervisor import child as cs
from kelly_actors.supervisor.child import Child, describe_exit
from kelly_actors.supervisor.policy import RestartPolicy
from kelly_actors.supervisor.spawner import Spawner


class Lifecycle:
    """Starts, stops and restarts the children of one run."""

    def __init__(
        self,
        children: dict[str, Child],
        order: list[str],
        policy: RestartPolicy,
        log: Callable[..., None],
        escalate: Callable[[str], None],
    ) -> None:
        self.children = children
        self.order = order
        self.policy = policy
        self.log = log
        self.escalate = escalate
        #: Set once the run has its namespace (see :meth:`Supervisor._open`).
        self.spawner: Spawner | None = None
        #: Names waiting to start, in start order.
        self.start_queue: list[str] = []
        #: Once the run is stopping, a commanded stop never restarts.
        self.stopping = False
        #: Called when a child starts or exits (the supervisor records it for a successor).
        self.changed: Callable[[], None] = lambda: None

    def pump_starts(self, now: float) -> None:
        """Start queued actors one at a time, in order, each after its deps are ready."""
        if any(c.state == cs.STARTING for c in self.children.values()):
            return
        for name in list(self.start_queue):
            child = self.children[name]
            if child.alive or now < child.restart_at:
                continue
            deps_ready = all(
                self.children[d].state in (cs.READY, cs.DEGRADED) for d in child.spec.depends_on
            )
            if not deps_ready:
                continue
            self.start_queue.remove(name)
            self._spawn(child, now)
            return

    def _spawn(self, child: Child, now: float) -> None:
        assert self.spawner is not None
        child.incarnation += 1
        proc = self.spawner.start(child)
        child.process = proc
        child.state = cs.STARTING
        child.started_at = now
        child.kill_reason = ""
        child.commanded = False
        child.degraded_reason = ""
        child.telemetry = {}
        self.changed()
        self.log("actor_spawned", actor=child.name, pid=proc.pid, incarnation=child.incarnation)

    def on_exit(self, child: Child) -> None:
        """``child``'s process ended: record why, then restart it or not."""
        proc = child.process
        assert proc is not None
        proc.join(0)
        code = proc.exitcode
        reason = child.kill_reason or describe_exit(code)
        proc.close()
        child.process = None
        self.after_exit(child, reason, crashed=code != 0 or bool(child.kill_reason))

    def after_exit(self, child: Child, reason: str, crashed: bool) -> None:
        """``child`` is gone (``process`` already None): a commanded stop ends or restarts
        as asked; anything else goes to the restart policy."""
        child.last_exit = reason
        now = time.monotonic()
        self.log("actor_exited", actor=child.name, reason=reason, commanded=child.commanded)
        self.changed()
        if child.commanded:
            child.state = cs.STOPPED
            if child.restart_after_stop and not self.stopping:
                child.restart_after_stop = False
                self.queue_start(child, now)
                self.log("actor_restarting", actor=child.name, delay_s=0.0, reason="commanded")
            return
        verdict = self.policy.on_exit(child, crashed, reason, now)
        if verdict.escalate:
            self.escalate(verdict.escalate)
        if not verdict.together:
            child.state = verdict.state
            return
        for name in verdict.together:
            other = self.children[name]
            if other is child:
                self.queue_start(other, now + verdict.delay)
            elif other.alive:
                self.stop(other, restart=True)
        self.log(
            "actor_restarting", actor=child.name, delay_s=round(verdict.delay, 3), reason=reason
        )

    def queue_start(self, child: Child, at: float) -> None:
        child.state = cs.RESTARTING
        child.restart_at = at
        child.restarts += 1
        if child.name not in self.start_queue:
            self.start_queue.append(child.name)
            self.start_queue.sort(key=self.order.index)

    def stop(self, child: Child, restart: bool) -> None:
        """Commanded stop: SIGTERM now, SIGKILL at the shutdown timeout (see :meth:`check`)."""
        if child.process is None:
            return
        child.commanded = True
        child.restart_after_stop = restart
        child.state = cs.STOPPING
        child.stop_deadline = time.monotonic() + child.spec.shutdown_timeout
        with contextlib.suppress(ProcessLookupError):
            child.process.terminate()

    def restart(self, name: str) -> None:
        """Commanded restart of one actor: not a crash, no backoff."""
        child = self.children[name]
        if child.alive:
            self.stop(child, restart=True)
        else:
            self.queue_start(child, time.monotonic())
        self.log("restart_requested", actor=name)

    def check(self, child: Child, now: float) -> None:
        """The deadlines: heartbeat (hung), start (never ready), stop (will not stop)."""
        spec = child.spec
        if child.state in (cs.READY, cs.DEGRADED):
            age = now - child.last_heartbeat
            if age > spec.heartbeat_timeout:
                child.kill(f"hung: no heartbeat for {age:.1f} s")
            else:
                self.policy.settle(child, now)
        elif child.state == cs.STARTING and now - child.started_at > spec.start_timeout:
            child.kill(f"not ready within {spec.start_timeout:g} s")
        elif child.state == cs.STOPPING and now > child.stop_deadline:
            child.kill(f"did not stop within {spec.shutdown_timeout:g} s")
