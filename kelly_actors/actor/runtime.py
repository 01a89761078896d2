"""The loop every actor process runs.

One ``zmq.Poller`` waits on everything at once: the DEALER to the
supervisor, the doorbells of the actor's input rings, and a self-pipe that
signal handlers write to. Between waits it runs the actor's step, sends
heartbeats with telemetry, and checks that the supervisor is still alive
(:mod:`.supervisor_watch`): an actor whose supervisor died plays on for the
adoption grace period, joins the successor that adopts it, or else stops by
itself (no orphans).
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import time
import traceback
from typing import Any

import psutil
import zmq

from kelly_actors.actor.base import Actor, CallError
from kelly_actors.actor.context import ActorContext
from kelly_actors.actor.launch import Launch
from kelly_actors.actor.pids import alive, die_with_parent
from kelly_actors.actor.supervisor_watch import SupervisorWatch
from kelly_actors.bus import messages, sockets
from kelly_actors.config.typed import ConfigError, from_mapping

PARENT_CHECK_INTERVAL = 0.25
EXIT_CRASH = 1
EXIT_CONFIG = 78


def load_actor_class(target: str) -> type[Actor]:
    """Import ``module:Class`` and check it is an actor."""
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import actor module {module_name!r}: {exc}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Actor)):
        raise ConfigError(f"{target!r} is not an Actor subclass")
    return cls


class _Telemetry:
    """Loop figures between two heartbeats."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.process.cpu_percent(None)
        self.steps = 0
        self.step_max = 0.0
        self.step_total = 0.0
        self.deadline_misses = 0

    def record(self, seconds: float, deadline: float) -> None:
        self.steps += 1
        self.step_total += seconds
        self.step_max = max(self.step_max, seconds)
        if seconds > deadline:
            self.deadline_misses += 1

    def snapshot(self, extra: dict[str, Any]) -> dict[str, Any]:
        mean = self.step_total / self.steps if self.steps else 0.0
        snap = {
            "cpu_percent": self.process.cpu_percent(None),
            "rss_bytes": self.process.memory_info().rss,
            "steps": self.steps,
            "loop_mean_ms": mean * 1e3,
            "loop_max_ms": self.step_max * 1e3,
            "deadline_misses": self.deadline_misses,
            **extra,
        }
        self.steps, self.step_total, self.step_max = 0, 0.0, 0.0
        return snap


