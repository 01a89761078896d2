"""Degraded mode: emotion estimates from energy, tempo and mode, without a model.

Used while no usable model is loaded (missing, corrupt or incompatible file). Per frame
(float32 (128,), layout of docs/features.md), with exponential averages over ~2 s:

* **dominance** from loudness: −45 dBFS → 0 … −10 dBFS → 1;
* **arousal** from tempo and onset rate: half ``(tempo − 60) / 120`` (tempo feature, once
  it is known), half onsets per second / 6;
* **valence** from mode: the averaged chroma is correlated with the 24 Krumhansl–Kessler
  key profiles; valence = 3 × (best major − best minor correlation), clipped to −1…1;
* **confidence**: 0.5 (HEURISTIC_CONFIDENCE) while there is sound, 0 in silence (below
  −60 dBFS), so a composer gate above 0.5 ignores it.
"""

from __future__ import annotations

import numpy as np

from kelly_actors.bus.frames import CHROMA, LOUDNESS_DB, ONSET, TEMPO_BPM

HEURISTIC_CONFIDENCE = 0.5
SILENCE_DB = -60.0
#: Per-frame averaging weight: 1/188 ≈ a 2 s time constant at 94 frames/s.
ALPHA = 1.0 / 188.0
HOPS_PER_S = 48_000 / 512

_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _profiles(base: np.ndarray) -> np.ndarray:
    rolled = np.stack([np.roll(base, k) for k in range(12)])
    rolled = rolled - rolled.mean(1, keepdims=True)
    return rolled / np.linalg.norm(rolled, axis=1, keepdims=True)


MAJOR_PROFILES = _profiles(_MAJOR)
MINOR_PROFILES = _profiles(_MINOR)


class HeuristicEstimator:
    """``update(frame) → (valence, arousal, dominance, confidence)``."""

    def __init__(self) -> None:
        self.loudness = -80.0
        self.onsets = 0.0
        self.tempo = 0.0
        self.chroma = np.zeros(12)

    def update(self, frame: np.ndarray) -> tuple[float, float, float, float]:
        loud = float(frame[LOUDNESS_DB])
        self.loudness += ALPHA * 4 * (loud - self.loudness)
        self.onsets += ALPHA * (float(frame[ONSET]) * HOPS_PER_S - self.onsets)
        tempo = float(frame[TEMPO_BPM])
        if tempo > 0:
            self.tempo = tempo
        if loud > SILENCE_DB:
            self.chroma += ALPHA * (frame[CHROMA].astype(np.float64) - self.chroma)
        dominance = float(np.clip((self.loudness + 45.0) / 35.0, 0.0, 1.0))
        pace = float(np.clip((self.tempo - 60.0) / 120.0, 0.0, 1.0)) if self.tempo else 0.5
        arousal = float(np.clip(0.5 * pace + 0.5 * self.onsets / 6.0, 0.0, 1.0))
        c = self.chroma - self.chroma.mean()
        norm = float(np.linalg.norm(c))
        valence = 0.0
        if norm > 1e-9:
            c = c / norm
            valence = float(
                np.clip(3.0 * ((MAJOR_PROFILES @ c).max() - (MINOR_PROFILES @ c).max()), -1, 1)
            )
        confidence = HEURISTIC_CONFIDENCE if self.loudness > SILENCE_DB else 0.0
        return valence, arousal, dominance, confidence
