"""A lean real performance with sensors (a tone clock, the composer, the OSC actor on a free
port), the simulator played from a thread, and the composer's state read without lag."""

from __future__ import annotations

import itertools
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from performance import Performance, wait_until
from pythonosc.osc_message_builder import OscMessageBuilder
from toml_config import OSC_TARGET, performance_toml

from kelly_actors.osc import wire
from kelly_actors.osc.wire import encode
from kelly_actors.sensors.simulate import Packet, Settings, packets, play

COMPOSER = "kelly_actors.composer.actor:ComposerActor"
TONE = "kelly_actors.demo.tone:ToneActor"
HEART = "/kelly/sensor/heart_rate"


def sensor_performance() -> str:
    """TOML: the tone clock follows the composer's tempo; the composer reads the sensors
    ring (no synth: the composer's bars and tempo are what the tests read); the OSC actor
    on a port the kernel picks, with one heart-rate sensor."""
    rings = [
        {"name": "tone", "shape": [256, 2], "capacity": 64, "writer": "tone", "readers": []},
        {"name": "tempo", "shape": [4], "dtype": "float64", "capacity": 64,
         "policy": "drop", "writer": "composer", "readers": ["tone"]},
        {"name": "sensors", "shape": [8], "dtype": "float64", "capacity": 64,
         "policy": "overwrite", "writer": "osc", "readers": ["composer"]},
    ]  # fmt: skip
    composer = {
        "notes_ring": "",
        "estimates": "",
        "midi": {"api": "none"},
        "recording": {"directory": "off"},
        "transformer": {"engine": "rules"},
    }
    actors = [
        {"name": "tone", "target": TONE, "options": {"tempo_ring": "tempo", "amplitude": 0.0}},
        {"name": "composer", "target": COMPOSER, "depends_on": ["tone"], "options": composer},
        {"name": "osc", "target": OSC_TARGET, "options": {"port": 0}},
    ]
    sensor = ["[[sensors]]", 'name = "heart_rate"', 'kind = "heart_rate"', "weight = 0.5"]
    return performance_toml(actors, rings) + "\n" + "\n".join(sensor) + "\n"


def osc_port(perf: Performance, timeout: float = 60) -> int:
    actor = perf.wait_actor(
        "osc", lambda a: a["telemetry"].get("listening"), timeout, "the OSC actor to listen"
    )
    return actor["telemetry"]["port"]


def composer_now(perf: Performance) -> dict[str, Any]:
    """The composer's telemetry this moment (a call, not the status snapshot's ≤ 0.5 s lag)."""
    return perf.request("call", actor="composer", method="get", args={})


def until_composer(
    perf: Performance, predicate: Callable[[dict[str, Any]], Any], timeout: float, what: str
) -> dict[str, Any]:
    """The composer's telemetry once ``predicate`` holds for it, asked every 0.1 s."""

    def check() -> dict[str, Any] | None:
        t = composer_now(perf)
        return t if predicate(t) else None

    return wait_until(check, timeout, what, interval=0.1)


def segments(*parts: tuple[Settings, float]) -> Iterator[Packet]:
    """The simulator's streams one after another: each ``(settings, seconds)`` plays for its
    seconds (the last one forever), its times shifted to follow the one before."""
    offset = 0.0
    for i, (settings, seconds) in enumerate(parts):
        last = i == len(parts) - 1
        for t, address, value in packets(settings):
            if not last and t > seconds:
                break
            yield offset + t, address, value
        offset += seconds


class Player:
    """Plays a simulated stream to ``port`` from a thread, as ``kelly sensor simulate`` does,
    noting when the first packet at or above ``mark`` left (``marked_at``, monotonic s)."""

    def __init__(self, port: int, stream: Iterator[Packet], mark: float = float("inf")) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.to = ("127.0.0.1", port)
        self.mark = mark
        self.marked_at: float | None = None
        self.stopped = threading.Event()
        live = itertools.takewhile(lambda _: not self.stopped.is_set(), stream)
        self.thread = threading.Thread(target=play, args=(live, self._send, 0.0), daemon=True)
        self.thread.start()

    def _send(self, address: str, value: float) -> None:
        self.sock.sendto(encode(address, float(value)), self.to)
        if self.marked_at is None and value >= self.mark:
            self.marked_at = time.monotonic()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)
        self.sock.close()

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Peer:
    """A UDP OSC client of Kelly's port that keeps every message it gets back."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.to = ("127.0.0.1", port)
        self.received: list[tuple[str, tuple[Any, ...]]] = []

    def send(self, address: str, *args: Any) -> None:
        """One message as python-osc builds it, types inferred (NaN stays NaN, True is 'T')."""
        builder = OscMessageBuilder(address)
        for value in args:
            builder.add_arg(value)
        self.sock.sendto(builder.build().dgram, self.to)

    def answer(self, address: str, timeout: float = 15.0) -> tuple[str, tuple[Any, ...]]:
        """The next ``/kelly/ok`` or ``/kelly/error`` answering ``address``."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for kind, args in self.received[seen:]:
                if kind in ("/kelly/ok", "/kelly/error") and args[:1] == (address,):
                    self.received.remove((kind, args))
                    return kind, args
            seen = len(self.received)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {address} within {timeout:g} s")
            self.collect(min(left, 0.5))

    def collect(self, timeout: float = 0.0) -> None:
        """Read what has arrived, waiting up to ``timeout`` s for the first datagram."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        while ready:
            try:
                data = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            for timed in wire.decode(memoryview(data), time.time(), 10.0):
                self.received.append((timed.message.address, tuple(timed.message.args)))

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
