"""A sine-tone generator that is also the performance clock."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor, CallError
from kelly_actors.bus import note_events
from kelly_actors.bus.clock import MusicalClock
from kelly_actors.config.typed import Checked, setting

# After a stall longer than this many blocks (a SIGSTOP, a swap storm) the
# clock jumps forward instead of racing to catch up.
MAX_CATCH_UP_BLOCKS = 8


@dataclass(frozen=True)
class ToneConfig(Checked):
    """Attributes: frequency (Hz), amplitude (0–1), sample_rate (Hz), block_size (frames),
    tempo (bpm) until a tempo request arrives, ring to write, tempo_ring to read
    tempo requests from ("" = none)."""

    frequency: float = setting(220.0, above=0.0)
    amplitude: float = setting(0.2, low=0.0, high=1.0)
    sample_rate: int = setting(48_000, above=0)
    block_size: int = setting(256, low=1)
    tempo: float = setting(120.0, above=0.0)
    ring: str = "tone"
    tempo_ring: str = ""


class ToneActor(Actor):
    """Writes ``(block_size, 2)`` float32 sine blocks at real-time pace and
    advances the transport; each block's sample time is its first frame."""

    Config = ToneConfig

    def on_start(self) -> None:
        cfg: ToneConfig = self.config
        self.writer = self.ctx.writer(cfg.ring)
        if self.writer.spec.shape != (cfg.block_size, 2):
            raise ValueError(f"ring {cfg.ring!r} has shape {self.writer.spec.shape}")
        self.frequency = float(self.ctx.restored_state.get("frequency", cfg.frequency))
        self.clock = MusicalClock.resume(
            self.ctx.transport.read(), cfg.sample_rate, cfg.block_size, cfg.tempo
        )
        self.tempo_reader = self.ctx.reader(cfg.tempo_ring) if cfg.tempo_ring else None
        self.tempo_request = np.empty(note_events.TEMPO_SHAPE, np.float64)
        self.period = cfg.block_size / cfg.sample_rate
        self.due = time.monotonic()
        self.ramp = np.arange(cfg.block_size, dtype=np.float64)
        self.block = np.empty((cfg.block_size, 2), dtype=np.float32)

    def next_wakeup(self) -> float:
        return self.due

    def step(self) -> None:
        if self.tempo_reader is not None:
            while self.tempo_reader.available() and self.tempo_reader.read_into(self.tempo_request):
                start, tempo, beat, bpb = self.tempo_request
                self.clock.request(int(start), tempo, beat, int(bpb))
        now = time.monotonic()
        if now - self.due > MAX_CATCH_UP_BLOCKS * self.period:
            self.due = now
        while self.due <= now:
            self._write_block()
            self.due += self.period

    def _write_block(self) -> None:
        cfg: ToneConfig = self.config
        sample = self.clock.sample
        phase = 2 * math.pi * self.frequency / cfg.sample_rate * (sample + self.ramp)
        mono = cfg.amplitude * np.sin(phase)
        self.block[:, 0] = mono
        self.block[:, 1] = mono
        self.writer.write(self.block, sample)
        self.clock.advance(cfg.block_size)
        self.clock.publish(self.ctx.transport)

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "get":
            return {"frequency": self.frequency, "sample": self.clock.sample}
        if method == "set_frequency":
            freq = args.get("frequency")
            if (
                isinstance(freq, bool)
                or not isinstance(freq, int | float)
                or not 20 <= freq <= 20000
            ):
                raise CallError("frequency must be a number within 20–20000 Hz")
            self.frequency = float(freq)
            self.ctx.publish_state({"frequency": self.frequency})
            return {"frequency": self.frequency}
        return super().on_call(method, args)

    def telemetry(self) -> dict[str, Any]:
        return {"frequency": self.frequency, "sample": self.clock.sample}
