"""The synth actor's transfer mode: feature frames of the live input drive one extra voice.

:class:`TransferInput` reads the ``frames`` ring (f0, its confidence and loudness per frame),
feeds them to a :class:`~kelly_actors.synth.transfer.TransferVoice` and mixes that voice into
each block the MIDI voices rendered. See ``docs/neural_ddsp.md``, "Timbre transfer".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kelly_actors.bus.frames import F0_CONFIDENCE, F0_HZ, LOUDNESS_DB, N_FEATURES
from kelly_actors.synth.config import SynthConfig
from kelly_actors.synth.presets import PRESETS
from kelly_actors.synth.transfer import TransferParams, TransferVoice

__all__ = ["TransferInput"]


class TransferInput:
    """The transfer voice and the ring it listens to.

    Args:
        reader: reader of the ``frames`` ring (float32 ``(N_FEATURES,)`` frames).
        cfg: the synth's settings (``features``, ``transfer``, ``preset``, block size).
    """

    def __init__(self, reader: Any, cfg: SynthConfig) -> None:
        self.reader = reader
        reader.seek_latest()  # live input: frames queued before this start are stale
        self.frame = np.empty(N_FEATURES, np.float32)
        params = TransferParams(
            sample_rate=cfg.sample_rate,
            frame_size=cfg.features.frame_size,
            feature_hop=cfg.features.hop,
            min_confidence=cfg.transfer.confidence,
            fade_db=cfg.transfer.fade_db,
            slack=cfg.transfer.slack_blocks * cfg.block_size,
        )
        self.voice = TransferVoice(params, None, PRESETS[cfg.preset])
        self.gain = cfg.transfer.gain
        self.sample_rate = cfg.sample_rate
        self._scaled = np.zeros(cfg.block_size, np.float64)

    def take_frames(self, render_pos: int) -> None:
        """Unread feature frames → the voice's control track (``render_pos``: the synth's
        next sample, before which the track can no longer change)."""
        reader, frame, voice = self.reader, self.frame, self.voice
        while reader.available() > 0 and reader.read_into(frame):
            voice.push(
                int(reader.last_sample_time),
                float(frame[F0_HZ]),
                float(frame[F0_CONFIDENCE]),
                float(frame[LOUDNESS_DB]),
                render_pos,
            )

    def mix_into(self, block: np.ndarray, start: int) -> None:
        """Add the voice (× ``gain``, mono on each channel) for the samples from ``start`` to
        float32 ``block (n, channels)``, clipped to [−1, 1]."""
        n = block.shape[0]
        np.multiply(self.voice.render(start, n), self.gain, out=self._scaled[:n])
        block += self._scaled[:n, None].astype(np.float32)
        np.clip(block, -1.0, 1.0, out=block)

    def telemetry(self) -> dict[str, Any]:
        voice = self.voice
        track = voice.track
        latency = track.latency
        return {
            "mode": "transfer",
            "transfer_timbre": voice.timbre.name if voice.timbre else "preset",
            "transfer_frames": track.frames,
            "transfer_late_frames": track.late,
            "transfer_dropped_frames": track.dropped,
            "transfer_latency_ms": (
                round(latency / self.sample_rate * 1e3, 3) if latency is not None else None
            ),
            "transfer_voiced": voice.voiced,
            "transfer_f0_hz": round(voice.mapper.pitch, 2),
            "transfer_loudness_db": round(voice.mapper.loudness, 2),
        }
