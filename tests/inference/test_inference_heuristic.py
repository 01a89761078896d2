"""Degraded-mode heuristic and the gate/smoothing, on real feature frames."""

from __future__ import annotations

import numpy as np

from kelly_actors.audio.features import extract
from kelly_actors.inference.heuristic import HEURISTIC_CONFIDENCE, HeuristicEstimator
from kelly_actors.inference.smoothing import Smoother

SR = 48_000


def _chord(pitches: list[int], gain: float, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    hz = [440.0 * 2 ** ((p - 69) / 12) for p in pitches]
    x = sum(np.sin(2 * np.pi * f * t) for f in hz) / len(hz)
    return (gain * x).astype(np.float32)


def _estimate(signal: np.ndarray) -> tuple[float, float, float, float]:
    est = HeuristicEstimator()
    _, frames = extract(signal, SR, 2048, 512)
    out = (0.0, 0.0, 0.0, 0.0)
    for frame in frames:
        out = est.update(frame)
    return out


def test_a_major_chord_reads_as_positive_valence_and_a_minor_one_as_negative() -> None:
    major = _estimate(_chord([60, 64, 67, 72], 0.3))
    minor = _estimate(_chord([60, 63, 67, 72], 0.3))
    assert major[0] > 0.2 and minor[0] < -0.2
    assert major[3] == HEURISTIC_CONFIDENCE


def test_louder_playing_reads_as_more_dominance_and_silence_as_no_confidence() -> None:
    soft = _estimate(_chord([60, 64, 67], 0.02))
    loud = _estimate(_chord([60, 64, 67], 0.5))
    assert loud[2] > soft[2] + 0.3
    assert _estimate(np.zeros(SR * 2, np.float32))[3] == 0.0


def test_frames_below_the_gate_do_not_move_the_smoothed_estimate() -> None:
    s = Smoother(alpha=0.1, gate=0.3)
    assert s.update((0.5, 0.5, 0.5, 0.1)) is None
    assert s.update((1.0, 1.0, 1.0, 0.9)) == (1.0, 1.0, 1.0, 0.9)
    assert s.update((-1.0, 0.0, 0.0, 0.2)) == (1.0, 1.0, 1.0, 0.9)
    v = s.update((0.0, 0.0, 0.0, 0.9))
    assert np.allclose(v, (0.9, 0.9, 0.9, 0.9))
    assert s.gated == 2
