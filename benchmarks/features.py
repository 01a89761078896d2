"""Cost per hop of the streaming feature extractor vs librosa on the same frames.

Ours: :class:`kelly_actors.audio.features.FeatureExtractor` fed 512-sample blocks (the whole
128-value vector per hop). librosa, in the same run, on the same frames (``center=False``):
RMS, ZCR, centroid, bandwidth, rolloff, flatness, contrast, MFCC + delta, chroma, YIN and
onset strength + tempo, each computed over the whole signal at once (its best case: batched),
divided by the number of frames. librosa is warmed up first (numba compilation excluded).

Usage: ``python benchmarks/features.py [--quick]``; the last line is one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from kelly_actors.audio.features import FeatureExtractor  # noqa: E402

SR, FRAME, HOP, BLOCK = 48000, 2048, 512, 512


def signal(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
    x += 0.1 * np.sin(2 * np.pi * 330 * t) + 0.01 * rng.standard_normal(t.size)
    return x.astype(np.float32)


def ours(x: np.ndarray) -> tuple[float, int]:
    fx = FeatureExtractor(SR, FRAME, HOP)
    n = 0
    start = time.process_time()
    for pos in range(0, x.size, BLOCK):
        n += len(fx.process(x[pos : pos + BLOCK]))
    return time.process_time() - start, n


def librosa_all(librosa, x: np.ndarray) -> int:
    kw = {"n_fft": FRAME, "hop_length": HOP, "center": False}
    S = np.abs(librosa.stft(x, **kw))
    power = S**2
    librosa.feature.rms(y=x, frame_length=FRAME, hop_length=HOP, center=False)
    librosa.feature.zero_crossing_rate(x, frame_length=FRAME, hop_length=HOP, center=False)
    librosa.feature.spectral_centroid(S=S, sr=SR)
    librosa.feature.spectral_bandwidth(S=S, sr=SR)
    librosa.feature.spectral_rolloff(S=S, sr=SR)
    librosa.feature.spectral_flatness(S=S)
    librosa.feature.spectral_contrast(S=S, sr=SR)
    mel = librosa.feature.melspectrogram(S=power, sr=SR)
    mel_db = librosa.power_to_db(mel, top_db=None)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=13)
    librosa.feature.delta(mfcc, width=5)
    librosa.feature.chroma_stft(S=power, sr=SR, tuning=0.0)
    librosa.yin(x, fmin=47.0, fmax=2000.0, sr=SR, frame_length=FRAME, hop_length=HOP,
                center=False)  # fmt: skip
    onset = librosa.onset.onset_strength(S=mel_db, sr=SR, hop_length=HOP, center=False)
    librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=HOP)
    return S.shape[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (well under a minute)")
    args = parser.parse_args()
    seconds = 10.0 if args.quick else 60.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import librosa

        x = signal(seconds)
        librosa_all(librosa, x[: SR * 3])  # warm-up: numba JIT, caches
        ours(x[: SR * 1])
        t_ours, n_ours = ours(x)
        start = time.process_time()
        n_ref = librosa_all(librosa, x)
        t_ref = time.process_time() - start
    us_ours = 1e6 * t_ours / n_ours
    us_ref = 1e6 * t_ref / n_ref
    result = {
        "benchmark": "features",
        "sample_rate": SR,
        "frame_size": FRAME,
        "hop_size": HOP,
        "frames": n_ours,
        "us_per_hop": round(us_ours, 1),
        "librosa_us_per_hop": round(us_ref, 1),
        "ratio_vs_librosa": round(us_ours / us_ref, 3),
        "hop_budget_us": round(1e6 * HOP / SR, 1),
        "realtime_load": round(us_ours / (1e6 * HOP / SR), 4),
        "quick": args.quick,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
