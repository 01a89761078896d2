"""A real OSC peer for tests (a UDP socket; python-osc builds what it sends and parses what
it receives), and performance configs with the OSC actor."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket
from toml_config import OSC_TARGET, default_with_osc, performance_toml  # noqa: F401

#: One received OSC message: (address, arguments).
Received = tuple[str, tuple[Any, ...]]


def tone_meter_with_osc(**options: Any) -> str:
    """The small demo graph (a tone clock, a meter: music that shows it goes on) and an
    OSC actor with ``options``."""
    rings = [
        {"name": "tone", "shape": [256, 2], "capacity": 64, "writer": "tone", "readers": ["meter"]}
    ]
    actors = [
        {"name": "tone", "target": "kelly_actors.demo.tone:ToneActor"},
        {"name": "meter", "target": "kelly_actors.demo.meter:MeterActor", "depends_on": ["tone"]},
        {"name": "osc", "target": OSC_TARGET, "options": options},
    ]
    return performance_toml(actors, rings)


def build(address: str, *args: Any) -> bytes:
    """One OSC message as python-osc builds it (types inferred: int, float, str, …)."""
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    return builder.build().dgram


class OscPeer:
    """A UDP socket on ``bind`` that talks to Kelly's OSC port and keeps what comes back."""

    def __init__(self, port: int, host: str = "127.0.0.1", bind: str = "127.0.0.1") -> None:
        self.to = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((bind, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        #: Every message received, with its arrival time (time.monotonic()).
        self.received: list[tuple[float, Received]] = []

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(build(address, *args), self.to)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.to)

    def collect(self, timeout: float = 0.0) -> None:
        """Read what has arrived, waiting up to ``timeout`` s for the first datagram."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        while ready:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                return
            now = time.monotonic()
            for timed in OscPacket(data).messages:
                self.received.append((now, (timed.message.address, tuple(timed.message.params))))

    def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float, what: str
    ) -> Received:
        """The first message received from now on for which ``predicate`` holds."""
        start = len(self.received)
        deadline = time.monotonic() + timeout
        while True:
            for _, message in self.received[start:]:
                if predicate(message):
                    return message
            start = len(self.received)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no OSC message {what} within {timeout:g} s")
            self.collect(min(left, 0.5))

    def answer(self, address: str, timeout: float = 15.0) -> Received:
        """The next ``/kelly/ok`` or ``/kelly/error`` answering ``address``."""
        return self.wait_for(
            lambda m: m[0] in ("/kelly/ok", "/kelly/error") and m[1][:1] == (address,),
            timeout,
            f"answering {address}",
        )

    def messages(self, address: str) -> list[tuple[float, tuple[Any, ...]]]:
        return [(t, m[1]) for t, m in self.received if m[0] == address]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> OscPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
