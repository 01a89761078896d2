"""Motif engine: a short melodic idea and the classical ways to develop it.

A motif is a rhythm (beats) and a contour in scale steps, half a bar long.
Development keeps it recognisable: repetition, sequence (the melody engine
restates it a few scale steps higher or lower), inversion, retrograde,
fragmentation (its head), and rhythmic augmentation or diminution when the
note density of the music changes under it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Rhythm cells filling two beats, by number of notes.
RHYTHMS: dict[int, tuple[tuple[float, ...], ...]] = {
    1: ((2.0,),),
    2: ((1.0, 1.0), (1.5, 0.5), (0.5, 1.5)),
    3: ((1.0, 0.5, 0.5), (0.5, 0.5, 1.0), (0.75, 0.75, 0.5), (1.5, 0.25, 0.25)),
    4: (
        (0.5, 0.5, 0.5, 0.5),
        (0.75, 0.25, 0.5, 0.5),
        (1.0, 0.5, 0.25, 0.25),
        (0.5, 0.25, 0.25, 1.0),
    ),
    5: ((0.5, 0.5, 0.5, 0.25, 0.25), (0.25, 0.25, 0.5, 0.5, 0.5), (0.75, 0.25, 0.5, 0.25, 0.25)),
    6: ((0.5, 0.25, 0.25, 0.5, 0.25, 0.25), (0.25, 0.25, 0.25, 0.25, 0.5, 0.5)),
    7: ((0.25,) * 6 + (0.5,), (0.5,) + (0.25,) * 6),
    8: ((0.25,) * 8,),
}
MOTIF_BEATS = 2.0
#: Largest distance (scale steps) of any motif note from its first note.
MAX_REACH = 5


@dataclass(frozen=True, slots=True)
class Motif:
    """``steps``: scale steps from the first note (first is 0); ``durations``: beats."""

    steps: tuple[int, ...]
    durations: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.durations) or not self.steps:
            raise ValueError("a motif needs as many steps as durations, at least one")

    @property
    def length(self) -> float:
        return sum(self.durations)

    def to_dict(self) -> dict[str, list]:
        return {"steps": list(self.steps), "durations": list(self.durations)}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> Motif:
        return cls(tuple(int(s) for s in data["steps"]), tuple(float(d) for d in data["durations"]))


def _contour(rng: random.Random, count: int, rising: float) -> tuple[int, ...]:
    steps, position, last_move = [0], 0, 0
    for _ in range(count - 1):
        if abs(last_move) >= 2:
            move = -1 if last_move > 0 else 1  # a leap is answered by a step back
        elif rng.random() < 0.2:
            move = rng.choice((2, 3, -2, 4))
        else:
            move = 1 if rng.random() < 0.5 + 0.3 * rising else -1
        if rng.random() < 0.15:
            move = 0
        position = max(-MAX_REACH, min(MAX_REACH, position + move))
        last_move = move
        steps.append(position)
    return tuple(steps)


def generate(rng: random.Random, density: float, rising: float) -> Motif:
    """A new motif for ``density`` onsets per beat; ``rising`` −1…1 biases the contour."""
    count = max(1, min(8, round(MOTIF_BEATS * density)))
    rhythm = rng.choice(RHYTHMS[count])
    return Motif(_contour(rng, count, rising), rhythm)


def invert(m: Motif) -> Motif:
    return Motif(tuple(-s for s in m.steps), m.durations)


def retrograde(m: Motif) -> Motif:
    last = m.steps[-1]
    return Motif(tuple(s - last for s in reversed(m.steps)), tuple(reversed(m.durations)))


def fragment(m: Motif) -> Motif:
    """The head of the motif (first half of its time), stated twice."""
    head_steps, head_durs, total = [], [], 0.0
    for step, dur in zip(m.steps, m.durations, strict=True):
        if total >= m.length / 2 - 1e-9:
            break
        head_steps.append(step)
        head_durs.append(dur)
        total += dur
    scale = (MOTIF_BEATS / 2) / total
    durs = tuple(d * scale for d in head_durs)
    second = tuple(s + 1 for s in head_steps)
    return Motif(tuple(head_steps) + second, durs + durs)


def fit_density(m: Motif, density: float) -> Motif:
    """Augment or diminish the rhythm so the motif's note rate suits ``density``."""
    rate = len(m.steps) / m.length
    if density >= 1.8 * rate and m.length / 2 >= 0.25 * len(m.steps):
        halved = tuple(d / 2 for d in m.durations)
        return Motif(m.steps + tuple(s + 1 for s in m.steps), halved + halved)
    if density <= 0.55 * rate and len(m.steps) > 1:
        kept_steps, kept_durs, total = [], [], 0.0
        for step, dur in zip(m.steps, m.durations, strict=True):
            if total + 2 * dur > MOTIF_BEATS + 1e-9:
                break
            kept_steps.append(step)
            kept_durs.append(2 * dur)
            total += 2 * dur
        if not kept_steps:
            return Motif(m.steps[:1], (MOTIF_BEATS,))
        kept_durs[-1] += MOTIF_BEATS - total
        return Motif(tuple(kept_steps), tuple(kept_durs))
    return m
