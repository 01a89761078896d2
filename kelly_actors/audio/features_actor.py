"""The features actor: ``audio_in`` blocks → one 128-value vector per hop on ``frames``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor, Waitable
from kelly_actors.audio.features.extractor import FeatureExtractor
from kelly_actors.bus.frames import (
    F0_CONFIDENCE,
    F0_HZ,
    LOUDNESS_DB,
    N_FEATURES,
    TEMPO_BPM,
)
from kelly_actors.config.typed import Checked, ConfigError, setting


@dataclass(frozen=True)
class FeaturesConfig(Checked):
    """Attributes: sample_rate (Hz; 0 = the clock's, from the transport), frame_size
    and hop_size (samples), ring names."""

    sample_rate: int = setting(0, low=0)
    frame_size: int = setting(2048, low=256)
    hop_size: int = setting(512, low=1)
    in_ring: str = "audio_in"
    frames_ring: str = "frames"


class FeaturesActor(Actor):
    """Each frame goes out with the sample time of its first sample."""

    Config = FeaturesConfig

    @classmethod
    def preflight(cls, config: FeaturesConfig, rings: dict[str, Any]) -> None:
        frames = rings.get(config.frames_ring)
        if frames is None or tuple(frames.shape) != (N_FEATURES,) or frames.dtype != "float32":
            raise ConfigError(f"ring {config.frames_ring!r} must be float32[{N_FEATURES}]")
        inp = rings.get(config.in_ring)
        if inp is None or len(inp.shape) != 2 or inp.shape[1] != 1:
            raise ConfigError(f"ring {config.in_ring!r} must be float32[block, 1]")

    def on_start(self) -> None:
        cfg: FeaturesConfig = self.config
        clock = self.ctx.transport.read()
        self.sample_rate = cfg.sample_rate or (clock.sample_rate if clock else 48_000)
        self.reader = self.ctx.reader(cfg.in_ring)
        self.writer = self.ctx.writer(cfg.frames_ring)
        # A restarted extractor starts fresh on live input: what queued while it was away is stale.
        self.reader.seek_latest()
        self.block = np.empty(self.reader.spec.shape, np.float32)
        self.extractor: FeatureExtractor
        self.expected = -1
        self.hops = 0
        self.busy = 0.0
        self.last = np.zeros(N_FEATURES, np.float32)

    def wait_on(self) -> list[Waitable]:
        return [self.reader]

    def step(self) -> None:
        reader = self.reader
        start = time.perf_counter()
        while reader.available() > 0 and reader.read_into(self.block):
            if reader.last_sample_time != self.expected:
                # First block, or input lost to an overrun: frames restart at this block.
                cfg: FeaturesConfig = self.config
                self.extractor = FeatureExtractor(
                    self.sample_rate,
                    cfg.frame_size,
                    cfg.hop_size,
                    start_time=reader.last_sample_time,
                )
            self.expected = reader.last_sample_time + self.block.shape[0]
            for sample_time, vector in self.extractor.process(self.block[:, 0]):
                self.writer.write(vector, sample_time)
                self.last = vector
                self.hops += 1
        self.busy += time.perf_counter() - start

    def telemetry(self) -> dict[str, Any]:
        last = self.last
        return {
            "hops": self.hops,
            "us_per_hop": round(self.busy / self.hops * 1e6, 1) if self.hops else 0.0,
            "loudness_db": round(float(last[LOUDNESS_DB]), 2),
            "f0_hz": round(float(last[F0_HZ]), 2),
            "f0_confidence": round(float(last[F0_CONFIDENCE]), 3),
            "tempo_bpm": round(float(last[TEMPO_BPM]), 1),
        }
