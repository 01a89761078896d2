"""Streaming extractor: any block sizes give the offline frames, with sample timestamps."""

import numpy as np
import pytest

from kelly_actors.audio.features import FEATURE_NAMES, N_FEATURES, FeatureExtractor, extract
from kelly_actors.bus import frames as L


def _signal(sr: int, seconds: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(int(sr * seconds)) / sr
    x = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(t.size)
    x[int(0.5 * sr) : int(0.5 * sr) + 200] += 0.8  # a click
    return x.astype(np.float32)


def test_layout_names_all_128_indices_uniquely():
    assert N_FEATURES == 128
    assert len(FEATURE_NAMES) == 128
    assert all(FEATURE_NAMES)
    assert len(set(FEATURE_NAMES)) == 128
    assert L.LOGMEL.stop == 128


@pytest.mark.parametrize("sr,frame,hop", [(44100, 2048, 512), (48000, 2048, 256),
                                          (96000, 4096, 1024)])  # fmt: skip
def test_random_block_sizes_give_exactly_the_offline_frames(sr, frame, hop):
    x = _signal(sr, 1.2)
    times, feats = extract(x, sr, frame, hop, start_time=1000)
    fx = FeatureExtractor(sr, frame, hop, start_time=1000)
    rng = np.random.default_rng(sr)
    got = []
    pos = 0
    while pos < x.size:
        n = int(rng.integers(64, 2049))
        got.extend(fx.process(x[pos : pos + n]))
        pos += n
    assert [t for t, _ in got] == times.tolist()
    stream = np.stack([v for _, v in got])
    assert stream.dtype == np.float32 and stream.shape == (len(times), 128)
    np.testing.assert_array_equal(stream, feats)


def test_frames_carry_their_first_sample_time():
    sr, frame, hop = 48000, 2048, 512
    x = _signal(sr, 0.5)
    times, _ = extract(x, sr, frame, hop, start_time=123_456)
    expected = 123_456 + hop * np.arange(1 + (x.size - frame) // hop)
    np.testing.assert_array_equal(times, expected)


def test_a_frame_is_emitted_as_soon_as_its_last_sample_arrives():
    fx = FeatureExtractor(48000, 2048, 512)
    assert fx.process(np.zeros(2047, np.float32)) == []
    first = fx.process(np.zeros(1, np.float32))
    assert [t for t, _ in first] == [0]
    assert fx.process(np.zeros(511, np.float32)) == []
    assert [t for t, _ in fx.process(np.zeros(1, np.float32))] == [512]


def test_silence_gives_floor_loudness_and_unvoiced_frames():
    _, feats = extract(np.zeros(48000, np.float32))
    assert np.all(feats[:, L.RMS] == 0.0)
    assert np.all(feats[:, L.LOUDNESS_DB] == -120.0)
    assert np.all(feats[:, L.VOICED] == 0.0)
    assert np.all(feats[:, L.CHROMA] == 0.0)
    assert np.all(np.isfinite(feats))


def test_loudness_of_a_full_scale_sine_is_minus_3_db():
    sr = 48000
    t = np.arange(sr) / sr
    _, feats = extract(np.sin(2 * np.pi * 1000 * t).astype(np.float32), sr)
    # 2048 samples hold 42.67 cycles: the partial cycle moves the frame RMS by < 0.02 dB.
    np.testing.assert_allclose(feats[:, L.LOUDNESS_DB], -3.0103, atol=0.03)
    np.testing.assert_allclose(feats[:, L.CREST_DB], 3.0103, atol=0.03)
