"""Onset detection and the running tempo estimate on click trains."""

import numpy as np
import pytest

from kelly_actors.audio.features import extract
from kelly_actors.bus import frames as L


def _click_train(bpm: float, sr: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).standard_normal(int(sr * seconds)) * 1e-3
    period = 60.0 / bpm
    clicks = (np.arange(0.25, seconds - 0.05, period) * sr).astype(int)
    burst = np.random.default_rng(1).standard_normal(256) * np.exp(-np.arange(256) / 40.0)
    for c in clicks:
        x[c : c + 256] += 0.8 * burst
    return x.astype(np.float32), clicks


def test_every_click_is_flagged_as_an_onset_within_one_frame():
    sr, frame, hop = 48000, 2048, 512
    x, clicks = _click_train(100.0, sr, 6.0)
    times, feats = extract(x, sr, frame, hop)
    onset_times = times[feats[:, L.ONSET] == 1.0]
    assert len(onset_times) == len(clicks)
    # The frame that flags a click contains it (click lies in [t, t + frame)).
    for c, t in zip(clicks, onset_times, strict=True):
        assert t <= c < t + frame


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_running_tempo_converges_to_the_click_tempo_within_2_percent(bpm):
    sr = 48000
    x, _ = _click_train(bpm, sr, 10.0)
    _, feats = extract(x, sr, 2048, 512)
    tempo = feats[-1, L.TEMPO_BPM]
    assert abs(tempo - bpm) / bpm < 0.02, tempo
    assert feats[-1, L.TEMPO_CONFIDENCE] > 0.3
    assert np.all((feats[:, L.BEAT_PHASE] >= 0.0) & (feats[:, L.BEAT_PHASE] < 1.0))


def test_beat_phase_is_near_zero_at_the_frames_that_flag_clicks():
    sr = 48000
    x, _ = _click_train(120.0, sr, 10.0)
    _, feats = extract(x, sr, 2048, 512)
    late = feats[len(feats) // 2 :]
    phase = late[late[:, L.ONSET] == 1.0, L.BEAT_PHASE]
    # Circular distance to 0, in beats; onsets are flagged within ~1 hop of each other.
    dist = np.minimum(phase, 1.0 - phase)
    assert np.ptp(np.unwrap(phase * 2 * np.pi)) / (2 * np.pi) < 0.2 or dist.max() < 0.2
