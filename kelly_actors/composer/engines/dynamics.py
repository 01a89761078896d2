"""Dynamics engine: the bar's loudness, following the emotion trajectory.

The level of a bar is the mapped velocity (60 + 67 · dominance, from this
bar's point on the trajectory) plus a phrase swell (−3, −1, +1, +3 over the
four bars, rising to the cadence) and a small diminuendo in the final bar.
The engines' accents are relative: this engine mixes the parts (melody on
top, pad underneath), then re-centres the bar so its mean velocity is the
level, and clips to MIDI 1…127.
"""

from __future__ import annotations

from dataclasses import replace

from kelly_actors.composer.engines.context import BarContext
from kelly_actors.music.notes import Note

PHRASE_SWELL = (-3.0, -1.0, 1.0, 3.0)
FINAL_DIMINUENDO = -3.0
#: Mix offsets (MIDI velocity steps) per track.
BALANCE = {
    "melody": 8,
    "counter": -2,
    "chords": -4,
    "pad": -12,
    "arpeggio": -6,
    "bass": 4,
    "drums": 0,
}


def level(ctx: BarContext) -> float:
    """Target mean MIDI velocity of the bar."""
    swell = PHRASE_SWELL[ctx.phrase_position]
    return ctx.params.velocity + swell + (FINAL_DIMINUENDO if ctx.final else 0.0)


def apply(ctx: BarContext, notes: list[Note]) -> list[Note]:
    if not notes:
        return notes
    mixed = [n.velocity + BALANCE.get(n.track, 0) for n in notes]
    offset = level(ctx) - sum(mixed) / len(mixed)
    return [
        replace(n, velocity=max(1, min(127, round(v + offset))))
        for n, v in zip(notes, mixed, strict=True)
    ]
