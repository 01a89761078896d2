"""A measuring JACK client: what a listener connected to the audio actor's output hears.

Used by the failover and chaos benchmarks. Its process callback (a Python thread of the
``jack`` package) stores, per JACK cycle, the server frame time at the cycle's start and the
offset of the cycle's first loud sample, into preallocated arrays: no allocation beyond
numpy's comparison, no lock, no print.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import numpy as np

#: A sample louder than this (absolute, full scale 1.0) counts as sound.
SOUND = 1e-4


def jack_running() -> bool:
    """A JACK server accepts clients."""
    done = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True)
    return done.stdout.strip() == "running"


class Meter:
    """A JACK client named ``name`` with one input port ``in``.

    ``out_port`` matches the full name of the port to listen to (e.g. ``kelly:out_1``; JACK
    may append ``-NN`` to a client's name); its registrations are kept, with the server frame
    time, in :attr:`registered`. ``cycles``: how many JACK cycles the arrays hold (one cycle
    of 256 frames at 48 kHz is 5.3 ms); later cycles are not stored.
    """

    def __init__(self, name: str, out_port: re.Pattern[str], cycles: int = 1 << 16) -> None:
        import jack

        self.name = name
        self.out_port = out_port
        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.inports.register("in")
        self.frames = np.zeros(cycles, np.int64)
        self.first_loud = np.full(cycles, -1, np.int64)
        self.count = 0
        self.registered: list[tuple[str, int]] = []
        self.client.set_process_callback(self._process)
        self.client.set_port_registration_callback(self._registration)
        self.client.activate()
        self.sample_rate = self.client.samplerate
        self.block_size = self.client.blocksize

    def _process(self, frames: int) -> None:
        i = self.count
        if i >= self.frames.size:
            return
        loud = np.flatnonzero(np.abs(self.port.get_array()) > SOUND)
        self.frames[i] = self.client.last_frame_time
        self.first_loud[i] = loud[0] if loud.size else -1
        self.count = i + 1

    def _registration(self, port: Any, register: bool) -> None:
        if register and self.out_port.match(port.name):
            self.registered.append((port.name, self.client.frame_time))

    def connected(self, client: str) -> bool:
        """Our input is connected to ``client``'s ``out_1``."""
        names = [p.name for p in self.client.get_all_connections(self.port)]
        return f"{client}:out_1" in names

    def listening(self) -> bool:
        """Our input is connected to a port matching ``out_port``."""
        names = [p.name for p in self.client.get_all_connections(self.port)]
        return any(self.out_port.match(n) for n in names)

    def connect_any(self) -> bool:
        """Connect our input to the first port matching ``out_port``; False when none exists
        (or it vanished meanwhile: its client was killed between the listing and the connect)."""
        import jack

        for port in self.client.get_ports(is_output=True, is_audio=True):
            if self.out_port.match(port.name):
                try:
                    self.client.connect(port.name, f"{self.name}:in")
                except jack.JackError:
                    return False
                return True
        return False

    def first_sound_after(self, frame: int) -> int | None:
        """Server frame time of the first loud sample heard at or after ``frame``."""
        n = self.count
        frames, loud = self.frames[:n], self.first_loud[:n]
        hits = np.flatnonzero((frames >= frame) & (loud >= 0))
        return int(frames[hits[0]] + loud[hits[0]]) if hits.size else None

    def silences(self, start: int, end: int) -> list[tuple[int, int]]:
        """``(first silent frame, frames)`` of every stretch without sound between two cycles
        with sound, both within server frame times ``[start, end)``; cycles the meter itself
        missed count as silent."""
        n = self.count
        frames, loud = self.frames[:n], self.first_loud[:n]
        keep = (frames >= start) & (frames < end) & (loud >= 0)
        sounding = frames[keep]
        if sounding.size < 2:
            return []
        after = sounding[:-1] + self.block_size
        length = sounding[1:] - after
        return [(int(a), int(g)) for a, g in zip(after, length, strict=True) if g > 0]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
