"""Reads the tone ring and checks every block: continuity and level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor
from kelly_actors.bus.ring import RingReader


@dataclass(frozen=True)
class MeterConfig:
    ring: str = "tone"


class MeterActor(Actor):
    """Counts blocks and sequence gaps, and measures the RMS level (dBFS) of
    everything read between two heartbeats."""

    Config = MeterConfig

    def on_start(self) -> None:
        self.reader = self.ctx.reader(self.config.ring)
        # A restarted meter measures the live signal, not what piled up while it was away.
        self.reader.seek_latest()
        self.block = np.empty(self.reader.spec.shape, dtype=self.reader.spec.dtype)
        self.blocks = 0
        self.gaps = 0
        self.expected = -1
        self.rms_db = -120.0
        self.sum_squares = 0.0
        self.samples = 0

    def wait_on(self) -> list[RingReader]:
        return [self.reader]

    def step(self) -> None:
        reader = self.reader
        while reader.available() > 0 and reader.read_into(self.block):
            if self.expected >= 0 and reader.last_index != self.expected:
                self.gaps += 1
            self.expected = reader.last_index + 1
            self.blocks += 1
            flat = self.block.reshape(-1)
            self.sum_squares += float(np.dot(flat, flat))
            self.samples += flat.size

    def telemetry(self) -> dict[str, Any]:
        if self.samples:
            rms = (self.sum_squares / self.samples) ** 0.5
            self.rms_db = 20 * float(np.log10(max(rms, 1e-6)))
            self.sum_squares, self.samples = 0.0, 0
        return {"blocks": self.blocks, "gaps": self.gaps, "rms_db": round(self.rms_db, 2)}
