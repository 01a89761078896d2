"""Musical measurements of bars of notes: key mode, entropy, scale and groove consistency.

All take quantized bars (:class:`~kelly_actors.transformer.tokens.Bar`);
drums are left out of every pitch measure.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.tokens import Bar

# Krumhansl–Kessler key profiles (probe-tone ratings), C major and C minor.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
DIATONIC = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)


def pitch_class_histogram(bars: Sequence[Bar]) -> np.ndarray:
    """Duration-weighted pitch-class histogram ``float64 [12]`` (pitched tracks)."""
    hist = np.zeros(12)
    for bar in bars:
        for n in bar.notes:
            if n.track != "drums":
                hist[n.pitch % 12] += n.duration_beats
    return hist


def key_of(bars: Sequence[Bar]) -> tuple[int, str] | None:
    """(tonic pitch class 0…11, "major" or "minor"): the best Krumhansl–Kessler
    correlation over the 24 keys; None without pitched notes."""
    hist = pitch_class_histogram(bars)
    if hist.sum() == 0:
        return None
    _, mode, tonic = max(
        (float(np.corrcoef(hist, np.roll(profile, tonic))[0, 1]), mode, tonic)
        for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE))
        for tonic in range(12)
    )
    return tonic, mode


def key_mode(bars: Sequence[Bar]) -> str:
    """ "major" or "minor" (:func:`key_of`), "none" without pitched notes."""
    key = key_of(bars)
    return "none" if key is None else key[1]


def pitch_class_entropy(bars: Sequence[Bar]) -> float:
    """Shannon entropy (bits, 0…log2 12 ≈ 3.58) of the pitch-class histogram."""
    hist = pitch_class_histogram(bars)
    if hist.sum() == 0:
        return 0.0
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(bars: Sequence[Bar]) -> float:
    """Largest fraction of (duration-weighted) pitch content inside one diatonic scale."""
    hist = pitch_class_histogram(bars)
    if hist.sum() == 0:
        return 0.0
    return max(float(hist[np.roll(DIATONIC, t)].sum() / hist.sum()) for t in range(12))


def groove_consistency(bars: Sequence[Bar]) -> float:
    """1 − mean Hamming distance / 16 between the onset grids of consecutive bars."""
    grids = []
    for bar in bars:
        grid = np.zeros(V.STEPS_PER_BAR, bool)
        for n in bar.notes:
            grid[round(n.start_beat * V.STEPS_PER_BEAT)] = True
        grids.append(grid)
    if len(grids) < 2:
        return 1.0
    dist = [np.mean(a != b) for a, b in itertools.pairwise(grids)]
    return float(1.0 - np.mean(dist))


def density(bars: Sequence[Bar]) -> float:
    """Notes per bar (all tracks)."""
    return float(np.mean([len(b.notes) for b in bars])) if bars else 0.0


def mean_velocity(bars: Sequence[Bar]) -> float:
    velocities = [n.velocity for b in bars for n in b.notes]
    return float(np.mean(velocities)) if velocities else 0.0


def mean_tempo(bars: Sequence[Bar]) -> float:
    return float(np.mean([b.tempo_bpm for b in bars])) if bars else 0.0


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties)."""

    def ranks(values: Sequence[float]) -> np.ndarray:
        values = np.asarray(values, float)
        order = values.argsort(kind="stable")
        r = np.empty(len(values))
        r[order] = np.arange(len(values))
        for v in np.unique(values):
            r[values == v] = r[values == v].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def musicality(pieces: Sequence[Sequence[Bar]]) -> dict[str, float]:
    """Means over pieces of entropy, scale consistency and groove consistency."""
    return {
        "pitch_class_entropy_bits": round(
            float(np.mean([pitch_class_entropy(p) for p in pieces])), 3
        ),
        "scale_consistency": round(float(np.mean([scale_consistency(p) for p in pieces])), 3),
        "groove_consistency": round(float(np.mean([groove_consistency(p) for p in pieces])), 3),
    }
