"""Chord engine, part 2: voice each chord from the last one and comp it in rhythm.

Comping rhythm follows arousal: a held whole note when calm, half notes, a
syncopated "Charleston" figure, then driving eighth-note stabs.
"""

from __future__ import annotations

from kelly_actors.composer.engines.context import BarContext, VoicedChord
from kelly_actors.composer.voice_leading import lead
from kelly_actors.music.notes import CHORDS, RANGES, Note

#: (onset beat, written length in beats, accent) per arousal band, upper bound first.
COMP_PATTERNS: tuple[tuple[float, tuple[tuple[float, float, int], ...]], ...] = (
    (0.35, ((0.0, 4.0, 0),)),
    (0.6, ((0.0, 2.0, 4), (2.0, 2.0, 0))),
    (0.8, ((0.0, 1.5, 6), (1.5, 1.0, 2), (2.5, 1.5, 0))),
    (1.01, ((0.0, 0.5, 8), (0.5, 0.5, -6), (1.5, 0.5, 2), (2.5, 0.5, 2), (3.0, 0.5, 4))),
)


def voice(ctx: BarContext, previous: tuple[int, ...] | None) -> tuple[VoicedChord, ...]:
    """Voicings (4 voices, MIDI pitches) for this bar's chords, led from ``previous``."""
    low, high = RANGES["chords"]
    centre = 60 + ctx.params.register_shift // 2
    out = []
    starts = [start for start, _ in ctx.chords] + [float(ctx.beats)]
    for (start, chord), end in zip(ctx.chords, starts[1:], strict=True):
        pitches = lead(previous, chord.pitch_classes, low, high, 4, centre)
        out.append(VoicedChord(chord, pitches, start, end))
        previous = pitches
    return tuple(out)


def _pattern(arousal: float) -> tuple[tuple[float, float, int], ...]:
    for bound, pattern in COMP_PATTERNS:
        if arousal < bound:
            return pattern
    return COMP_PATTERNS[-1][1]


def _voicing_at(voiced: tuple[VoicedChord, ...], beat: float) -> VoicedChord:
    current = voiced[0]
    for v in voiced:
        if v.start <= beat + 1e-9:
            current = v
    return current


def render(ctx: BarContext, voiced: tuple[VoicedChord, ...]) -> list[Note]:
    """The comping part for one bar."""
    pattern = ((0.0, 4.0, 0),) if ctx.final else _pattern(ctx.arousal)
    base = ctx.params.velocity
    notes = []
    for onset, length, accent in pattern:
        v = _voicing_at(voiced, onset)
        sounding = min(length, v.end - onset) * ctx.params.legato
        for pitch in v.pitches:
            notes.append(Note(CHORDS.name, pitch, round(base + accent), onset, sounding))
    return notes
