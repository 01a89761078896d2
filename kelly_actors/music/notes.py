"""Notes and tracks: what every engine produces and the MIDI writer consumes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kelly_actors.bus.note_events import DRUM_CHANNEL

BEATS_PER_BAR = 4


@dataclass(frozen=True, slots=True)
class Note:
    """One note. ``pitch`` and ``velocity`` are MIDI numbers (1…127 velocity).

    Times are in beats (quarter notes). From :meth:`BarComposer.compose_bar`
    ``start_beat`` is relative to the start of that bar (0 ≤ start < 4); in a
    :class:`~the composer's ``Composition``` it is absolute
    from the start of the piece.
    """

    track: str
    pitch: int
    velocity: int
    start_beat: float
    duration_beats: float

    @property
    def end_beat(self) -> float:
        return self.start_beat + self.duration_beats

    def shifted(self, beats: float) -> Note:
        return replace(self, start_beat=self.start_beat + beats)


@dataclass(frozen=True, slots=True)
class Track:
    """A part: its General MIDI program (0-based, 0…127) and channel (0-based)."""

    name: str
    program: int
    channel: int
    description: str

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL


MELODY = Track("melody", 73, 0, "lead line: motif, development, phrases (GM 74 Flute)")
COUNTER = Track("counter", 71, 1, "counter-melody below the lead (GM 72 Clarinet)")
CHORDS = Track("chords", 0, 2, "comped voicings (GM 1 Acoustic Grand Piano)")
PAD = Track("pad", 89, 3, "sustained harmony (GM 90 Pad 2 warm)")
ARPEGGIO = Track("arpeggio", 46, 4, "broken chords and pitched fills (GM 47 Orchestral Harp)")
BASS = Track("bass", 32, 5, "bass line (GM 33 Acoustic Bass)")
DRUMS = Track("drums", 0, DRUM_CHANNEL, "drum kit on channel 10 (GM standard kit)")

#: Every track, in score order.
TRACKS: tuple[Track, ...] = (MELODY, COUNTER, CHORDS, PAD, ARPEGGIO, BASS, DRUMS)
TRACKS_BY_NAME: dict[str, Track] = {t.name: t for t in TRACKS}

#: Pitch ranges (MIDI, inclusive) that each pitched part keeps to.
RANGES: dict[str, tuple[int, int]] = {
    "melody": (60, 88),
    "counter": (52, 79),
    "chords": (48, 74),
    "pad": (53, 81),
    "arpeggio": (55, 91),
    "bass": (28, 52),
}
