"""The OSC actor: Kelly's control verbs over UDP, and its telemetry back (docs/osc.md).

One process, one loop, no threads. The actor waits (in the runtime's poller) on its UDP
socket and its DEALER to the supervisor's control socket; :meth:`OscActor.next_wakeup`
adds the telemetry ticks (when the SUB sockets telemetry comes from are read), the bundle
messages waiting for their time tag, the request deadlines and the retry of a port in
use. Each step:

1. reads at most :data:`BURST` datagrams (more wait for the next step, so heartbeats and
   replies keep flowing under a flood); a datagram from a sender outside the allow-list
   is refused unread; the rest are decoded (:mod:`.wire`), turned into requests
   (:mod:`.commands`) and sent to the supervisor, or scheduled for their time tag;
2. answers each sender from the supervisor's replies (``/kelly/ok``, ``/kelly/error``);
3. sends the telemetry due to every subscriber.

Sensor samples (``[[sensors]]``, :mod:`.sensor_input`) arriving at their addresses are
taken here too: each step writes the sensors' readings on the ``sensors`` ring for the
composer, and closes calibration windows whose time is up.

Bad input is counted by kind in the heartbeat's ``refused`` and logged once per sender and
kind (``osc_refused``); it never raises out of :meth:`step`. A port already in use leaves
the actor *degraded* with the reason, trying the port again every
:data:`BIND_RETRY_S` s; the performance goes on.
"""

from __future__ import annotations

import heapq
import itertools
import json
import time
from typing import Any

import zmq

from kelly_actors.actor.base import Actor, CallError, Waitable
from kelly_actors.config.typed import ConfigError
from kelly_actors.osc import commands, wire
from kelly_actors.osc.commands import Refused, Request
from kelly_actors.osc.config import OscConfig
from kelly_actors.osc.control import Answer, Control, sibling_endpoint
from kelly_actors.osc.peers import NOT_ALLOWED, Gate, Refusals, Subscribers
from kelly_actors.osc.sensor_input import SensorInput, UnknownSensor
from kelly_actors.osc.telemetry import Telemetry
from kelly_actors.osc.udp import UdpPort
from kelly_actors.sensors.reading import ROW_DTYPE, ROW_SHAPE

#: Datagrams read per step at most.
BURST = 256
#: Seconds between two tries of a port that was in use.
BIND_RETRY_S = 2.0
#: Refusal kinds the actor adds to the decoder's and the commands' (docs/osc.md).
BUSY = "busy"
INTERNAL_ERROR = "internal_error"
#: A reply that would not fit one datagram is answered with this error instead.
MAX_REPLY_BYTES = 60_000


