"""Seeded phrases of notes for one instrument, and the MIDI file FluidSynth renders.

A phrase is a list of :class:`PhraseNote` (times in seconds from the phrase start). Phrase 0…n
mix two kinds: long single notes (steady tone at one velocity, the timbre at rest) and melodic
lines (steps and leaps, legato and detached, changing velocities). All phrases go into one
MIDI file, separated by :data:`GAP_S` of silence so reverb-free renders split cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido
import numpy as np

from training.ddsp.instruments import Instrument

GAP_S = 1.0
TICKS_PER_BEAT = 480
TEMPO_US = 500_000  # 120 BPM: one beat is 0.5 s, so seconds = ticks / 960


@dataclass(frozen=True)
class PhraseNote:
    """One note: ``start_s`` and ``end_s`` in seconds from its phrase start."""

    pitch: int
    velocity: int
    start_s: float
    end_s: float


def make_phrase(inst: Instrument, rng: np.random.Generator, length_s: float) -> list[PhraseNote]:
    """One phrase of about ``length_s`` seconds (a single long note one time in four)."""
    if rng.random() < 0.25:
        pitch = int(rng.integers(inst.low, inst.high + 1))
        dur = float(rng.uniform(1.0, min(3.0, length_s)))
        return [PhraseNote(pitch, int(rng.integers(40, 128)), 0.0, dur)]
    notes: list[PhraseNote] = []
    t = 0.0
    pitch = int(rng.integers(inst.low + 4, inst.high - 3))
    velocity = int(rng.integers(50, 120))
    while t < length_s:
        dur = float(rng.choice([0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5]))
        legato = rng.random() < 0.5
        notes.append(PhraseNote(pitch, velocity, t, t + dur * (1.0 if legato else 0.8)))
        t += dur + (0.0 if legato or rng.random() < 0.6 else float(rng.uniform(0.1, 0.4)))
        step = int(rng.choice([-7, -5, -3, -2, -1, 1, 2, 3, 4, 5, 7, 12, -12]))
        pitch = int(np.clip(pitch + step, inst.low, inst.high))
        velocity = int(np.clip(velocity + rng.integers(-15, 16), 30, 127))
    return notes


def make_phrases(
    inst: Instrument, n: int, seed: int, length_s: float = 5.0
) -> list[list[PhraseNote]]:
    """``n`` phrases, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return [make_phrase(inst, rng, length_s) for _ in range(n)]


def phrase_length(phrase: list[PhraseNote]) -> float:
    """Seconds from the phrase start to its last note-off."""
    return max(n.end_s for n in phrase)


def layout(phrases: list[list[PhraseNote]]) -> list[float]:
    """Start time in seconds of each phrase in the rendered file (GAP_S between phrases)."""
    starts, t = [], GAP_S / 2
    for phrase in phrases:
        starts.append(t)
        t += phrase_length(phrase) + GAP_S
    return starts


def _ticks(seconds: float) -> int:
    return round(seconds * TICKS_PER_BEAT * 1e6 / TEMPO_US)


def write_midi(inst: Instrument, phrases: list[list[PhraseNote]], path: str) -> list[float]:
    """Write all phrases to one type-0 MIDI file; returns the phrase start times (s)."""
    starts = layout(phrases)
    events: list[tuple[int, int, mido.Message]] = []
    for start, phrase in zip(starts, phrases, strict=True):
        for note in phrase:
            on = mido.Message("note_on", note=note.pitch, velocity=note.velocity)
            off = mido.Message("note_off", note=note.pitch, velocity=0)
            # Note-offs sort before note-ons at the same tick so legato repeats re-strike.
            events.append((_ticks(start + note.start_s), 1, on))
            events.append((_ticks(start + note.end_s), 0, off))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0))
    track.append(mido.Message("program_change", program=inst.program, time=0))
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    end = _ticks(starts[-1] + phrase_length(phrases[-1]) + GAP_S / 2)
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    midi.save(path)
    return starts
