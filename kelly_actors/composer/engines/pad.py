"""Pad engine: the harmony held as long tones an octave-ish above the comping.

The pad keeps three voices (the top of the voicing, lifted into its range)
and always plays legato: it is the glue, so it ignores articulation.
"""

from __future__ import annotations

from kelly_actors.composer.engines.context import BarContext, VoicedChord
from kelly_actors.composer.voice_leading import lead
from kelly_actors.music.notes import PAD, RANGES, Note

PAD_VOICES = 3


def render(ctx: BarContext, voiced: tuple[VoicedChord, ...]) -> list[Note]:
    low, high = RANGES["pad"]
    centre = 67 + ctx.params.register_shift
    notes = []
    previous: tuple[int, ...] | None = None
    for v in voiced:
        top = tuple(p + 12 for p in v.pitches[-PAD_VOICES:])
        pitches = lead(previous or top, v.chord.pitch_classes, low, high, PAD_VOICES, centre)
        previous = pitches
        for pitch in pitches:
            notes.append(
                Note(PAD.name, pitch, round(ctx.params.velocity), v.start, v.end - v.start)
            )
    return notes
