"""What the OSC actor tells its subscribers, and where it learns it.

Three sources, each read without waiting:

* the transport block in shared memory (the clock's bar, beat and tempo), read at
  ``transport_hz``;
* the inference actor's estimates PUB (one per feature frame, ~94 Hz): the newest is
  sent at ``listener_hz``;
* the supervisor's status PUB (4 Hz): every actor's state and restarts, the xruns, and
  the composer's key and, once per bar, the emotion of the bar sounding.

Both SUB sockets are connected from the start but subscribe to their topic only while
someone receives telemetry: with no subscriber the actor decodes nothing and sleeps. They
are read when a tick is due, not waited on: messages queue in ZeroMQ meanwhile, bounded by
the high-water mark (:data:`SUB_HWM`). Only the newest message of each kind is decoded;
older ones are read and dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import zmq

from kelly_actors.bus import messages, sockets
from kelly_actors.bus.transport import TransportState
from kelly_actors.osc.config import OscConfig
from kelly_actors.osc.wire import encode

STATUS_TOPIC = b"status"
ESTIMATE_TOPIC = b"estimate"
#: Messages a SUB keeps queued at most (only the newest is used).
SUB_HWM = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def actor_address(name: str) -> str:
    """``/kelly/actor/NAME`` with characters OSC patterns reserve replaced by ``_``."""
    return "/kelly/actor/" + _UNSAFE.sub("_", name)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


class Telemetry:
    """Builds the telemetry datagrams due at a moment."""

    def __init__(
        self,
        zctx: zmq.Context,
        status_endpoint: str,
        estimates_endpoint: str,
        cfg: OscConfig,
        read_transport: Callable[[], TransportState | None],
    ) -> None:
        self.cfg = cfg
        self.read_transport = read_transport
        self.status = self._sub(zctx, status_endpoint)
        self.estimates = self._sub(zctx, estimates_endpoint)
        self.active = False
        self._snapshot: list[bytes] | None = None
        self._estimate: list[bytes] | None = None
        self._composer_bar: Any = None
        self._next = {"transport": 0.0, "listener": 0.0, "state": 0.0}
        #: Datagrams built per kind (``transport``, ``listener``, ``state``, ``bar``).
        self.built = {"transport": 0, "listener": 0, "state": 0, "bar": 0}
        self.bad_messages = 0

    @staticmethod
    def _sub(zctx: zmq.Context, endpoint: str) -> zmq.Socket:
        sock = sockets.make(zctx, zmq.SUB)
        sock.rcvhwm = SUB_HWM
        sock.connect(endpoint)  # before the publisher binds is fine: ZeroMQ retries
        return sock

    def activate(self, on: bool) -> None:
        """Subscribe to the sources while someone listens (and only then)."""
        if on == self.active:
            return
        option = zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE
        self.status.setsockopt(option, STATUS_TOPIC)
        self.estimates.setsockopt(option, ESTIMATE_TOPIC)
        self.active = on
        self._composer_bar = None

    def drain(self) -> None:
        """Read what the SUBs hold, keeping the newest of each."""
        self._snapshot = _newest(self.status, self._snapshot)
        self._estimate = _newest(self.estimates, self._estimate)

    def next_due(self) -> float | None:
        return min(self._next.values()) if self.active else None

    def due(self, now: float) -> list[bytes]:
        """The datagrams due at ``now`` (``time.monotonic()``)."""
        if not self.active:
            return []
        out: list[bytes] = []
        if now >= self._next["transport"]:
            self._next["transport"] = now + 1.0 / self.cfg.transport_hz
            out += self._transport()
        if now >= self._next["listener"]:
            self._next["listener"] = now + 1.0 / self.cfg.listener_hz
            out += self._listener()
        if now >= self._next["state"]:
            self._next["state"] = now + 1.0 / self.cfg.state_hz
            out += self._state()
        return out

    def _transport(self) -> list[bytes]:
        state = self.read_transport()
        if state is None or not state.running:
            return []
        self.built["transport"] += 3
        return [
            encode("/kelly/bar", state.bar),
            encode("/kelly/beat", round(state.beat_in_bar, 4)),
            encode("/kelly/tempo", float(state.tempo)),
        ]

    def _listener(self) -> list[bytes]:
        frames, self._estimate = self._estimate, None
        if frames is None:
            return []
        msg = self._decode(frames, "estimate")
        if msg is None:
            return []
        values = [_number(msg[k]) for k in ("valence", "arousal", "dominance", "confidence")]
        if any(v is None for v in values):
            self.bad_messages += 1
            return []
        self.built["listener"] += 1
        return [encode("/kelly/listener", *values)]

    def _state(self) -> list[bytes]:
        frames, self._snapshot = self._snapshot, None
        if frames is None:
            return []
        msg = self._decode(frames, "status")
        snapshot = msg["snapshot"] if msg is not None else None
        actors = snapshot.get("actors") if isinstance(snapshot, dict) else None
        if not isinstance(actors, list):
            return []
        out: list[bytes] = []
        xruns = 0
        for actor in actors:
            if not isinstance(actor, dict) or not isinstance(actor.get("name"), str):
                continue
            restarts = actor.get("restarts")
            out.append(
                encode(
                    actor_address(actor["name"]),
                    str(actor.get("state", "")),
                    restarts if isinstance(restarts, int) else 0,
                )
            )
            telemetry = actor.get("telemetry")
            if isinstance(telemetry, dict):
                count = telemetry.get("xruns")
                if isinstance(count, int) and not isinstance(count, bool):
                    xruns += count
                if actor["name"] == self.cfg.composer:
                    out += self._composer(telemetry)
        out.append(encode("/kelly/xruns", xruns))
        self.built["state"] += len(out)
        return out

    def _composer(self, telemetry: dict[str, Any]) -> list[bytes]:
        """The key, and the emotion of each new bar the composer plays."""
        out = []
        key = telemetry.get("key")
        if isinstance(key, str):
            out.append(encode("/kelly/key", key))
        bar = telemetry.get("bar")
        emotion = telemetry.get("emotion")
        if bar is not None and bar != self._composer_bar and isinstance(emotion, dict):
            axes = ("valence", "arousal", "dominance", "confidence")
            values = [_number(emotion.get(k)) for k in axes]
            if all(v is not None for v in values):
                self._composer_bar = bar
                self.built["bar"] += 1
                out.append(encode("/kelly/bar/emotion", *values))
        return out

    def _decode(self, frames: list[bytes], kind: str) -> messages.Message | None:
        try:
            msg = messages.decode(frames[1:])
        except messages.ProtocolError:
            msg = None
        if msg is None or msg.type != kind:
            self.bad_messages += 1
            return None
        return msg

    def close(self) -> None:
        self.status.close(linger=0)
        self.estimates.close(linger=0)


def _newest(sock: zmq.Socket, newest: list[bytes] | None) -> list[bytes] | None:
    while True:
        try:
            newest = sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return newest
