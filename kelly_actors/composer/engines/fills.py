"""Fills and transitions: mark the seams between phrases and sections.

* End of a phrase (bar 4 of 4): the last beat of the kit becomes a fill.
* End of a section (bar 8 of 8): the last two beats, busier, rolling down the toms.
* First bar of a section, or a bar where the key changed: a crash on the one.
* When the kit is silent (calm music), a section ends with a pitched run on
  the harp that climbs the scale into the next chord's root instead.
"""

from __future__ import annotations

from kelly_actors.composer.engines import drums
from kelly_actors.composer.engines.context import PHRASE_BARS, SECTION_BARS, BarContext
from kelly_actors.music.notes import ARPEGGIO, RANGES, Note
from kelly_actors.music.theory import nearest_pitch

TOMS = (drums.HIGH_TOM, drums.MID_TOM, drums.LOW_TOM, drums.FLOOR_TOM)


def _fill_start(ctx: BarContext) -> float | None:
    if ctx.final:
        return None
    if ctx.section_position == SECTION_BARS - 1:
        return 2.0
    if ctx.phrase_position == PHRASE_BARS - 1:
        return 3.0
    return None


def _fill_hits(start: float, ctx: BarContext) -> list[drums.Hit]:
    step = 0.25 if ctx.arousal >= 0.6 else 0.5
    count = round((ctx.beats - start) / step)
    rng = ctx.rng("fills")
    hits: list[drums.Hit] = []
    for i in range(count):
        # Roll from snare down the toms, getting louder into the bar line.
        voice = drums.SNARE if i < count // 3 else TOMS[min(len(TOMS) - 1, i * len(TOMS) // count)]
        if rng.random() < 0.15 and i not in (0, count - 1):
            continue
        hits.append((voice, start + i * step, -8 + round(14 * i / max(1, count - 1))))
    hits.append((drums.KICK, start, 4))
    return hits


def drum_fill(ctx: BarContext, hits: list[drums.Hit]) -> list[drums.Hit]:
    """The bar's drum hits with fills and transition crashes applied."""
    if not hits:
        return hits
    if (ctx.section_position == 0 and ctx.bar_index > 0) or ctx.key_changed:
        hits = [*hits, (drums.CRASH, 0.0, 6)]
    start = _fill_start(ctx)
    if start is None:
        return hits
    kept = [h for h in hits if h[1] < start or h[0] in (drums.RIDE, drums.CLOSED_HAT)]
    kept = [h for h in kept if h[1] < start]
    return kept + _fill_hits(start, ctx)


def pitched_fill(ctx: BarContext) -> list[Note]:
    """A rising scale run into the next section, for when the drums are silent."""
    if ctx.final or drums.active(ctx) or ctx.section_position != SECTION_BARS - 1:
        return []
    low, high = RANGES["arpeggio"]
    goal = nearest_pitch(ctx.next_chord.root, 74 + ctx.params.register_shift, low + 7, high)
    top = ctx.key.index_near(goal)
    count, step = 4, 0.25 if ctx.arousal >= 0.2 else 0.5
    start = ctx.beats - count * step
    velocity = round(ctx.params.velocity)
    return [
        Note(
            ARPEGGIO.name,
            ctx.key.pitch(top - count + i),
            velocity - 6 + 3 * i,
            start + i * step,
            step,
        )
        for i in range(count)
    ]