class _Loop:
    def __init__(self, launch: Launch) -> None:
        self.launch = launch
        self.zctx = zmq.Context()
        self.socket = sockets.make(self.zctx, zmq.DEALER, sockets.CONTROL_MAX_BYTES)
        self.socket.setsockopt(zmq.IDENTITY, f"{launch.name}:{launch.incarnation}".encode())
        self.socket.connect(launch.endpoint)
        self.ctx = ActorContext(launch, self.socket)
        self.watch = SupervisorWatch(launch)
        self.stopping = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def install_signals(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def run(self, actor: Actor) -> None:
        launch = self.launch
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self.wake_r, zmq.POLLIN)
        waitables = actor.wait_on()
        for waitable in waitables:
            poller.register(waitable.fileno(), zmq.POLLIN)
        telemetry = _Telemetry()
        next_beat = next_parent_check = time.monotonic()
        while not self.stopping:
            now = time.monotonic()
            due = min(next_beat, next_parent_check)
            wakeup = actor.next_wakeup()
            if wakeup is not None:
                due = min(due, wakeup)
            ready_now = any([w.arm() for w in waitables])
            timeout_ms = 0 if ready_now else max(0, int((due - now) * 1000 + 0.999))
            events = dict(poller.poll(timeout_ms))
            for waitable in waitables:
                waitable.disarm()
            if self.wake_r in events:
                _drain(self.wake_r)
            if self.socket in events:
                self._serve_calls(actor)
            if self.stopping:
                break
            start = time.monotonic()
            actor.step()
            end = time.monotonic()
            telemetry.record(end - start, actor.deadline)
            if end >= next_beat:
                snap = telemetry.snapshot(actor.telemetry())
                self.ctx._send("heartbeat", telemetry=snap)
                next_beat = end + launch.heartbeat_interval
            if end >= next_parent_check:
                if not self.watch.keep_running(end):
                    break
                self._report_adoption()
                next_parent_check = end + PARENT_CHECK_INTERVAL

    def _report_adoption(self) -> None:
        adopted = self.watch.take_adoption()
        if adopted is not None:
            previous, alone_s = adopted
            self.ctx.emit("adopted", previous_supervisor=previous, unsupervised_s=round(alone_s, 3))

    def _serve_calls(self, actor: Actor) -> None:
        while True:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                msg = messages.decode(frames)
            except messages.ProtocolError:
                continue  # only the supervisor talks to us; nothing to answer
            if msg.type != "call":
                continue
            try:
                result = actor.on_call(msg["method"], msg.get("args") or {})
                reply = messages.ok_reply(msg["id"], result)
            except CallError as exc:
                reply = messages.error_reply(msg["id"], {"code": exc.code, "message": str(exc)})
            except Exception as exc:  # a bad command must not kill the actor
                err = {"code": "error", "message": f"{type(exc).__name__}: {exc}"}
                reply = messages.error_reply(msg["id"], err)
            self.socket.send_multipart(messages.encode(reply), flags=zmq.NOBLOCK)

    def close(self, linger_ms: int = 0) -> None:
        self.ctx.close()
        self.socket.close(linger=linger_ms)
        self.zctx.term()
        os.close(self.wake_r)
        os.close(self.wake_w)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def main(launch: Launch) -> None:
    """Process entry point (run by the supervisor's forkserver)."""
    if launch.adoption_grace <= 0:
        die_with_parent()  # the pid check in the loop covers systems without it
    if not alive(launch.supervisor_pid):
        sys.exit(0)
    if launch.cpu_affinity:
        psutil.Process().cpu_affinity(list(launch.cpu_affinity))
    loop = _Loop(launch)
    loop.install_signals()
    if launch.nice:
        try:
            # Threads started later (an audio callback thread) inherit it.
            os.setpriority(os.PRIO_PROCESS, 0, launch.nice)
        except PermissionError:
            loop.ctx.emit("nice_refused", nice=launch.nice)
    code = 0
    actor: Actor | None = None
    try:
        cls = load_actor_class(launch.target)
        config = from_mapping(cls.Config, launch.options, f"actors.{launch.name}.options")
        actor = cls(loop.ctx, config)
        # Collected once before the actor starts (an audio stream may start in
        # on_start and must not wait on a full collection), then frozen so later
        # passes only walk new objects.
        gc.collect()
        gc.freeze()
        actor.on_start()
        loop.ctx._send("ready", pid=os.getpid())
        loop.run(actor)
        actor.on_stop()
    except ConfigError as exc:
        _report_crash(loop, exc)
        _last_words(loop, actor, exc)
        code = EXIT_CONFIG
    except Exception as exc:
        _report_crash(loop, exc)
        _last_words(loop, actor, exc)
        code = EXIT_CRASH
    finally:
        # A crash report deserves a moment on the wire; a clean stop does not wait.
        loop.close(linger_ms=500 if code else 0)
    sys.exit(code)


def _report_crash(loop: _Loop, exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc))
    sys.stderr.write(f"actor {loop.launch.name} crashed:\n{text}")
    try:
        loop.ctx.emit("crash", error=f"{type(exc).__name__}: {exc}", traceback=text[-4000:])
    except zmq.ZMQError:
        pass


def _last_words(loop: _Loop, actor: Actor | None, exc: BaseException) -> None:
    """Run the failing actor's :meth:`Actor.on_failure`; a second failure is only reported."""
    if actor is None:
        return
    try:
        actor.on_failure(exc)
    except Exception as second:
        sys.stderr.write(f"actor {loop.launch.name}: on_failure raised {second!r}\n")
        try:
            loop.ctx.emit("on_failure_raised", error=f"{type(second).__name__}: {second}")
        except zmq.ZMQError:
            pass
