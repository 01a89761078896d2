"""The supervisor: spawns actors, watches them, restarts them, serves commands.

One thread, one ``zmq.Poller`` over the command ROUTER, the actor ROUTER, a
signal self-pipe and every actor's process sentinel (readable the moment the
process dies). Nothing in the loop blocks: backoff delays, shutdown timeouts,
heartbeat deadlines and status publishing are checked on each pass, and a
pass happens at least every ``_TICK`` seconds.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_sentinels
from pathlib import Path
from typing import Any

import zmq

from kelly_actors.actor import runtime
from kelly_actors.actor.launch import Launch, RingAttachment
from kelly_actors.bus import curve, messages
from kelly_actors.bus.namespace import RunNamespace, sweep_dead_runs
from kelly_actors.bus.ring import Ring
from kelly_actors.bus.transport import Transport
from kelly_actors.config import performance
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.supervisor import child as cs
from kelly_actors.supervisor.backoff import Backoff
from kelly_actors.supervisor.child import Child, describe_exit
from kelly_actors.supervisor.commands import CommandError, dispatch
from kelly_actors.supervisor.events import EventLog
from kelly_actors.supervisor.intensity import RestartIntensity
from kelly_actors.supervisor.rundir import RunDir, RunInfo
from kelly_actors.supervisor.status import build_snapshot, write_run_summary
from kelly_actors.supervisor.strategy import restart_set

_TICK = 0.05
CALL_TIMEOUT = 5.0
EXIT_OK, EXIT_ERROR, EXIT_ESCALATED = 0, 1, 3


class AlreadyRunning(RuntimeError):
    """Another live performance owns the run directory."""


@dataclass(frozen=True)
class _Route:
    """Where a reply goes: the socket a request came in on and its routing frames."""

    socket: zmq.Socket
    frames: list[bytes]


@dataclass
class _PendingCall:
    """A call forwarded to an actor. ``client`` is None for the copy a standby gets
    (nobody waits for it); ``method``/``args`` go to the actor's standbys once the
    actor has answered."""

    client: _Route | None
    request_id: str
    actor: str
    deadline: float
    method: str = ""
    args: dict[str, Any] | None = None


def validate_actors(config: PerformanceConfig) -> None:
    """Import every actor class, check its options and run its preflight,
    before anything starts."""
    for spec in config.actors:
        cls = runtime.load_actor_class(spec.target)
        options = from_mapping(cls.Config, spec.options, f"actors.{spec.name}.options")
        rings = {
            r.name: r.spec()
            for r in config.rings
            if r.writer == spec.name or spec.name in r.readers
        }
        try:
            cls.preflight(options, rings)
        except ConfigError as exc:
            raise ConfigError(f"actors.{spec.name}: {exc}") from None


class Supervisor:
    """Runs one performance graph until stopped, escalated or ``duration`` ends."""

    def __init__(self, config: PerformanceConfig, run_dir: RunDir, config_name: str) -> None:
        # A standby that wants more CPUs than this process may use is left out.
        config = performance.for_cpus(config, len(os.sched_getaffinity(0)))
        self.config = config
        self.run_dir = run_dir
        self.config_name = config_name
        self.settings = config.supervisor
        self.order = config.start_order()
        self.children = {
            s.name: Child(s, Backoff(self.settings.backoff_initial, self.settings.backoff_max))
            for s in config.actors
        }
        self.intensity = RestartIntensity(self.settings.max_restarts, self.settings.max_seconds)
        self.started = time.monotonic()
        self.exit_code = EXIT_OK
        self.exit_reason = ""
        self._stop_requested = False
        self._start_queue: list[str] = []
        self._pending_calls: dict[str, _PendingCall] = {}
        self._next_status = 0.0
        self.dropped_messages = 0
        self.ns: RunNamespace | None = None
        self.rings: dict[str, Ring] = {}
        self.transport: Transport | None = None
        self.events: EventLog | None = None
        self.zctx: zmq.Context | None = None
        self._sockets: list[zmq.Socket] = []
        self._pipe: tuple[int, int] | None = None
        self.control_remote: zmq.Socket | None = None
        self.pub_remote: zmq.Socket | None = None
        self.auth: curve.Authenticator | None = None

    # ------------------------------------------------------------------ setup
    def _open(self) -> None:
        validate_actors(self.config)
        running = self.run_dir.running()
        if running is not None:
            raise AlreadyRunning(
                f"a performance is already running in {self.run_dir.path} (pid {running.pid})"
            )
        self.run_dir.path.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(self.run_dir.events_path)
        swept = sweep_dead_runs()
        self.ns = RunNamespace.create()
        self.log("run_started", tag=self.ns.tag, pid=os.getpid(), config=self.config_name)
        if swept:
            self.log("swept_dead_runs", objects=swept)
        for decl in self.config.rings:
            self.rings[decl.name] = Ring.create(self.ns.segment_name(decl.name), decl.spec())
        self.transport = Transport.create(self.ns.segment_name("transport"))
        self._open_sockets()
        self.run_dir.publish(
            RunInfo(
                pid=os.getpid(),
                tag=self.ns.tag,
                control=self.control_endpoint,
                status=self.status_endpoint,
                actors=self.actors_endpoint,
                started=time.time(),
                config=self.config_name,
            )
        )
        modules = sorted({s.target.partition(":")[0] for s in self.config.actors})
        self.mp = multiprocessing.get_context("forkserver")
        # Each child re-runs the main module (multiprocessing does, to find pickled
        # functions): preloading every project module this process has imported
        # makes that nearly free. The main module itself must not be preloaded
        # (runpy would warn that it is already imported).
        main = getattr(sys.modules["__main__"].__spec__, "name", None)
        loaded = sorted(m for m in sys.modules if m.startswith("kelly_actors.") and m != main)
        preload = ["kelly_actors.actor.runtime", *modules, *loaded]
        self.mp.set_forkserver_preload([*preload, "kelly_actors.actor.forkserver_freeze"])

    def _socket(self, kind: int) -> zmq.Socket:
        sock = self.zctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, messages.SOCKET_MAX_MESSAGE_BYTES)
        return sock

    def _open_sockets(self) -> None:
        self.zctx = zmq.Context()
        self.control_endpoint = self.run_dir.ipc_endpoint("control")
        self.status_endpoint = self.run_dir.ipc_endpoint("status")
        self.actors_endpoint = self.run_dir.ipc_endpoint("actors")
        self.control = self._socket(zmq.ROUTER)
        self.actor_sock = self._socket(zmq.ROUTER)
        self.pub = self._socket(zmq.PUB)
        self._sockets = [self.control, self.actor_sock, self.pub]
        self.pub.setsockopt(zmq.SNDHWM, 100)
        self.control.bind(self.control_endpoint)
        self.actor_sock.bind(self.actors_endpoint)
        self.pub.bind(self.status_endpoint)
        if self.settings.remote_control or self.settings.remote_status:
            self._open_remote()
        self.wake_r, self.wake_w = self._pipe = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.poller = zmq.Poller()
        self.poller.register(self.control, zmq.POLLIN)
        self.poller.register(self.actor_sock, zmq.POLLIN)
        self.poller.register(self.wake_r, zmq.POLLIN)
        for sock in (self.control_remote, self.auth.socket if self.auth else None):
            if sock is not None:
                self.poller.register(sock, zmq.POLLIN)

    def _open_remote(self) -> None:
        """CURVE-only TCP twins of the control ROUTER and the status PUB."""
        keys = Path(self.settings.keys_dir)
        try:
            self.auth = curve.Authenticator(self.zctx, keys, self._remote_refused)
        except curve.KeyError_ as exc:
            raise ConfigError(f"supervisor.keys_dir: {exc}") from None
        self._sockets.append(self.auth.socket)
        for endpoint, kind in (
            (self.settings.remote_control, zmq.ROUTER),
            (self.settings.remote_status, zmq.PUB),
        ):
            if not endpoint:
                continue
            sock = self._socket(kind)
            self._sockets.append(sock)
            curve.make_server(sock, keys)
            try:
                sock.bind(endpoint)
            except zmq.ZMQError as exc:
                raise ConfigError(f"cannot bind {endpoint}: {exc}") from None
            if kind == zmq.ROUTER:
                self.control_remote = sock
            else:
                self.pub_remote = sock

    def _remote_refused(self, address: str, reason: str) -> None:
        self.log("remote_refused", address=address, reason=reason)

    # -------------------------------------------------------------- main loop
    def run(self, duration: float | None = None) -> int:
        """Run until stopped; return the process exit code.

        Raises ConfigError or AlreadyRunning before anything is left running.
        """
        try:
            self._open()
        except BaseException:
            self._close()
            raise
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        old_wakeup = signal.set_wakeup_fd(self.wake_w)
        try:
            self._start_queue = list(self.order)
            end = None if duration is None else time.monotonic() + duration
            while not self._stop_requested:
                now = time.monotonic()
                if end is not None and now >= end:
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
        self._stop_requested = True
        self.exit_reason = f"received {signal.Signals(signum).name}"

    def _loop_once(self, now: float) -> None:
        self._pump_starts(now)
        timeout = max(0.0, min(_TICK, self._next_status - now))
        sentinels = {c.process.sentinel: c for c in self.children.values() if c.process}
        for fd in sentinels:
            self.poller.register(fd, zmq.POLLIN)
        try:
            events = dict(self.poller.poll(int(timeout * 1000)))
        finally:
            for fd in sentinels:
                self.poller.unregister(fd)
        if self.wake_r in events:
            with contextlib.suppress(BlockingIOError):
                os.read(self.wake_r, 512)
        for fd, child in sentinels.items():
            if fd in events:
                self._on_exit(child)
        if self.actor_sock in events:
            self._drain_actor_messages()
        if self.control in events:
            self._drain_requests(self.control)
        if self.control_remote is not None and self.control_remote in events:
            self._drain_requests(self.control_remote)
        if self.auth is not None and self.auth.socket in events:
            self.auth.serve()
        self._tick(time.monotonic())

    def _tick(self, now: float) -> None:
        for child in self.children.values():
            self._check_child(child, now)
        for call_id, pending in list(self._pending_calls.items()):
            if now > pending.deadline:
                del self._pending_calls[call_id]
                err = {"code": "timeout", "message": f"{pending.actor} did not answer in time"}
                if pending.client is None:
                    self.log("standby_call_failed", actor=pending.actor, error=err["message"])
                else:
                    self._reply(pending.client, messages.error_reply(pending.request_id, err))
        if now >= self._next_status:
            self.publish("status", messages.make("status", snapshot=self.snapshot()))
            self._next_status = now + 1.0 / self.settings.status_hz

    def _check_child(self, child: Child, now: float) -> None:
        spec = child.spec
        if child.state in (cs.READY, cs.DEGRADED):
            age = now - child.last_heartbeat
            if age > spec.heartbeat_timeout:
                child.kill(f"hung: no heartbeat for {age:.1f} s")
            elif child.backoff.failures and now - child.ready_at > self.settings.stable_after:
                child.backoff.reset()
        elif child.state == cs.STARTING and now - child.started_at > spec.start_timeout:
            child.kill(f"not ready within {spec.start_timeout:g} s")
        elif child.state == cs.STOPPING and now > child.stop_deadline:
            child.kill(f"did not stop within {spec.shutdown_timeout:g} s")

    # ------------------------------------------------------------- lifecycle
    def _pump_starts(self, now: float) -> None:
        """Start queued actors one at a time, in order, each after its deps are ready."""
        if any(c.state == cs.STARTING for c in self.children.values()):
            return
        for name in list(self._start_queue):
            child = self.children[name]
            if child.alive or now < child.restart_at:
                continue
            deps_ready = all(
                self.children[d].state in (cs.READY, cs.DEGRADED) for d in child.spec.depends_on
            )
            if not deps_ready:
                continue
            self._start_queue.remove(name)
            self._spawn(child, now)
            return

    def _spawn(self, child: Child, now: float) -> None:
        assert self.ns is not None
        child.incarnation += 1
        launch = Launch(
            name=child.name,
            target=child.spec.target,
            options=child.spec.options,
            incarnation=child.incarnation,
            supervisor_pid=os.getpid(),
            endpoint=self.actors_endpoint,
            transport=self.ns.segment_name("transport"),
            writes={
                r.name: RingAttachment(self.ns.segment_name(r.name))
                for r in self.config.rings
                if r.writer == child.name
            },
            reads={
                r.name: RingAttachment(self.ns.segment_name(r.name), r.readers.index(child.name))
                for r in self.config.rings
                if child.name in r.readers
            },
            heartbeat_interval=child.spec.heartbeat_interval,
            cpu_affinity=child.spec.cpu_affinity,
            nice=child.spec.nice,
            restored_state=child.saved_state,
            record_dir=self.settings.record_dir,
            run_dir=str(self.run_dir.path.resolve()),
        )
        proc = self.mp.Process(target=runtime.main, args=(launch,), name=f"kelly-{child.name}")
        proc.start()
        child.process = proc
        child.state = cs.STARTING
        child.started_at = now
        child.kill_reason = ""
        child.commanded = False
        child.degraded_reason = ""
        child.telemetry = {}
        self.log("actor_spawned", actor=child.name, pid=proc.pid, incarnation=child.incarnation)

    def _on_exit(self, child: Child) -> None:
        proc = child.process
        assert proc is not None
        proc.join(0)
        reason = child.kill_reason or describe_exit(proc.exitcode)
        code = proc.exitcode
        proc.close()
        child.process = None
        child.last_exit = reason
        now = time.monotonic()
        self.log("actor_exited", actor=child.name, reason=reason, commanded=child.commanded)
        if child.commanded:
            child.state = cs.STOPPED
            if child.restart_after_stop and not self._stop_requested:
                child.restart_after_stop = False
                self._queue_start(child, now)
                self.log("actor_restarting", actor=child.name, delay_s=0.0, reason="commanded")
            return
        crashed = code != 0 or bool(child.kill_reason)
        restart = child.spec.restart
        if restart == "temporary" or (restart == "transient" and not crashed):
            child.state = cs.FAILED if crashed else cs.STOPPED
            return
        if not self.intensity.allow(now):
            self._escalate(
                f"{child.name}: {self.intensity.recent} restarts within "
                f"{self.settings.max_seconds:g} s (max {self.settings.max_restarts}); "
                f"last: {reason}"
            )
            child.state = cs.FAILED
            return
        delay = child.backoff.next_delay()
        for name in restart_set(self.settings.strategy, child.name, self.order):
            other = self.children[name]
            if other is child:
                other.state = cs.RESTARTING
                self._queue_start(other, now + delay)
            elif other.alive:
                self._stop_child(other, restart=True)
        self.log("actor_restarting", actor=child.name, delay_s=round(delay, 3), reason=reason)

    def _queue_start(self, child: Child, at: float) -> None:
        child.state = cs.RESTARTING
        child.restart_at = at
        child.restarts += 1
        if child.name not in self._start_queue:
            self._start_queue.append(child.name)
            self._start_queue.sort(key=self.order.index)

    def _stop_child(self, child: Child, restart: bool) -> None:
        """Commanded stop: SIGTERM now, SIGKILL at the shutdown timeout (see _check_child)."""
        if child.process is None:
            return
        child.commanded = True
        child.restart_after_stop = restart
        child.state = cs.STOPPING
        child.stop_deadline = time.monotonic() + child.spec.shutdown_timeout
        with contextlib.suppress(ProcessLookupError):
            child.process.terminate()

    def restart_actor(self, name: str) -> None:
        """Commanded restart of one actor: not a crash, no backoff."""
        child = self.children[name]
        if child.alive:
            self._stop_child(child, restart=True)
        else:
            self._queue_start(child, time.monotonic())
        self.log("restart_requested", actor=name)

    def request_stop(self, reason: str) -> None:
        self._stop_requested = True
        self.exit_reason = reason

    def _escalate(self, reason: str) -> None:
        self.log("escalation", reason=reason)
        self.exit_code = EXIT_ESCALATED
        self.request_stop(f"escalated: {reason}")

    def _shutdown(self) -> None:
        """Stop every actor in reverse start order, then release the run."""
        final = self.snapshot() if self._sockets else None
        for name in reversed(self.order):
            child = self.children[name]
            if child.process is None:
                continue
            self._stop_child(child, restart=False)
            proc = child.process
            if not wait_sentinels([proc.sentinel], child.spec.shutdown_timeout):
                child.kill(f"did not stop within {child.spec.shutdown_timeout:g} s")
                wait_sentinels([proc.sentinel], 5.0)
            self._on_exit(child)
        self.log("run_stopped", reason=self.exit_reason, exit_code=self.exit_code)
        if final is not None and self.settings.record_dir:
            write_run_summary(Path(self.settings.record_dir), final, self)
        self.publish("status", messages.make("status", snapshot=self.snapshot()))
        self._close()

    def _close(self) -> None:
        """Release whatever :meth:`_open` got; safe after a partial open."""
        for ring in self.rings.values():
            ring.close()
        self.rings.clear()
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        for sock in self._sockets:
            sock.close(linger=0)
        self._sockets = []
        if self.zctx is not None:
            self.zctx.term()
            self.zctx = None
        if self._pipe is not None:
            for fd in self._pipe:
                os.close(fd)
            self._pipe = None
        if self.ns is not None:
            self.run_dir.retract(self.ns.tag)
            self.ns.release()
            self.ns = None
        if self.events is not None:
            self.events.close()
            self.events = None

    # -------------------------------------------------------------- messages
    def _drain_actor_messages(self) -> None:
        while True:
            try:
                frames = self.actor_sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            identity, payload = frames[0], frames[1:]
            try:
                msg = messages.decode(payload)
            except messages.ProtocolError as exc:
                self.dropped_messages += 1
                self.log(
                    "bad_actor_message", identity=identity.decode(errors="replace"), error=str(exc)
                )
                continue
            self._on_actor_message(identity, msg)

    def _on_actor_message(self, identity: bytes, msg: messages.Message) -> None:
        if msg.type == "reply":
            pending = self._pending_calls.pop(msg["id"], None)
            if pending is not None:
                self._on_call_reply(pending, msg)
            return
        name, _, inc = identity.decode(errors="replace").rpartition(":")
        child = self.children.get(name)
        if child is None or msg.get("actor") != name or str(msg.get("incarnation")) != inc:
            self.dropped_messages += 1
            return
        if msg["incarnation"] != child.incarnation:
            return  # a previous incarnation's last words
        now = time.monotonic()
        if msg.type == "ready":
            child.state = cs.DEGRADED if child.degraded_reason else cs.READY
            child.ready_at = child.last_heartbeat = now
            self.log("actor_ready", actor=name, pid=msg["pid"], incarnation=child.incarnation)
        elif msg.type == "heartbeat":
            child.last_heartbeat = now
            child.telemetry = msg["telemetry"]
        elif msg.type == "state":
            child.saved_state = msg["state"]
        elif msg.type == "health":
            child.degraded_reason = msg["reason"] if msg["degraded"] else ""
            if child.state in (cs.READY, cs.DEGRADED):
                child.state = cs.DEGRADED if msg["degraded"] else cs.READY
            self.log("actor_health", actor=name, degraded=msg["degraded"], reason=msg["reason"])
        elif msg.type == "event":
            self.log(msg["event"], actor=name, **(msg.get("detail") or {}))
        elif msg.type == "replace":
            self._replace_writer(name, msg["ring"], msg["reason"])
        else:
            self.dropped_messages += 1

    def _replace_writer(self, asker: str, ring: str, reason: str) -> None:
        """``asker`` found the writer of ``ring`` unfit (a standby whose blocks diverge):
        a commanded restart of that writer, never of the asker itself."""
        decl = next((r for r in self.config.rings if r.name == ring), None)
        if decl is None or asker not in decl.readers or decl.writer == asker:
            self.log("bad_replace_request", actor=asker, ring=ring)
            return
        self.log("replace_requested", actor=decl.writer, by=asker, ring=ring, reason=reason)
        self.restart_actor(decl.writer)

    def _drain_requests(self, sock: zmq.Socket) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            # DEALER clients send [id, payload…]; REQ clients add an empty delimiter.
            split = 2 if len(frames) > 1 and frames[1] == b"" else 1
            route = _Route(sock, frames[:split])
            self._on_request(route, frames[split:])

    def _on_request(self, route: _Route, payload: list[bytes]) -> None:
        try:
            msg = messages.decode(payload)
            if msg.type != "request":
                raise messages.ProtocolError("invalid", f"expected a request, got {msg.type!r}")
        except messages.ProtocolError as exc:
            self.dropped_messages += 1
            self._reply(route, messages.error_reply("", exc))
            return
        self.log("command", cmd=msg["cmd"], args=msg.get("args") or {})
        try:
            result = dispatch(self, msg["cmd"], msg.get("args") or {}, route, msg["id"])
        except CommandError as exc:
            self._reply(route, messages.error_reply(msg["id"], exc.as_error()))
            return
        if result is not None:
            self._reply(route, messages.ok_reply(msg["id"], result))

    def _reply(self, route: _Route, msg: messages.Message) -> None:
        with contextlib.suppress(zmq.ZMQError):
            route.socket.send_multipart([*route.frames, *messages.encode(msg)], flags=zmq.NOBLOCK)

    def forward_call(
        self,
        actor: str,
        method: str,
        args: dict[str, Any],
        route: _Route | None,
        request_id: str,
    ) -> None:
        """Send ``method`` to ``actor``; its reply goes back to the client on ``route``
        (None: to nobody), and the same call to its standbys (``twin_of``) with the
        actor's result as ``args["primary_result"]``, so they act on the same sample."""
        child = self.children[actor]
        call_id = uuid.uuid4().hex
        self._pending_calls[call_id] = _PendingCall(
            route, request_id, actor, time.monotonic() + CALL_TIMEOUT, method, args
        )
        identity = f"{actor}:{child.incarnation}".encode()
        call = messages.make("call", id=call_id, method=method, args=args)
        self.actor_sock.send_multipart([identity, *messages.encode(call)], flags=zmq.NOBLOCK)

    def _on_call_reply(self, pending: _PendingCall, msg: messages.Message) -> None:
        if pending.client is None:  # a standby's copy
            if not msg["ok"]:
                error = msg.get("error") or {}
                self.log("standby_call_failed", actor=pending.actor, error=error.get("message"))
            return
        self._reply(
            pending.client, messages.Message("reply", dict(msg.fields, id=pending.request_id))
        )
        if not msg["ok"]:
            return
        for twin in performance.twins(self.config, pending.actor):
            if self.children[twin].state in (cs.READY, cs.DEGRADED):
                args = {**(pending.args or {}), "primary_result": msg.get("result") or {}}
                self.forward_call(twin, pending.method, args, None, "")

    def publish(self, topic: str, msg: messages.Message) -> None:
        frames = [topic.encode(), *messages.encode(msg)]
        for pub in (self.pub, self.pub_remote):
            if pub is not None:
                with contextlib.suppress(zmq.ZMQError):
                    pub.send_multipart(frames, flags=zmq.NOBLOCK)

    def log(self, event: str, **detail: Any) -> None:
        if self.events is None:
            return
        record = self.events.write(event, **detail)
        if self._sockets:
            msg = messages.make("log", time=record["time"], event=event, detail=record["detail"])
            self.publish("event", msg)

    def snapshot(self) -> dict[str, Any]:
        return build_snapshot(self, time.monotonic())


def run_performance(
    config: PerformanceConfig, run_dir: RunDir, config_name: str, duration: float | None
) -> int:
    """Entry for ``kelly run``: build, run and tear down one supervisor."""
    supervisor = Supervisor(config, run_dir, config_name)
    return supervisor.run(duration)
