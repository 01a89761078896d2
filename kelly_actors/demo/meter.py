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
    """Counts blocks, sequence gaps and measures RMS (dBFS) of what it reads."""

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

    def wait_on(self) -> list[RingReader]:
        return [self.reader]

    def step(self) -> None:
        reader = self.reader
        while reader.available() > 0 and reader.read_into(self.block):
            if self.expected >= 0 and reader.last_index != self.expected:
                self.gaps += 1
            self.expected = reader.last_index + 1
            self.blocks += 1
        if self.blocks:
            rms = float(np.sqrt(np.mean(np.square(self.block, dtype=np.float64))))
            self.rms_db = 20 * np.log10(max(rms, 1e-6))

    def telemetry(self) -> dict[str, Any]:
        return {"blocks": self.blocks, "gaps": self.gaps, "rms_db": round(self.rms_db, 2)}
