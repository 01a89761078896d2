"""Standard MIDI Files (type 1) through ``mido``: write a composition, read one back.

Layout: track 0 is the conductor (title, 4/4 time signature, key signatures,
tempo map, and a marker naming the exact key and mode at every key change,
since a MIDI key signature only knows major and minor); then one track per
part with its name, its General MIDI program and its notes. Resolution is
480 ticks per beat.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import mido

from kelly_actors.composer.orchestrator import Composition, KeyChange, TempoChange
from kelly_actors.files import atomic_path
from kelly_actors.music.notes import DRUM_CHANNEL, TRACKS_BY_NAME, Note, Track
from kelly_actors.music.theory import MODES, PITCH_NAMES, Key

TICKS_PER_BEAT = 480
CONDUCTOR = "conductor"
_KEY_MARKER = re.compile(r"^key (\S+) (\S+)$")


def to_ticks(beats: float) -> int:
    return round(beats * TICKS_PER_BEAT)


def _timed(events: list[tuple[int, int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """Sort (tick, order, message) and turn absolute ticks into delta times."""
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _conductor(composition: Composition, title: str) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=title)),
        (
            0,
            1,
            mido.MetaMessage("time_signature", numerator=composition.beats_per_bar, denominator=4),
        ),
    ]
    for change in composition.key_changes:
        tick = to_ticks(change.beat)
        events.append((tick, 2, mido.MetaMessage("key_signature", key=change.key.signature())))
        events.append((tick, 3, mido.MetaMessage("marker", text=f"key {change.key.name}")))
    for change in composition.tempo_changes:
        tempo = mido.bpm2tempo(change.bpm)
        events.append((to_ticks(change.beat), 4, mido.MetaMessage("set_tempo", tempo=tempo)))
    return _timed(events)


def _part(track: Track, notes: tuple[Note, ...]) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=track.name)),
    ]
    if track.channel != DRUM_CHANNEL:
        events.append(
            (0, 1, mido.Message("program_change", channel=track.channel, program=track.program))
        )
    for n in notes:
        start = to_ticks(n.start_beat)
        end = max(start + 1, to_ticks(n.end_beat))
        # Offs sort before ons at the same tick, so repeated pitches re-strike cleanly.
        events.append(
            (
                start,
                3,
                mido.Message("note_on", channel=track.channel, note=n.pitch, velocity=n.velocity),
            )
        )
        events.append(
            (end, 2, mido.Message("note_off", channel=track.channel, note=n.pitch, velocity=0))
        )
    return _timed(events)


def to_midi(composition: Composition, title: str = "Kelly Actors") -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_conductor(composition, title))
    for track in composition.tracks:
        midi.tracks.append(_part(track, composition.notes_for(track.name)))
    return midi


def write(
    composition: Composition, path: str | os.PathLike[str], title: str = "Kelly Actors"
) -> None:
    """Write ``composition`` as a type-1 Standard MIDI File; OSError if the path is unwritable.

    Written beside ``path`` and renamed over it, so an interrupted write leaves no half file.
    """
    midi = to_midi(composition, title)
    with atomic_path(path) as tmp:
        midi.save(os.fspath(tmp))


@dataclass
class _PartReader:
    name: str = ""
    program: int = 0
    channel: int = 0


def _read_conductor(track: mido.MidiTrack) -> tuple[list[TempoChange], list[KeyChange], int]:
    tempos, keys, numerator, tick = [], [], 4, 0
    for msg in track:
        tick += msg.time
        beat = tick / TICKS_PER_BEAT
        if msg.type == "set_tempo":
            tempos.append(TempoChange(beat, mido.tempo2bpm(msg.tempo)))
        elif msg.type == "marker" and (m := _KEY_MARKER.match(msg.text)):
            if m.group(1) in PITCH_NAMES and m.group(2) in MODES:
                keys.append(KeyChange(beat, Key(PITCH_NAMES.index(m.group(1)), m.group(2))))
        elif msg.type == "time_signature":
            numerator = msg.numerator
    return tempos, keys, numerator


def _read_part(track: mido.MidiTrack) -> tuple[Track, list[Note]]:
    info = _PartReader()
    open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
    ticks_notes: list[tuple[int, int, int, int]] = []
    tick = 0
    for msg in track:
        tick += msg.time
        if msg.type == "track_name":
            info.name = msg.name
        elif msg.type == "program_change":
            info.program, info.channel = msg.program, msg.channel
        elif msg.type == "note_on" and msg.velocity > 0:
            info.channel = msg.channel
            open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
        elif msg.type in ("note_off", "note_on") and open_notes.get((msg.channel, msg.note)):
            start, velocity = open_notes[(msg.channel, msg.note)].pop(0)
            ticks_notes.append((msg.note, velocity, start, tick))
    known = TRACKS_BY_NAME.get(info.name)
    track_info = known or Track(info.name, info.program, info.channel, "read from file")
    notes = [
        Note(
            track_info.name, pitch, velocity, start / TICKS_PER_BEAT, (end - start) / TICKS_PER_BEAT
        )
        for pitch, velocity, start, end in ticks_notes
    ]
    return track_info, notes


def read(path: str | os.PathLike[str]) -> Composition:
    """Read a file written by :func:`write` (or any type-1 file) back into a composition."""
    midi = mido.MidiFile(os.fspath(path))
    tempos, keys, numerator = _read_conductor(midi.tracks[0])
    tracks, notes = [], []
    for raw in midi.tracks[1:]:
        track, part = _read_part(raw)
        tracks.append(track)
        notes.extend(part)
    notes.sort(key=lambda n: (n.start_beat, n.track, n.pitch))
    last = max((n.end_beat for n in notes), default=0.0)
    bars = max(1, -(-round(last * TICKS_PER_BEAT) // (numerator * TICKS_PER_BEAT)))
    return Composition(
        tuple(tracks),
        tuple(notes),
        tuple(tempos) or (TempoChange(0.0, 120.0),),
        tuple(keys) or (KeyChange(0.0, Key(0, "ionian")),),
        bars,
        numerator,
    )