class OscActor(Actor):
    """Takes ``/kelly/...`` commands over UDP and sends telemetry to subscribers."""

    Config = OscConfig
    deadline = 0.05

    @classmethod
    def preflight(cls, config: OscConfig, rings: dict[str, Any]) -> None:
        """Sensors need their ring (this actor writing float64 rows of the reading's
        shape) and addresses of their own."""
        if not config.sensors:
            return
        ring = rings.get(config.sensors_ring)
        if ring is None or tuple(ring.shape) != ROW_SHAPE or str(ring.dtype) != ROW_DTYPE:
            raise ConfigError(
                f"[[sensors]] need a ring {config.sensors_ring!r} written by this actor and "
                f"read by the composer, shape {list(ROW_SHAPE)}, dtype {ROW_DTYPE!r} (see "
                "the default performance or docs/osc.md, Sensors)"
            )
        for spec in config.sensors:
            if spec.osc_address in commands.VERBS or spec.osc_address.startswith("/kelly/ok"):
                raise ConfigError(f"sensor {spec.name}: {spec.osc_address} is a command")

    def on_start(self) -> None:
        cfg: OscConfig = self.config
        writer = self.ctx.writer(cfg.sensors_ring) if cfg.sensors else None
        self.sensors = SensorInput(cfg.sensors, writer)
        self.sensors.restore(self.ctx.restored_state.get("sensors"))
        # Port 0 lets the kernel pick once: a replacement takes its predecessor's port,
        # so senders and subscribers keep working across a restart.
        saved_port = self.ctx.restored_state.get("port")
        port = saved_port if cfg.port == 0 and isinstance(saved_port, int) else cfg.port
        self.udp = UdpPort(cfg.bind, port, cfg.receive_buffer_bytes)
        self.gate = Gate(cfg.allowed())
        self.refusals = Refusals(self.ctx.emit)
        self.subscribers = Subscribers(cfg.subscriber_endpoints(), cfg.max_subscribers)
        self.subscribers.restore(self.ctx.restored_state.get("subscribers"))
        zctx = zmq.Context.instance()
        endpoint = self.ctx.launch.endpoint
        self.control = Control(
            zctx, sibling_endpoint(endpoint, "control"), cfg.reply_timeout_s, cfg.max_pending
        )
        self.telemetry_out = Telemetry(
            zctx,
            sibling_endpoint(endpoint, "status"),
            f"ipc://{self.ctx.run_dir / cfg.estimates}",
            cfg,
            self.ctx.transport.read,
        )
        self.scheduled: list[tuple[float, int, tuple[str, int], wire.Message]] = []
        self._order = itertools.count()
        self.received = 0
        self.accepted = 0
        self.ignored = 0
        self.replies = 0
        self.sent = 0
        self.next_bind = 0.0
        self._bind(time.monotonic())
        self.telemetry_out.activate(len(self.subscribers) > 0)
        self._publish()

    def on_stop(self) -> None:
        self.telemetry_out.close()
        self.control.close()
        self.udp.close()

    def _publish(self) -> None:
        """The state a replacement starts from: the subscribers, the port, calibrations."""
        self.ctx.publish_state(
            {
                "subscribers": self.subscribers.state(),
                "port": self.udp.port,
                "sensors": self.sensors.saved(),
            }
        )

    def _bind(self, now: float) -> None:
        if self.udp.try_bind():
            self.ctx.set_healthy()
            self.ctx.emit("osc_listening", bind=self.config.bind, port=self.udp.port)
            self._publish()
        elif self.udp.wanted_port != self.config.port:
            # The predecessor's kernel-picked port is taken now: let the kernel pick again.
            self.udp.wanted_port = self.config.port
            self._bind(now)
        else:
            self.ctx.set_degraded(f"{self.udp.error}: OSC commands are not taken")
            self.next_bind = now + BIND_RETRY_S

    # -- the loop ------------------------------------------------------------------

    def wait_on(self) -> list[Waitable]:
        # Not the telemetry SUBs: their messages queue in ZeroMQ and are read when a
        # telemetry tick is due, instead of waking the actor for each of ~94 estimates a
        # second (next_wakeup holds the ticks).
        return [self.udp, self.control.bell()]

    def next_wakeup(self) -> float | None:
        times = [
            self.control.next_deadline(),
            self.telemetry_out.next_due(),
            self.sensors.next_due(),
        ]
        if not self.udp.bound:
            times.append(self.next_bind)
        if self.scheduled:
            # Bundle time tags are wall-clock times; the loop's clock is monotonic.
            times.append(time.monotonic() + max(0.0, self.scheduled[0][0] - time.time()))
        return min((t for t in times if t is not None), default=None)

    def step(self) -> None:
        now = time.monotonic()
        if not self.udp.bound and now >= self.next_bind:
            self._bind(now)
        self._receive(now)
        self._run_scheduled(now)
        if self.sensors.tick(now):
            self._publish()
        self.sensors.flush()
        for answer in self.control.answers() + self.control.expired(now):
            self._answer(answer)
        self.telemetry_out.drain()
        datagrams = self.telemetry_out.due(now)
        if datagrams:
            for who in self.subscribers.all():
                for data in datagrams:
                    self.sent += self.udp.send(data, who)

    def _receive(self, now: float) -> None:
        wall = time.time()
        for _ in range(BURST):
            got = self.udp.receive()
            if got is None:
                return
            packet, sender = got
            self.received += 1
            try:
                self._take(packet, sender, wall, now)
            except Exception as exc:
                # A packet must never stop the actor: what the checks above missed is
                # counted and logged like any refusal (the tests require none).
                self.refusals.refuse(sender[0], INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")

    def _take(self, packet: memoryview, sender: tuple[str, int], wall: float, now: float) -> None:
        """One datagram: allowed? decoded? each message executed or scheduled."""
        if not self.gate.admits(sender[0]):
            self.refusals.refuse(sender[0], NOT_ALLOWED, "sender not in allow")
            return
        try:
            timed = wire.decode(packet, wall, self.config.bundle_horizon_s)
        except wire.OscError as exc:
            self.refusals.refuse(sender[0], exc.kind, str(exc))
            return
        for item in timed:
            if item.at is None:
                self._execute(item.message, sender, now)
            elif len(self.scheduled) < self.config.max_scheduled:
                entry = (item.at, next(self._order), sender, item.message)
                heapq.heappush(self.scheduled, entry)
            else:
                self._refuse(sender, item.message.address, BUSY, "too many timed messages")

    def _run_scheduled(self, now: float) -> None:
        wall = time.time()
        while self.scheduled and self.scheduled[0][0] <= wall:
            _, _, sender, message = heapq.heappop(self.scheduled)
            try:
                self._execute(message, sender, now)
            except Exception as exc:  # as in _receive: counted, never raised
                self.refusals.refuse(sender[0], INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")

    def _execute(self, message: wire.Message, sender: tuple[str, int], now: float) -> None:
        if self.sensors.takes(message.address):
            try:
                self.sensors.take(message, now)
            except Refused as exc:  # counted and logged, never answered (sensor_input)
                self.refusals.refuse(sender[0], exc.kind, str(exc))
            return
        try:
            request = commands.request_for(message, self.config)
        except Refused as exc:
            self._refuse(sender, message.address, exc.kind, str(exc))
            return
        if request is commands.IGNORED:
            self.ignored += 1
        elif request.local:
            self._local(request, sender, message.address)
        else:
            why = self.control.send(request.cmd, request.args, (sender, message.address), now)
            if why:
                self._refuse(sender, message.address, BUSY, f"not sent to the supervisor: {why}")
            else:
                self.accepted += 1

    def _local(self, request: Request, sender: tuple[str, int], address: str) -> None:
        if request.local == commands.CALIBRATE:
            try:
                result = self._calibrate(request.args)
            except CallError as exc:
                self._refuse(sender, address, commands.BAD_VALUE, str(exc))
                return
            self.accepted += 1
            self._answer(Answer((sender, address), True, result))
            return
        who = (sender[0], request.args["port"] or sender[1])
        if request.local == commands.SUBSCRIBE:
            if not self.subscribers.add(who):
                limit = self.config.max_subscribers
                self._refuse(sender, address, BUSY, f"already {limit} subscribers")
                return
            result = {"subscribed": f"{who[0]}:{who[1]}"}
        else:
            result = {"unsubscribed": f"{who[0]}:{who[1]}", "was": self.subscribers.remove(who)}
        self.accepted += 1
        self.telemetry_out.activate(len(self.subscribers) > 0)
        self._publish()
        self._answer(Answer((sender, address), True, result))

    def _refuse(self, sender: tuple[str, int], address: str, kind: str, reason: str) -> None:
        """Count and log a refused message, and tell its sender why."""
        self.refusals.refuse(sender[0], kind, reason)
        self._answer(Answer((sender, address), False, {}, kind, reason))

    def _answer(self, answer: Answer) -> None:
        (to, address) = answer.reply_to
        if answer.ok:
            data = wire.encode("/kelly/ok", address, json.dumps(answer.result))
            if len(data) > MAX_REPLY_BYTES:
                message = f"the answer ({len(data)} bytes) does not fit one datagram"
                data = wire.encode("/kelly/error", address, "too_large", message)
        else:
            data = wire.encode("/kelly/error", address, answer.code, answer.message[:1000])
        self.replies += 1
        self.udp.send(data, to)

    def _calibrate(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.sensors.calibrate(args.get("sensor"), args.get("seconds"), time.monotonic())
        except UnknownSensor as exc:
            raise CallError(exc.args[0], code="not_found") from None
        except ValueError as exc:
            raise CallError(str(exc)) from None

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "calibrate":
            return self._calibrate(args)
        return super().on_call(method, args)

    def telemetry(self) -> dict[str, Any]:
        udp = self.udp
        return {
            "listening": udp.bound,
            "bind": self.config.bind,
            "port": udp.port,
            "received": self.received,
            "accepted": self.accepted,
            "ignored": self.ignored,
            "refused": dict(self.refusals.counts),
            "refused_total": self.refusals.total,
            "kernel_drops": udp.kernel_drops,
            "replies": self.replies,
            "pending": self.control.pending,
            "scheduled": len(self.scheduled),
            "subscribers": [f"{h}:{p}" for h, p in self.subscribers.all()],
            "telemetry_sent": self.sent,
            "send_errors": udp.send_errors,
            "bad_messages": self.telemetry_out.bad_messages + self.control.bad_replies,
            "sensors": self.sensors.telemetry(),
            "sensor_totals": self.sensors.totals(),
        }


__all__ = ["OscActor", "OscConfig"]
