"""Arpeggio engine: the chord broken into a running figure.

Direction follows valence (up when positive, down when negative, up-and-down
in between); the rate follows arousal (quarters, eighths, sixteenths).
"""

from __future__ import annotations

from kelly_actors.composer.engines.context import BarContext, VoicedChord
from kelly_actors.music.notes import ARPEGGIO, RANGES, Note
from kelly_actors.music.theory import pitches_in_range

SPAN = 15


def step_beats(arousal: float) -> float:
    """Beats between arpeggio notes."""
    if arousal < 0.4:
        return 1.0
    return 0.5 if arousal < 0.75 else 0.25


def _shape(pitches: list[int], valence: float) -> list[int]:
    if valence > 0.2:
        return pitches
    if valence < -0.2:
        return pitches[::-1]
    return pitches + pitches[-2:0:-1]


def _pool(v: VoicedChord, low: int) -> list[int]:
    return pitches_in_range(v.chord.pitch_classes[:3], low, low + SPAN)


def render(ctx: BarContext, voiced: tuple[VoicedChord, ...]) -> list[Note]:
    lo, hi = RANGES["arpeggio"]
    low = max(lo, min(hi - SPAN, 62 + ctx.params.register_shift))
    step = step_beats(ctx.arousal)
    velocity = round(ctx.params.velocity)
    notes = []
    for v in voiced:
        figure = _shape(_pool(v, low), ctx.valence)
        if ctx.final:
            figure = figure[:4]
            step = 0.25
        beat, i = v.start, 0
        while beat < v.end - 1e-9 and figure:
            accent = 6 if i % 4 == 0 else 0
            length = (v.end - beat) if ctx.final else step * ctx.params.legato
            notes.append(
                Note(ARPEGGIO.name, figure[i % len(figure)], velocity + accent, beat, length)
            )
            beat += step
            i += 1
            if ctx.final and i >= len(figure):
                break
    return notes
