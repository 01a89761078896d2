"""Bass engine: roots on the strong beats, a line that grows busier with arousal.

Calm: one held root. Then root and fifth in halves; then a walking quarter
line whose last note approaches the next chord's root by step; then driving
eighths with octave jumps. Each root is placed in the octave closest to the
previous bass note (smooth, and never leaves the bass range).
"""

from __future__ import annotations

from kelly_actors.composer.engines.context import BarContext
from kelly_actors.music.notes import BASS, RANGES, Note
from kelly_actors.music.theory import Chord, nearest_pitch

#: The bass drifts back toward this pitch (MIDI E2…) when it has wandered.
HOME = 40


def _root(chord: Chord, previous: int) -> int:
    low, high = RANGES["bass"]
    target = (previous * 3 + HOME) // 4
    return nearest_pitch(chord.root, target, low, high)


def _approach(ctx: BarContext, target_root: int) -> int:
    """A scale step above or below the next root: the walking bass's lead-in."""
    index = ctx.key.index_near(target_root)
    below, above = ctx.key.pitch(index - 1), ctx.key.pitch(index + 1)
    low, _ = RANGES["bass"]
    return above if below < low else below


def _line(ctx: BarContext, root: int, fifth: int, next_root: int) -> list[tuple[float, int, float]]:
    """(onset beat, pitch, written length) for one bar of one chord."""
    a = ctx.arousal
    if ctx.final or a < 0.3:
        return [(0.0, root, 4.0)]
    if a < 0.55:
        return [(0.0, root, 2.0), (2.0, fifth, 2.0)]
    if a < 0.75:
        third = ctx.chord_at(2.0).pitch_classes[1]
        third_pitch = nearest_pitch(third, root + 4, *RANGES["bass"])
        return [
            (0.0, root, 1.0),
            (1.0, fifth, 1.0),
            (2.0, third_pitch, 1.0),
            (3.0, _approach(ctx, next_root), 1.0),
        ]
    octave = root + 12 if root + 12 <= RANGES["bass"][1] else root - 12
    line = [(i * 0.5, root, 0.5) for i in range(8)]
    line[3] = (1.5, octave, 0.5)
    line[7] = (3.5, _approach(ctx, next_root), 0.5)
    return line


def render(ctx: BarContext, previous: int | None) -> tuple[list[Note], int]:
    """The bass notes for the bar and the last bass pitch (for the next bar)."""
    low, high = RANGES["bass"]
    last = previous if previous is not None else HOME
    notes: list[Note] = []
    chords = list(ctx.chords)
    for i, (start, chord) in enumerate(chords):
        end = chords[i + 1][0] if i + 1 < len(chords) else float(ctx.beats)
        root = _root(chord, last)
        fifth = nearest_pitch(chord.fifth, root + 7, low, high)
        next_chord = chords[i + 1][1] if i + 1 < len(chords) else ctx.next_chord
        next_root = _root(next_chord, root)
        for onset, pitch, length in _line(ctx, root, fifth, next_root):
            beat = start + onset * (end - start) / ctx.beats
            if beat >= end - 1e-9:
                continue
            span = length * (end - start) / ctx.beats
            accent = 6 if onset == 0.0 else 0
            notes.append(
                Note(
                    BASS.name,
                    pitch,
                    round(ctx.params.velocity) + accent,
                    beat,
                    span * ctx.params.legato,
                )
            )
            last = pitch
    return notes, last
