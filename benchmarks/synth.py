"""How many DDSP voices (64 harmonics + filtered noise, 48 kHz) one core renders in real time.

Renders held notes with the ``strings`` preset (all 64 harmonics non-zero, vibrato, noise)
through :class:`kelly_actors.synth.voices.Synth` in 512-frame blocks, at several voice counts,
fits ``seconds_per_audio_second = a + b · voices`` and reports the voice count where it reaches
1.0. The baseline, measured in the same run, is the textbook DDSP oscillator bank
(:func:`kelly_actors.synth.ddsp.oscillator_bank`, one ``sin`` per harmonic per sample) plus the
same filtered noise, for the same voices.

Usage: ``python benchmarks/synth.py [--quick]``; the last line is one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from kelly_actors.synth import ddsp  # noqa: E402
from kelly_actors.synth.presets import get_preset  # noqa: E402
from kelly_actors.synth.voices import Synth  # noqa: E402

SR = 48000
BLOCK = 512
TARGET_VOICES = 16


def engine_cost(n_voices: int, seconds: float) -> float:
    """CPU seconds per second of audio for ``n_voices`` held voices."""
    synth = Synth(SR, channels=2, n_voices=n_voices, preset="strings", max_block=BLOCK)
    for i in range(n_voices):
        synth.note_on(0, 36 + (i * 7) % 48, 100, channel=i % 4)
    synth.render(BLOCK * 4)
    n_blocks = int(seconds * SR / BLOCK)
    out = np.empty((BLOCK, 2), dtype=np.float32)
    start = time.process_time()
    for _ in range(n_blocks):
        synth.render(BLOCK, out=out)
    return (time.process_time() - start) / (n_blocks * BLOCK / SR)


def baseline_cost(n_voices: int, seconds: float) -> float:
    """Same voices through the per-harmonic ``sin`` oscillator bank (DDSP reference)."""
    p = get_preset("strings")
    f0 = ddsp.midi_to_hz(36 + (np.arange(n_voices) * 7) % 48)
    dist = np.broadcast_to(p.harmonic_distribution, (n_voices, 64))
    freqs = ddsp.harmonic_frequencies(np.repeat(f0[:, None], BLOCK, axis=1), 64)
    amps = np.broadcast_to(dist[:, None, :] * 0.5, freqs.shape)
    phases = np.zeros((n_voices, 64))
    ir = ddsp.frequency_impulse_response(np.tile(p.noise_magnitudes(SR), (n_voices, 1)))
    tail = np.zeros((n_voices, ir.shape[-1] - 1))
    rng = np.random.default_rng(0)
    n_blocks = max(1, int(seconds * SR / BLOCK))
    start = time.process_time()
    for _ in range(n_blocks):
        audio, phases = ddsp.oscillator_bank(freqs, amps, SR, phases)
        noise, tail = ddsp.fft_convolve_stream(rng.uniform(-1, 1, (n_voices, BLOCK)), ir, tail)
        _ = (audio + noise).sum(axis=0)
    return (time.process_time() - start) / (n_blocks * BLOCK / SR)


def realtime_voices(costs: dict[int, float]) -> float:
    """Voices at which the fitted cost line reaches 1 s of CPU per second of audio."""
    v = np.array(sorted(costs), dtype=np.float64)
    c = np.array([costs[int(k)] for k in v])
    slope, intercept = np.polyfit(v, c, 1)
    return float((1.0 - intercept) / slope)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (well under a minute)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 5.0
    counts = (8, 16, 32, 64) if args.quick else (8, 16, 32, 64, 128)
    ours = {n: engine_cost(n, seconds) for n in counts}
    base = {n: baseline_cost(n, seconds / 4) for n in (4, 8, 16)}
    voices = realtime_voices(ours)
    base_voices = realtime_voices(base)
    result = {
        "benchmark": "synth",
        "sample_rate": SR,
        "block": BLOCK,
        "n_harmonics": 64,
        "noise": True,
        "voices_realtime": round(voices, 1),
        "headroom_vs_16_voices": round(voices / TARGET_VOICES, 2),
        "target_met": voices >= 2 * TARGET_VOICES,
        "cpu_s_per_audio_s": {str(k): round(c, 4) for k, c in ours.items()},
        "baseline": "ddsp.oscillator_bank (sin per harmonic) + same noise",
        "baseline_voices_realtime": round(base_voices, 1),
        "ratio_vs_baseline": round(voices / base_voices, 2),
        "quick": args.quick,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
