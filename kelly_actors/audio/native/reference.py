"""A compiled reference JACK client: a sine, timed like our callback.

It measures the machine: its callback does almost nothing (a sine into one
port), so every cycle it misses was lost to scheduling, not to work. Run
beside a performance, placed where the performance's client sits in the graph
(its output on the same playback ports), it gives the baseline that our own
missed cycles are compared with in the same run::

    python -m kelly_actors.audio.native.reference --seconds 20 [--connect PORT ...]

prints one JSON object (the figures of :func:`.cycles.cycle_figures`, plus
``seconds``) when the time is up or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from typing import Any

import numpy as np

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.cycles import cycle_figures

CLIENT_NAME = "kelly-reference"


class ReferenceClient:
    """An activated JACK client running ``reference_process``; ``figures()`` any time."""

    def __init__(self, connect: tuple[str, ...] = (), name: str = CLIENT_NAME) -> None:
        from kelly_actors.audio.backends.jack import _jack, address, open_client, physical_ports
        from kelly_actors.audio.native.jack_callback import reference_process
        from kelly_actors.audio.native.pointers import jack_addresses, libc_addresses

        jack = _jack()
        self.words = np.zeros(L.WORDS, np.int64)
        self.durations = np.zeros(L.DURATION_HISTORY, np.float64)
        self.lateness = np.zeros(L.DURATION_HISTORY, np.float64)
        w = self.words
        self.client = client = open_client(name)
        port = client.outports.register("out_1")
        w[L.SAMPLE_RATE] = client.samplerate
        w[L.LAST_FRAMES] = -1
        w[L.CLIENT] = address(jack, client._ptr)
        w[L.PORT_OUT] = address(jack, port._ptr)
        w[L.DURATIONS_ADDR] = self.durations.ctypes.data
        w[L.LATENESS_ADDR] = self.lateness.ctypes.data
        w[L.FN_WRITE], w[L.FN_CLOCK_GETTIME] = libc_addresses()
        w[L.FN_PORT_GET_BUFFER], w[L.FN_GET_TIME], w[L.FN_GET_CYCLE_TIMES] = jack_addresses()
        jack._lib.jack_set_process_callback(
            client._ptr,
            jack._ffi.cast("JackProcessCallback", reference_process.address),
            jack._ffi.cast("void *", w.ctypes.data),
        )
        self.started = time.monotonic()
        client.activate()
        for target in connect or physical_ports(client, playback=True)[:1]:
            client.connect(port, target)

    def figures(self) -> dict[str, Any]:
        figures = cycle_figures(self.words, self.durations, self.lateness)
        figures["seconds"] = round(time.monotonic() - self.started, 3)
        return figures

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connect", action="append", default=[], metavar="PORT")
    parser.add_argument("--name", default=CLIENT_NAME)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    client = ReferenceClient(tuple(args.connect), args.name)
    print("ready", flush=True)
    try:
        stop.wait(args.seconds)
        figures = client.figures()
    finally:
        client.close()
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
