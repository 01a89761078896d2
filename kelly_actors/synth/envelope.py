"""Envelopes and glides: pure functions of the absolute sample time.

Every amplitude shape of a voice is written here once and used by rendering, by voice
stealing (the level a stolen voice fades out from), by the neural decoders' loudness input and
by :mod:`kelly_actors.synth.replay` (retiring voices without rendering). Because each is a
function of the time since an event, never of a running state, a block of any size gives the
same values, and a rebuilt synth arrives at exactly the level an undisturbed one has.

Shapes, all linear segments, times in samples (float64):

* attack–decay–sustain while the note is held: ``age`` counts the note's samples, its first
  sample being 1 (so the first sample already sounds); the level rises as ``age / attack`` to
  1, falls to ``sustain`` over ``decay`` samples, then holds;
* release: from the level the voice had at its note-off (or steal, or timbre crossfade) to
  0 over ``length`` samples: ``level · (1 − τ / length)``, ``τ`` the samples since then.

All functions take numpy arrays (at least one dimension) that broadcast together and return
float64 arrays; the arithmetic is the same element by element however the arrays are shaped,
so a level computed for one slot equals the one computed for a whole block.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Glide",
    "decay_over",
    "fade_in_gain",
    "held_level",
    "release_gain",
    "release_over",
    "released_level",
]


def held_level(
    age: np.ndarray, attack: np.ndarray, decay: np.ndarray, sustain: np.ndarray
) -> np.ndarray:
    """Attack–decay–sustain level (0…1) of held notes.

    Args:
        age: float64, samples of the note so far, this one included (1 on its first sample).
        attack / decay: float64 ≥ 1, segment lengths in samples.
        sustain: float64 0…1, the level held after the decay.

    Returns:
        float64, the broadcast shape: ``clip(min(age / attack,
        max(sustain, 1 − (1 − sustain)·(age − attack) / decay)), 0, 1)``.
    """
    level = np.maximum(sustain, 1.0 - (1.0 - sustain) * (age - attack) / decay)
    np.minimum(level, age / attack, out=level)
    return np.clip(level, 0.0, 1.0, out=level)


def release_gain(since: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The release ramp: ``clip(1 − since / length, 0, 1)``, float64.

    ``since``: samples since the release began (negative before it: the gain is then exactly
    1); ``length``: float64 ≥ 1 samples.
    """
    gain = 1.0 - since / length
    return np.clip(gain, 0.0, 1.0, out=gain)


def released_level(
    held: np.ndarray, since: np.ndarray, length: np.ndarray, start_level: np.ndarray
) -> np.ndarray:
    """Level of voices that were released: ``start_level · release_gain`` from the release
    on (``since ≥ 0``), ``held`` (their :func:`held_level`) before it. float64."""
    return np.where(since >= 0.0, start_level * release_gain(since, length), held)


def release_over(since: np.ndarray, length: np.ndarray) -> np.ndarray:
    """True where a release that began ``since`` samples ago has reached 0 (bool)."""
    return since >= length


def decay_over(
    elapsed: np.ndarray, attack: np.ndarray, decay: np.ndarray, sustain: np.ndarray
) -> np.ndarray:
    """True where a note ``elapsed`` samples old has decayed to a sustain of 0 (a pluck that
    rang out while held), bool."""
    return (sustain <= 0.0) & (elapsed >= attack + decay)


def fade_in_gain(age: np.ndarray, length: np.ndarray) -> np.ndarray:
    """A linear fade-in (a timbre crossfade's new sound): ``clip(age / length, 0, 1)``,
    ``age`` the samples since it began, this one included; float64."""
    gain = age / length
    return np.clip(gain, 0.0, 1.0, out=gain)


class Glide:
    """A value that moves linearly from ``start`` to ``target`` over ``length`` samples from
    sample ``t0``; evaluable at any absolute sample time (block-independent).

    Evaluated as ``target − (target − start)·(1 − w)``, so once the glide is over the value is
    exactly ``target``, whatever it started from: a synth that only saw the last change of a
    value agrees bit for bit with one that saw them all.
    """

    __slots__ = ("length", "start", "t0", "target")

    def __init__(self, value: float, length: float) -> None:
        self.start = value
        self.target = value
        self.t0 = 0
        self.length = max(1.0, length)

    def at(self, t: int) -> float:
        """The value at absolute sample ``t``."""
        w = min(1.0, max(0.0, (t - self.t0) / self.length))
        return self.target - (self.target - self.start) * (1.0 - w)

    def set(self, t: int, target: float) -> None:
        """Glide from the value at ``t`` to ``target``."""
        self.start = self.at(t)
        self.target = target
        self.t0 = t

    @property
    def nonzero(self) -> bool:
        """False while the value is 0 and stays 0 (a bend at rest: nothing to add)."""
        return self.start != 0.0 or self.target != 0.0

    def settled_from(self) -> int:
        """First sample from which :meth:`fill` gives exactly ``target``."""
        return self.t0 + math.ceil(self.length) + 1

    def fill(self, t: int, ramp: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Values at ``t + ramp`` into ``out`` (float64, same length as ``ramp``)."""
        np.subtract(ramp, self.t0 - t, out=out)
        out *= 1.0 / self.length
        np.clip(out, 0.0, 1.0, out=out)
        np.subtract(1.0, out, out=out)
        out *= self.target - self.start
        np.subtract(self.target, out, out=out)
        return out
