"""The evidence of music that scales the listener's confidence: silence, noise, clipping, a
DC offset, clicks, mains hum and sweeps give at most 0.2 on every frame, so the shipped
model's estimates stay under the composer's gates and never move it; music rendered here
(the composer's pieces on a GM program and on our DDSP synth) keeps its confidence.

The signals are made here, with seeds, levels and directions of their own, and go through
the live path's feature extractor."""

from __future__ import annotations

import numpy as np
import pytest
from inference_support import SHIPPED

from kelly_actors.audio.features import extract
from kelly_actors.bus.frames import STATE_SIZE
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.fusion import EmotionFusion, FusionSettings
from kelly_actors.inference.model import load_model
from kelly_actors.inference.signal_check import WINDOW_HOPS, SignalCheck
from kelly_actors.inference.smoothing import Smoother
from training.emotion.performances import composed
from training.emotion.render import Instrument, render_all

RATE = 48_000
SECONDS = 5.0
MAX_CONFIDENCE = 0.2
HOP_S = 512 / RATE


def _sweep(t: np.ndarray, f0: float, f1: float) -> np.ndarray:
    """An exponential sine sweep from ``f0`` to ``f1`` Hz over :data:`SECONDS`."""
    k = np.log(f1 / f0)
    return np.sin(2 * np.pi * f0 * SECONDS / k * (np.exp(k * t / SECONDS) - 1))


def bad_signal(kind: str) -> np.ndarray:
    """float32 mono, :data:`SECONDS` at :data:`RATE`."""
    rng = np.random.default_rng(sum(map(ord, kind)) + 77)
    n = int(SECONDS * RATE)
    t = np.arange(n) / RATE
    if kind == "silence":
        x = np.zeros(n)
    elif kind == "white_noise":
        x = rng.standard_normal(n) * 0.05
    elif kind == "pink_noise":
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
        x = np.fft.irfft(spectrum, n)
        x *= 0.1 / np.abs(x).max()
    elif kind == "clipping":
        x = np.clip(rng.standard_normal(n) * 3.0, -1.0, 1.0)
    elif kind == "dc_offset":
        x = np.full(n, 0.25) + rng.standard_normal(n) * 1e-4
    elif kind == "clicks":
        x = np.zeros(n)
        x[:: int(RATE / 7.3)] = 0.7
    elif kind == "mains_hum":
        x = sum(0.2 / h * np.sin(2 * np.pi * 50.0 * h * t) for h in (1, 2, 3, 5))
    elif kind == "falling_sweep":
        x = 0.2 * _sweep(t, 6000.0, 150.0)
    elif kind == "rising_sweep":
        x = 0.3 * _sweep(t, 90.0, 1800.0)
    elif kind == "hum_then_sweep":
        x = 0.2 * np.sin(2 * np.pi * 60.0 * t)
        x[n // 2 :] = 0.2 * _sweep(t[: n - n // 2], 200.0, 3000.0)
    else:
        raise AssertionError(kind)
    return np.asarray(x, np.float32)


KINDS = (
    "silence",
    "white_noise",
    "pink_noise",
    "clipping",
    "dc_offset",
    "clicks",
    "mains_hum",
    "falling_sweep",
    "rising_sweep",
    "hum_then_sweep",
)


def evidence_of(signal: np.ndarray) -> np.ndarray:
    """Every frame's evidence, float (n,)."""
    _, frames = extract(signal, RATE)
    check = SignalCheck()
    return np.asarray([check.update(row) for row in frames])


@pytest.fixture(scope="module")
def model():
    return load_model(SHIPPED)


@pytest.mark.parametrize("kind", KINDS)
def test_a_signal_without_music_gives_no_frame_over_the_bound(kind: str) -> None:
    evidence = evidence_of(bad_signal(kind))
    assert evidence.max() <= MAX_CONFIDENCE, (kind, float(evidence.max()))


@pytest.mark.parametrize("kind", KINDS)
def test_the_shipped_model_on_such_a_signal_never_moves_the_composer(model, kind: str) -> None:
    """The live path: the model's confidence times the evidence, through the inference
    actor's smoother (default gate) and the composer's fusion (default settings)."""
    signal = bad_signal(kind)
    _, frames = extract(signal, RATE)
    zero = np.zeros((1, 1, STATE_SIZE), np.float32)
    emotion, _, _ = model.run(frames[:, None, :], zero, zero)
    check = SignalCheck()
    smoother = Smoother()
    fusion = EmotionFusion(FusionSettings(), start=PAD(0.3, 0.6, 0.5))
    before = fusion.next_bar(0.0).point
    for k, ((v, a, d, c), frame) in enumerate(zip(emotion[:, 0, :], frames, strict=True)):
        confidence = float(c) * check.update(frame)
        assert confidence <= MAX_CONFIDENCE, (kind, k, confidence)
        assert smoother.update((float(v), float(a), float(d), confidence)) is None
        assert not fusion.estimate(PAD.clamped(float(v), float(a), float(d)), confidence, k * HOP_S)
    assert fusion.next_bar(SECONDS).point == before


@pytest.mark.parametrize(
    ("instrument", "point"),
    [
        (Instrument("gm_clarinet", "fluidsynth", program=71), PAD(0.7, 0.8, 0.6)),
        (Instrument("gm_piano", "fluidsynth", program=0), PAD(-0.6, 0.3, 0.4)),
        (Instrument("ddsp_strings", "ddsp", preset="strings"), PAD(-0.7, 0.2, 0.3)),
        (Instrument("ddsp_flute", "ddsp", preset="flute"), PAD(0.5, 0.5, 0.5)),
    ],
    ids=lambda x: getattr(x, "name", None) or "",
)
def test_music_keeps_its_confidence_once_half_a_second_has_been_heard(instrument, point) -> None:
    (signal,) = render_all(instrument, [composed(point, seed=11, seconds=SECONDS)])
    evidence = evidence_of(signal)[WINDOW_HOPS:]
    assert np.mean(evidence == 1.0) >= 0.9, np.percentile(evidence, [1, 5, 10, 50])
