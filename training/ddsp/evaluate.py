"""Held-out evaluation and the model card.

On every held-out phrase (never seen in training) the FluidSynth audio is compared, by the
multi-scale spectral distance of :mod:`training.ddsp.loss`, with:

* ``neural_midi``: the live path — :class:`kelly_actors.synth.voices.Synth` with the exported
  ONNX timbre loaded, playing the phrase's MIDI notes;
* ``preset_midi``: the same Synth with the instrument's plain preset, same notes;
* ``preset_midi_level_matched``: that preset render scaled to the real phrase's RMS (the
  most favourable level for the preset);
* ``neural_resynthesis``: the torch decoder driven by the real audio's own f0 and loudness.
"""

from __future__ import annotations

import numpy as np
import torch

from kelly_actors.synth.neural import NeuralTimbre
from kelly_actors.synth.voices import Synth
from training.ddsp.data import AUDIO_OFFSET, HOP, SAMPLE_RATE, Dataset, Phrase
from training.ddsp.instruments import Instrument
from training.ddsp.loss import multiscale_spectral_loss
from training.ddsp.model import DDSPDecoder
from training.ddsp.train import resynthesize


def fit_loudness(phrases: list[Phrase]) -> tuple[float, float]:
    """Least-squares line ``loudness_db = a + b · 20·log10(velocity / 127)`` over the sustained
    part of every note (0.15 s after onset … 0.05 s before release). Returns ``(a, b)``."""
    xs, ys = [], []
    for p in phrases:
        centres = (np.arange(p.f0_hz.shape[0]) * HOP + 1024) / SAMPLE_RATE
        for _, vel, start, end in p.notes:
            sel = (centres > start + 0.15) & (centres < end - 0.05)
            if sel.sum() >= 2:
                xs.append(20.0 * np.log10(vel / 127.0))
                ys.append(float(np.median(p.loudness_db[sel])))
    if len(xs) < 2:
        raise ValueError("too few sustained notes to calibrate loudness")
    b, a = np.polyfit(np.array(xs), np.array(ys), 1)
    return float(a), float(b)


def render_midi(phrase: Phrase, preset: str, timbre: NeuralTimbre | None) -> np.ndarray:
    """The phrase's notes through the live Synth (mono, unit master gain) → float64 ``(n,)``."""
    synth = Synth(SAMPLE_RATE, channels=1, n_voices=16, preset=preset, master_gain=1.0)
    if timbre is not None:
        synth.set_timbre(timbre, 0, fade_s=0.0)
    for pitch, vel, start, end in phrase.notes:
        synth.note_on(round(start * SAMPLE_RATE), int(pitch), int(vel))
        synth.note_off(round(end * SAMPLE_RATE), int(pitch))
    return synth.render(phrase.audio.shape[0])[:, 0].astype(np.float64)


def _distance(audio: np.ndarray, target: np.ndarray) -> float:
    a = torch.from_numpy(np.asarray(audio, np.float32))
    b = torch.from_numpy(np.asarray(target, np.float32))
    return float(multiscale_spectral_loss(a, b))


def evaluate(
    model: DDSPDecoder, timbre: NeuralTimbre, data: Dataset, inst: Instrument
) -> dict[str, float]:
    """Mean held-out distances (lower is closer to the real instrument)."""
    rows: dict[str, list[float]] = {
        "neural_midi": [],
        "preset_midi": [],
        "preset_midi_level_matched": [],
        "neural_resynthesis": [],
    }
    for p in data.holdout:
        span = slice(AUDIO_OFFSET, AUDIO_OFFSET + p.f0_hz.shape[0] * HOP)
        real = p.audio[span].astype(np.float64)
        neural = render_midi(p, inst.preset, timbre)[span]
        preset = render_midi(p, inst.preset, None)[span]
        gain = np.sqrt(np.mean(real**2) / max(np.mean(preset**2), 1e-12))
        resynth, _ = resynthesize(model, p)
        rows["neural_midi"].append(_distance(neural, real))
        rows["preset_midi"].append(_distance(preset, real))
        rows["preset_midi_level_matched"].append(_distance(preset * gain, real))
        rows["neural_resynthesis"].append(_distance(resynth, real))
    return {k: round(float(np.mean(v)), 4) for k, v in rows.items()}
