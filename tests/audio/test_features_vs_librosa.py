"""Feature accuracy against librosa on exactly the same frames (center=False).

Tolerances (stated, all on the same float32 input):
* MFCC: absolute 0.02 (in the dB-scaled DCT domain; typical values ±300). The reference is
  librosa's MFCC pipeline with ``power_to_db(top_db=None)``: our streaming extractor cannot
  apply librosa's whole-signal ``top_db=80`` clamp, which depends on future frames.
* spectral centroid: relative 1e-4 of the value.
* chroma (tuning fixed at 0): absolute 1e-4 (values 0…1).
* the other librosa-defined descriptors (bandwidth, rolloff, flatness, contrast, ZCR, RMS,
  MFCC delta) with the tolerances written in each assertion.
"""

import warnings

import numpy as np
import pytest

with warnings.catch_warnings():
    # numba / librosa may warn on import about optional dependencies; only import is covered.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    import librosa

from kelly_actors.audio.features import extract
from kelly_actors.bus import frames as L

CASES = [(44100, 2048, 512), (48000, 2048, 512), (96000, 4096, 1024)]


def _test_signal(sr: int, seconds: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(sr)
    t = np.arange(int(sr * seconds)) / sr
    sweep = 0.3 * np.sin(2 * np.pi * (200 * t + 400 * t**2))
    chord = sum(0.15 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))
    noise = 0.02 * rng.standard_normal(t.size)
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 1.5 * t)
    return ((sweep + chord) * env + noise).astype(np.float32)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}Hz")
def case(request):
    sr, n_fft, hop = request.param
    y = _test_signal(sr)
    times, feats = extract(y, sr, n_fft, hop)
    kw = {"n_fft": n_fft, "hop_length": hop, "center": False}
    return sr, n_fft, hop, y, times, feats, kw


def test_mfcc_matches_librosa_within_0_02(case):
    sr, _, _, y, _, feats, kw = case
    mel = librosa.feature.melspectrogram(y=y, sr=sr, **kw)
    ref = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=L.N_MFCC)
    assert ref.shape[1] == feats.shape[0]
    np.testing.assert_allclose(feats[:, L.MFCC], ref.T, atol=0.02, rtol=0)


def test_spectral_centroid_matches_librosa_within_1e_4_relative(case):
    sr, _, _, y, _, feats, kw = case
    ref = librosa.feature.spectral_centroid(y=y, sr=sr, **kw)[0]
    np.testing.assert_allclose(feats[:, L.CENTROID_HZ], ref, rtol=1e-4)


def test_chroma_matches_librosa_within_1e_4(case):
    sr, _, _, y, _, feats, kw = case
    ref = librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0, **kw)
    np.testing.assert_allclose(feats[:, L.CHROMA], ref.T, atol=1e-4, rtol=0)


def test_other_spectral_descriptors_match_librosa(case):
    sr, n_fft, hop, y, _, feats, kw = case
    bw = librosa.feature.spectral_bandwidth(y=y, sr=sr, **kw)[0]
    np.testing.assert_allclose(feats[:, L.BANDWIDTH_HZ], bw, rtol=1e-4)
    rolloff = librosa.feature.spectral_rolloff(y=y, sr=sr, **kw)[0]
    bin_hz = sr / n_fft  # float32 cumulative sums may land one bin apart
    np.testing.assert_allclose(feats[:, L.ROLLOFF_HZ], rolloff, atol=bin_hz * 1.01, rtol=0)
    flat = librosa.feature.spectral_flatness(y=y, **kw)[0]
    np.testing.assert_allclose(feats[:, L.FLATNESS], flat, rtol=1e-3, atol=1e-7)
    contrast = librosa.feature.spectral_contrast(y=y, sr=sr, **kw)
    np.testing.assert_allclose(feats[:, L.CONTRAST], contrast.T, atol=0.01, rtol=0)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop, center=False)
    np.testing.assert_allclose(feats[:, L.ZCR], zcr[0], atol=1e-6, rtol=0)
    rms = librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop, center=False)[0]
    np.testing.assert_allclose(feats[:, L.RMS], rms, rtol=1e-5)


def test_mfcc_delta_is_librosa_delta_delayed_by_two_hops(case):
    sr, _, _, y, _, feats, kw = case
    mel = librosa.feature.melspectrogram(y=y, sr=sr, **kw)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=L.N_MFCC)
    ref = librosa.feature.delta(mfcc, width=5, order=1, axis=-1)
    # Interior frames: our delta at hop t is the centred delta of hop t - 2.
    np.testing.assert_allclose(feats[4:, L.MFCC_DELTA], ref.T[2:-2], atol=0.01, rtol=0)
