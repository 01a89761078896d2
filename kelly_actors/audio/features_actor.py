"""The features actor: ``audio_in`` blocks → one 128-value vector per hop and stream on
``frames``.

``audio_in`` is float32 (block, N): one column per input channel (an ensemble's
performers; N = 1 for a solo performance). Each column has a streaming extractor of its
own; each hop writes one ``frames`` slot holding every stream's vector — float32 (128,)
for one stream, (N, 128) for N, row k from column k (:func:`~kelly_actors.bus.frames.streams_of`)
— stamped with the sample time of the hop's first sample, the same for every row.
"""

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
    streams_of,
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


def check_rings(config: FeaturesConfig, rings: dict[str, Any]) -> int:
    """The streams: ``in_ring`` float32 (block, N) and ``frames_ring`` float32 (128,)
    (N = 1) or (N, 128); ConfigError naming the ring when they disagree."""
    inp = rings.get(config.in_ring)
    if inp is None or len(inp.shape) != 2 or inp.dtype != "float32":
        raise ConfigError(f"ring {config.in_ring!r} must be float32[block, channels]")
    frames = rings.get(config.frames_ring)
    if frames is None or frames.dtype != "float32":
        raise ConfigError(f"ring {config.frames_ring!r} must be float32[{N_FEATURES}]")
    try:
        streams = streams_of(frames.shape)
    except ValueError as exc:
        raise ConfigError(f"ring {config.frames_ring!r}: {exc}") from None
    channels = int(inp.shape[1])
    if streams != channels:
        want = f"[{N_FEATURES}]" if channels == 1 else f"[{channels}, {N_FEATURES}]"
        raise ConfigError(
            f"ring {config.in_ring!r} carries {channels} input channel(s) but ring "
            f"{config.frames_ring!r} carries {streams} stream(s): with {channels} channel(s) "
            f"it must be float32{want} (one row per stream)"
        )
    return streams


class FeaturesActor(Actor):
    """Each frame goes out with the sample time of its first sample."""

    Config = FeaturesConfig

    @classmethod
    def preflight(cls, config: FeaturesConfig, rings: dict[str, Any]) -> None:
        check_rings(config, rings)

    def on_start(self) -> None:
        cfg: FeaturesConfig = self.config
        clock = self.ctx.transport.read()
        self.sample_rate = cfg.sample_rate or (clock.sample_rate if clock else 48_000)
        self.reader = self.ctx.reader(cfg.in_ring)
        self.writer = self.ctx.writer(cfg.frames_ring)
        # A restarted extractor starts fresh on live input: what queued while it was away is stale.
        self.reader.seek_latest()
        self.block = np.empty(self.reader.spec.shape, np.float32)
        self.streams = self.block.shape[1]
        self.extractors: list[FeatureExtractor] = []
        # One slot's rows, written whole each hop (the ring's shape: (128,) or (N, 128)).
        self.slot = np.zeros(self.writer.spec.shape, np.float32)
        self.rows = self.slot.reshape(self.streams, N_FEATURES)
        self.expected = -1
        self.hops = 0
        self.busy = 0.0

    def wait_on(self) -> list[Waitable]:
        return [self.reader]

    def _restart(self, start_time: int) -> None:
        cfg: FeaturesConfig = self.config
        self.extractors = [
            FeatureExtractor(self.sample_rate, cfg.frame_size, cfg.hop_size, start_time=start_time)
            for _ in range(self.streams)
        ]

    def step(self) -> None:
        reader = self.reader
        start = time.perf_counter()
        while reader.available() > 0 and reader.read_into(self.block):
            if reader.last_sample_time != self.expected:
                # First block, or input lost to an overrun: frames restart at this block.
                self._restart(reader.last_sample_time)
            self.expected = reader.last_sample_time + self.block.shape[0]
            hops = [ex.process(self.block[:, k]) for k, ex in enumerate(self.extractors)]
            # Every extractor saw the same samples: the same hops at the same times.
            for j, (sample_time, _) in enumerate(hops[0]):
                for k in range(self.streams):
                    self.rows[k] = hops[k][j][1]
                self.writer.write(self.slot, sample_time)
                self.hops += 1
        self.busy += time.perf_counter() - start

    def telemetry(self) -> dict[str, Any]:
        out = _summary(self.rows[0])
        if self.streams > 1:
            out["streams"] = [_summary(row) for row in self.rows]
        return {
            "hops": self.hops,
            "us_per_hop": round(self.busy / self.hops * 1e6, 1) if self.hops else 0.0,
            **out,
        }


def _summary(last: np.ndarray) -> dict[str, float]:
    """The figures status shows of one stream's last vector."""
    return {
        "loudness_db": round(float(last[LOUDNESS_DB]), 2),
        "f0_hz": round(float(last[F0_HZ]), 2),
        "f0_confidence": round(float(last[F0_CONFIDENCE]), 3),
        "tempo_bpm": round(float(last[TEMPO_BPM]), 1),
    }
