"""The supervisor: spawns actors, watches them, restarts them, serves requests.

One thread, one poll over the control ROUTER, the actor ROUTER, a signal self-pipe and every
actor's process sentinel (readable the moment the process dies). Nothing in the loop blocks:
backoff delays, shutdown timeouts, heartbeat deadlines and status publishing are checked on
each pass, and a pass happens at least every ``_TICK`` seconds.

Its parts: :mod:`.sockets` (the ZeroMQ ends), :mod:`.routing` (requests in, calls to actors
out), :mod:`.inbox` (what actors say), :mod:`.policy` (what an exit leads to),
:mod:`.spawner` (starting a process). The verbs it serves are handed to it
(:mod:`kelly_actors.verbs`), so it knows no verb by name.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import wait as wait_sentinels
from pathlib import Path
from typing import Any

from kelly_actors.bus import messages
from kelly_actors.bus.namespace import RunNamespace, sweep_dead_runs
from kelly_actors.bus.ring import Ring
from kelly_actors.bus.shm import SegmentError
from kelly_actors.bus.transport import Transport
from kelly_actors.config import performance
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.files import private_dir
from kelly_actors.supervisor.backoff import Backoff
from kelly_actors.supervisor.child import Child
from kelly_actors.supervisor.events import EventLog
from kelly_actors.supervisor.inbox import ActorInbox
from kelly_actors.supervisor.lifecycle import Lifecycle
from kelly_actors.supervisor.policy import RestartPolicy
from kelly_actors.supervisor.refusal import CommandError
from kelly_actors.supervisor.routing import CallRouter, Route
from kelly_actors.supervisor.rundir import RunDir, RunInfo
from kelly_actors.supervisor.sockets import SupervisorSockets
from kelly_actors.supervisor.spawner import Spawner, validate_actors
from kelly_actors.supervisor.status import build_snapshot, write_run_summary
from kelly_actors.supervisor.succession import AdoptionError, SuccessionRecord, restore

_TICK = 0.05
EXIT_OK, EXIT_ERROR, EXIT_ESCALATED = 0, 1, 3

#: How a verb is executed: ``(supervisor, args, route, request_id)`` → the result, or None
#: when the answer comes later; raises :class:`CommandError` to refuse.
Execute = Callable[["Supervisor", dict[str, Any], Route, str], "dict[str, Any] | None"]


class AlreadyRunning(RuntimeError):
    """Another live performance owns the run directory."""


class Supervisor:
    """Runs one performance graph until stopped, escalated or ``duration`` ends.

    What verbs may use: :attr:`children`, :attr:`order`, :attr:`settings`, :attr:`tag`,
    :meth:`snapshot`, :meth:`restart_actor`, :meth:`request_stop`, :meth:`forward_call`.
    """

    def __init__(
        self,
        config: PerformanceConfig,
        run_dir: RunDir,
        config_name: str,
        verbs: Mapping[str, Execute],
        successor_of: str | None = None,
        namespace: RunNamespace | None = None,
    ) -> None:
        """``successor_of``: how the previous supervisor of the run in ``run_dir`` ended, when
        this one is to adopt that run (see :mod:`.succession`); None starts a new run.
        ``namespace``: the run's names with their lock already held — by ``kelly run``'s
        watchdog, so that the run stays locked (never swept by another run) while no
        supervisor lives; None: this supervisor takes the lock itself."""
        # A standby that wants more CPUs than this process may use is left out.
        config = performance.for_cpus(config, len(os.sched_getaffinity(0)))
        self.config = config
        self.run_dir = run_dir
        self.config_name = config_name
        self.verbs = verbs
        self.settings = config.supervisor
        self.order = config.start_order()
        self.children = {
            s.name: Child(s, Backoff(self.settings.backoff_initial, self.settings.backoff_max))
            for s in config.actors
        }
        self.lifecycle = Lifecycle(
            self.children,
            self.order,
            RestartPolicy(self.settings, self.order),
            self.log,
            self._escalate,
        )
        self.started = time.monotonic()
        #: ``time.monotonic()`` at which the run ends by itself (``--duration``), or None.
        self.deadline: float | None = None
        #: Supervisors that took this run over from a dead one (0 for the first).
        self.successions = 0
        self.successor_of = successor_of
        self.succession = SuccessionRecord(run_dir.path)
        self.lifecycle.changed = self.succession.mark_changed
        self._opened = False
        self.exit_code = EXIT_OK
        self.exit_reason = ""
        self._next_status = 0.0
        self.namespace = namespace
        self.ns: RunNamespace | None = None
        self.rings: dict[str, Ring] = {}
        self.transport: Transport | None = None
        self.events: EventLog | None = None
        #: A recorded run's copy of the event log, beside the recording (kelly report).
        self.take_events: EventLog | None = None
        self.sockets = SupervisorSockets(run_dir, self.settings, self._remote_refused)
        self.router = CallRouter(config, self.children, self._serve, self.log)
        self.inbox = ActorInbox(config, self.children, self.router, self.restart_actor, self.log)

    # ------------------------------------------------------- what verbs use
    @property
    def tag(self) -> str:
        """The run's tag (empty before the run has its namespace)."""
        return self.ns.tag if self.ns is not None else ""

    @property
    def dropped_messages(self) -> int:
        return self.router.dropped + self.inbox.dropped

    def snapshot(self) -> dict[str, Any]:
        return build_snapshot(self, time.monotonic())

    def forward_call(
        self, actor: str, method: str, args: dict[str, Any], route: Route | None, request_id: str
    ) -> None:
        """See :meth:`CallRouter.forward_call`."""
        self.router.forward_call(actor, method, args, route, request_id)

    def restart_actor(self, name: str) -> None:
        """Commanded restart of one actor: not a crash, no backoff."""
        self.lifecycle.restart(name)

    def request_stop(self, reason: str) -> None:
        self.lifecycle.stopping = True
        self.exit_reason = reason

    def _serve(
        self, cmd: str, args: dict[str, Any], route: Route, request_id: str
    ) -> dict[str, Any] | None:
        execute = self.verbs.get(cmd)
        if execute is None:
            known = sorted(self.verbs)
            raise CommandError("unknown_command", f"unknown command {cmd!r}; known: {known}")
        return execute(self, args, route, request_id)

    # ------------------------------------------------------------------ setup
    def _open(self) -> None:
        validate_actors(self.config)
        if self.successor_of is not None:
            self._open_successor()
        else:
            self._open_new()
        self._opened = True

    def _open_new(self) -> None:
        running = self.run_dir.running()
        if running is not None:
            raise AlreadyRunning(
                f"a performance is already running in {self.run_dir.path} (pid {running.pid})"
            )
        private_dir(self.run_dir.path)
        self.events = EventLog(self.run_dir.events_path)
        self._open_take_log()
        swept = sweep_dead_runs()
        self.ns = self.namespace or RunNamespace.create()
        self.log("run_started", tag=self.ns.tag, pid=os.getpid(), config=self.config_name)
        if swept:
            self.log("swept_dead_runs", objects=swept)
        for decl in self.config.rings:
            self.rings[decl.name] = Ring.create(self.ns.segment_name(decl.name), decl.spec())
        self.transport = Transport.create(self.ns.segment_name("transport"))
        self.sockets.open()
        self.router.actor_socket = self.sockets.actors
        self.run_dir.publish(
            RunInfo(
                pid=os.getpid(),
                tag=self.ns.tag,
                control=self.sockets.control_endpoint,
                status=self.sockets.status_endpoint,
                actors=self.sockets.actors_endpoint,
                started=time.time(),
                config=self.config_name,
            )
        )
        self.lifecycle.spawner = Spawner(
            self.config, self.run_dir, self.ns, self.sockets.actors_endpoint
        )
        self.lifecycle.start_queue = list(self.order)

    def _open_successor(self) -> None:
        """Adopt the run whose supervisor died: its lock, segments, actors and records."""
        info = self.run_dir.read()
        if info is None:
            raise AdoptionError(f"no run to adopt in {self.run_dir.path}")
        private_dir(self.run_dir.path)
        if self.namespace is not None:
            if info.tag != self.namespace.tag:
                raise AdoptionError(f"{self.run_dir.path} names run {info.tag}, not ours")
            self.ns = self.namespace
        else:
            try:
                self.ns = RunNamespace.adopt(info.tag)
            except LookupError as exc:
                raise AdoptionError(str(exc)) from None
        record = self.succession.load(info.tag)
        self.events = EventLog(self.run_dir.events_path)
        self._open_take_log()
        try:
            for decl in self.config.rings:
                self.rings[decl.name] = Ring.attach(self.ns.segment_name(decl.name), decl.name)
            self.transport = Transport.attach(self.ns.segment_name("transport"))
        except SegmentError as exc:
            raise AdoptionError(f"run {info.tag}: {exc}") from None
        self.sockets.open()
        self.router.actor_socket = self.sockets.actors
        self.lifecycle.spawner = Spawner(
            self.config, self.run_dir, self.ns, self.sockets.actors_endpoint
        )
        outcome = restore(self, record, time.monotonic())
        # Published last: actors take the pid named here for their new supervisor.
        self.run_dir.publish(
            RunInfo(
                pid=os.getpid(),
                tag=info.tag,
                control=self.sockets.control_endpoint,
                status=self.sockets.status_endpoint,
                actors=self.sockets.actors_endpoint,
                started=info.started,
                config=self.config_name,
            )
        )
        self.log(
            "supervisor_adopted",
            pid=os.getpid(),
            previous_pid=info.pid,
            previous_exit=self.successor_of,
            successions=self.successions,
            **outcome,
        )

    def _remote_refused(self, address: str, reason: str) -> None:
        self.log("remote_refused", address=address, reason=reason)

    # -------------------------------------------------------------- main loop
    def run(self, duration: float | None = None, deadline: float | None = None) -> int:
        """Run until stopped, ``duration`` seconds pass or the ``time.monotonic()``
        ``deadline`` comes (a successor keeps its predecessor's); return the exit code.

        Raises ConfigError, AlreadyRunning or AdoptionError before anything is left running.
        """
        if deadline is None and duration is not None:
            deadline = time.monotonic() + duration
        self.deadline = deadline
        try:
            self._open()
        except BaseException:
            self._close()
            raise
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        old_wakeup = signal.set_wakeup_fd(self.sockets.wake_w)
        try:
            while not self.lifecycle.stopping:
                now = time.monotonic()
                if self.deadline is not None and now >= self.deadline:
                    self.request_stop("duration reached")
                    break
                self._loop_once(now)
        finally:
            self._shutdown()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.exit_code

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.lifecycle.stopping = True
        self.exit_reason = f"received {signal.Signals(signum).name}"

    def _loop_once(self, now: float) -> None:
        self.lifecycle.pump_starts(now)
        timeout = max(0.0, min(_TICK, self._next_status - now))
        sentinels = {c.process.sentinel: c for c in self.children.values() if c.process}
        events = self.sockets.poll(timeout, sentinels)
        for fd, child in sentinels.items():
            if fd in events:
                self.lifecycle.on_exit(child)
        if self.sockets.actors in events:
            self.inbox.drain(self.sockets.actors)
        for sock in self.sockets.request_sockets():
            if sock in events:
                self.router.drain_requests(sock)
        self._tick(time.monotonic())

    def _tick(self, now: float) -> None:
        for child in self.children.values():
            self.lifecycle.check(child, now)
        self.router.expire(now)
        self.succession.write_if_changed(self, now)
        if now >= self._next_status:
            self.publish("status", messages.make("status", snapshot=self.snapshot()))
            self._next_status = now + 1.0 / self.settings.status_hz

    def _escalate(self, reason: str) -> None:
        self.log("escalation", reason=reason)
        self.exit_code = EXIT_ESCALATED
        self.request_stop(f"escalated: {reason}")

    def _shutdown(self) -> None:
        """Stop every actor in reverse start order, then release the run."""
        final = self.snapshot() if self.sockets.is_open else None
        if self._opened:
            # A successor of a supervisor that dies from here on finishes the stop.
            self.succession.mark_changed()
            self.succession.write_if_changed(self, time.monotonic())
        for name in reversed(self.order):
            child = self.children[name]
            if child.process is None:
                continue
            self.lifecycle.stop(child, restart=False)
            proc = child.process
            if not wait_sentinels([proc.sentinel], child.spec.shutdown_timeout):
                child.kill(f"did not stop within {child.spec.shutdown_timeout:g} s")
                wait_sentinels([proc.sentinel], 5.0)
            self.lifecycle.on_exit(child)
        if final is not None and self.settings.record_dir:
            self._write_summary(final)
        self.log("run_stopped", reason=self.exit_reason, exit_code=self.exit_code)
        self.publish("status", messages.make("status", snapshot=self.snapshot()))
        self._close()

    def _write_summary(self, final: dict[str, Any]) -> None:
        record_dir = Path(self.settings.record_dir)
        try:
            write_run_summary(record_dir, final, self)
        except OSError as exc:  # a full disk, a directory refused: the run still ends well
            self.log("run_summary_unwritable", path=str(record_dir / "run.json"), error=str(exc))

    def _close(self) -> None:
        """Release whatever :meth:`_open` got; safe after a partial open."""
        for ring in self.rings.values():
            ring.close()
        self.rings.clear()
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        self.sockets.close()
        if self.ns is not None and self.successor_of is not None and not self._opened:
            self.ns.abandon()  # its actors may still play from these segments
            self.ns = None
        if self.ns is not None:
            self.run_dir.retract(self.ns.tag)
            self.succession.remove()
            self.ns.release()
            self.ns = None
        if self.events is not None:
            self.events.close()
            self.events = None
        if self.take_events is not None:
            self.take_events.close()
            self.take_events = None

    def _open_take_log(self) -> None:
        """A recorded run keeps its events beside the audio, MIDI and run.json, so the take
        is whole when the run directory (in /tmp, reused by the next run) is gone."""
        if not self.settings.record_dir:
            return
        path = Path(self.settings.record_dir) / "events.jsonl"
        try:
            private_dir(path.parent)
            self.take_events = EventLog(path)
        except OSError as exc:  # a refused directory: the run plays on, its log in run_dir
            self.log("take_log_stopped", error=str(exc))

    # ---------------------------------------------------------------- output
    def publish(self, topic: str, msg: messages.Message) -> None:
        self.sockets.publish(topic, msg)

    def log(self, event: str, **detail: Any) -> None:
        """Write ``event`` to the run's event log and publish it on topic ``event``."""
        if self.events is None:
            return
        record = self.events.write(event, **detail)
        if self.take_events is not None:
            try:
                self.take_events.append(record)
            except OSError as exc:  # a full disk: the run's own log goes on
                self.take_events.close()
                self.take_events = None
                self.log("take_log_stopped", error=str(exc))
        if self.sockets.is_open:
            msg = messages.make("log", time=record["time"], event=event, detail=record["detail"])
            self.publish("event", msg)


def run_performance(
    config: PerformanceConfig,
    run_dir: RunDir,
    config_name: str,
    verbs: Mapping[str, Execute],
    deadline: float | None = None,
    successor_of: str | None = None,
    namespace: RunNamespace | None = None,
) -> int:
    """Build, run and tear down one supervisor serving ``verbs`` (``kelly run``'s watchdog
    calls it in each supervisor process it starts; see :mod:`.watchdog`).

    ``deadline``: the ``time.monotonic()`` at which the run ends, or None. ``successor_of``
    and ``namespace``: see :class:`Supervisor`. Everything the run creates (sockets, the event
    log, recordings, ``run.json``) is the user's alone: the umask set here reaches every actor,
    forked after it.
    """
    os.umask(0o077)
    supervisor = Supervisor(config, run_dir, config_name, verbs, successor_of, namespace)
    return supervisor.run(deadline=deadline)
