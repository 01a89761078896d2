"""Three clearly different performers for ensemble tests and the benchmark: float32 mono
loops at a given rate, each a whole number of seconds so they repeat without a seam.

* ``bright``: a fast, loud major arpeggio (C major, 8 notes a second, bright sawtooth-like
  partials, short decays) — high arousal;
* ``dark``: a slow, quiet low minor line (C3 and E♭3, two notes a bar of 2 s, sine-like,
  long notes) — low arousal. An octave lower (C2, 65 Hz) the 2048-sample chroma blurs
  the semitones and the listener's signal check hears music in only a quarter of the
  frames, so whether the performer counts hung on how confident the model was;
* ``silence``: zeros — a performer who stops.
"""

from __future__ import annotations

import numpy as np

PATTERNS = ("bright", "dark", "silence")


def _note(freq: float, seconds: float, rate: int, partials: int, decay_s: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, partials + 1))
    attack = np.minimum(1.0, t / 0.005)
    return tone * attack * np.exp(-t / decay_s)


def _midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def bright(rate: int, seconds: int = 2) -> np.ndarray:
    notes = [72, 76, 79, 84, 79, 76] * (seconds * 8)
    step = 1 / 8
    parts = [_note(_midi_hz(n), step, rate, 8, 0.08) for n in notes[: seconds * 8]]
    return (0.25 * np.concatenate(parts)).astype(np.float32)


def dark(rate: int, seconds: int = 2) -> np.ndarray:
    notes = [48, 51] * seconds
    parts = [_note(_midi_hz(n), 1.0, rate, 2, 2.0) for n in notes[:seconds]]
    return (0.05 * np.concatenate(parts)).astype(np.float32)


def silence(rate: int, seconds: int = 2) -> np.ndarray:
    return np.zeros(rate * seconds, np.float32)


def pattern(name: str, rate: int, seconds: int = 2) -> np.ndarray:
    """The loop named ``name`` (one of :data:`PATTERNS`), float32 (seconds × rate,)."""
    return {"bright": bright, "dark": dark, "silence": silence}[name](rate, seconds)
