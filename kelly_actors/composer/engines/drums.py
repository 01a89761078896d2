"""Drum engine: a General MIDI kit pattern chosen by arousal, coloured by dominance.

Below arousal 0.3 the kit is silent. Then a soft side-stick and ride
pattern, a backbeat, a driving pattern with ghost notes, and four-on-the-
floor at the top. Dominance adds ghost notes and open hi-hats (push) or takes
them away (restraint); negative valence swaps the hi-hat for the ride.
"""

from __future__ import annotations

import random

from kelly_actors.composer.engines.context import BarContext
from kelly_actors.music.notes import DRUMS, Note

KICK, SIDE_STICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 42, 46, 49, 51
HIGH_TOM, MID_TOM, LOW_TOM, FLOOR_TOM = 50, 47, 45, 41
#: Arousal below which the drums do not play.
DRUMS_FROM_AROUSAL = 0.3
HIT = 0.1

Hit = tuple[int, float, int]  # (GM drum note, onset beat, accent)


def _soft() -> list[Hit]:
    return [(KICK, 0.0, 4), (SIDE_STICK, 1.0, -2), (KICK, 2.0, 0), (SIDE_STICK, 3.0, -2)] + [
        (RIDE, b, -8) for b in (0.0, 1.0, 2.0, 3.0)
    ]


def _backbeat(cymbal: int) -> list[Hit]:
    hits = [(KICK, 0.0, 8), (SNARE, 1.0, 6), (KICK, 2.0, 4), (SNARE, 3.0, 6)]
    return hits + [(cymbal, i * 0.5, -6 if i % 2 else -2) for i in range(8)]


def _drive(cymbal: int, rng: random.Random, push: float) -> list[Hit]:
    hits = [*_backbeat(cymbal), (KICK, 1.5, 0)]
    if rng.random() < push:
        hits += [(SNARE, 2.75, -28), (SNARE, 3.75, -28)]
    if rng.random() < push:
        hits = [h for h in hits if h[1] != 3.5] + [(OPEN_HAT, 3.5, -4)]
    return hits


def _four_on_the_floor(cymbal: int) -> list[Hit]:
    hits = [(KICK, float(b), 8) for b in range(4)] + [(SNARE, 1.0, 6), (SNARE, 3.0, 6)]
    return hits + [(cymbal, i * 0.25, -4 if i % 2 == 0 else -12) for i in range(16)]


def active(ctx: BarContext) -> bool:
    return ctx.arousal >= DRUMS_FROM_AROUSAL


def pattern(ctx: BarContext) -> list[Hit]:
    """The bar's hits before fills; empty when the drums rest."""
    if not active(ctx):
        return []
    if ctx.final:
        return [(KICK, 0.0, 10), (CRASH, 0.0, 6)]
    cymbal = RIDE if ctx.valence < -0.3 else CLOSED_HAT
    a = ctx.arousal
    if a < 0.45:
        return _soft()
    if a < 0.7:
        return _backbeat(cymbal)
    if a < 0.88:
        return _drive(cymbal, ctx.rng("drums"), ctx.dominance)
    return _four_on_the_floor(cymbal)


def to_notes(ctx: BarContext, hits: list[Hit]) -> list[Note]:
    base = round(ctx.params.velocity)
    return [Note(DRUMS.name, drum, base + accent, onset, HIT) for drum, onset, accent in hits]


def render(ctx: BarContext) -> list[Note]:
    return to_notes(ctx, pattern(ctx))
