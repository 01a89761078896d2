"""Groove engine: swing and humanization, scaled by the emotion.

Swing delays every off-beat: a position p within the beat is remapped
piecewise-linearly so the half-beat lands at 0.5 + swing/2 (swing 1/3 is the
triplet feel), which also swings sixteenths proportionally. Humanization then
adds Gaussian timing (``timing_jitter`` beats: looser when dominance is low)
and velocity variation (``velocity_jitter`` MIDI steps: wider when aroused).
Drums get half the timing jitter: the kit is the time-keeper.
"""

from __future__ import annotations

import random
from dataclasses import replace

from kelly_actors.composer.engines.context import BarContext
from kelly_actors.music.notes import DRUMS, Note

#: Humanization never moves a note further than this (beats).
MAX_SHIFT = 0.08
#: Shortest note the groove leaves (beats).
MIN_DURATION = 0.05


def swung(beat: float, swing: float) -> float:
    """Where a position (beats from bar start) lands with the given swing (0…1/3)."""
    whole = int(beat)
    p = beat - whole
    middle = 0.5 + swing / 2
    if p <= 0.5:
        return whole + p * middle / 0.5
    return whole + middle + (p - 0.5) * (1.0 - middle) / 0.5


def _humanize(note: Note, ctx: BarContext, rng: random.Random) -> Note:
    params = ctx.params
    scale = 0.5 if note.track == DRUMS.name else 1.0
    shift = max(-MAX_SHIFT, min(MAX_SHIFT, rng.gauss(0.0, params.timing_jitter * scale)))
    start = swung(note.start_beat, params.swing)
    # The downbeat stays put: it is where the listener's bar begins.
    if note.start_beat > 0:
        start = min(ctx.beats - MIN_DURATION, max(0.0, start + shift))
    end = note.end_beat
    if end < ctx.beats:
        end = swung(end, params.swing)
    velocity = note.velocity + round(rng.gauss(0.0, params.velocity_jitter))
    duration = max(MIN_DURATION, min(end, ctx.beats) - start)
    return replace(note, start_beat=start, duration_beats=duration, velocity=velocity)


def apply(ctx: BarContext, notes: list[Note]) -> list[Note]:
    rng = ctx.rng("groove")
    return [_humanize(n, ctx, rng) for n in notes]
