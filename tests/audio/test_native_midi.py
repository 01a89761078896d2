"""The compiled callback's MIDI out, cycle by cycle, on a real ``midi`` ring (no JACK needed).

:func:`plan_from_state` is what the JACK callback runs each cycle before it writes the
plan into its port; here the plan is read back as (frame, bytes) pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.midi_out import plan_from_state
from kelly_actors.audio.native.midi_state import NativeMidiOut
from kelly_actors.bus import midi_wire as wire
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter

RATE = 48_000
BLOCK = 256


@dataclass
class Seat:
    """A ``midi`` ring, the composer's end, and a callback's state words on the other end."""

    ns: RunNamespace
    ring: Ring
    writer: RingWriter
    reader: RingReader
    words: np.ndarray
    midi: NativeMidiOut

    def write(self, sample: int, message: list[int]) -> bool:
        return self.writer.write(np.array([wire.pack(message)], np.int64), sample)

    def cycle(self, start: int, n: int = BLOCK) -> list[tuple[int, bytes]]:
        count = plan_from_state(self.words, self.words.view(np.float64), start, n, start)
        out = self.midi.out[:count]
        return [(int(row[0]), wire.unpack(int(row[1]) | int(row[2]) << 24)) for row in out]

    def tempo(self, bpm: float, start: int = 0, beat: float = 0.0) -> None:
        f = self.words.view(np.float64)
        self.words[L.SEG_START] = start
        f[L.SEG_BEAT], f[L.SEG_TEMPO] = beat, bpm

    def close(self) -> None:
        self.midi.close()
        self.reader.close()
        self.writer.close()
        self.ring.close()
        self.ns.release()


def _seat(capacity: int = 64, clock: bool = False) -> Seat:
    ns = RunNamespace.create()
    name = ns.segment_name("midi")
    ring = Ring.create(name, RingSpec("midi", wire.SHAPE, wire.DTYPE, capacity, policy="drop"))
    writer, reader = RingWriter.attach(name), RingReader.attach(name, 0)
    words = np.zeros(L.WORDS, np.int64)
    words[L.SAMPLE_RATE], words[L.BLOCK] = RATE, BLOCK
    seat = Seat(ns, ring, writer, reader, words, NativeMidiOut(words, reader, clock))
    seat.tempo(120.0)
    return seat


@pytest.fixture
def seat() -> Iterator[Seat]:
    s = _seat()
    yield s
    s.close()


@pytest.fixture
def clocked() -> Iterator[Seat]:
    s = _seat(clock=True)
    yield s
    s.close()


def _every_cycle(seat: Seat, cycles: int, first: int = 0) -> list[tuple[int, int, bytes]]:
    """(absolute sample, frame, bytes) of everything sent over ``cycles`` cycles."""
    sent = []
    for k in range(cycles):
        start = first + k * BLOCK
        sent += [(start + frame, frame, message) for frame, message in seat.cycle(start)]
    return sent


def test_each_message_leaves_at_its_frame_in_the_cycle_that_plays_its_sample(seat) -> None:
    times = [0, 1, 255, 256, 300, 511, 1000, 4095]
    for i, t in enumerate(times):
        assert seat.write(t, [0x90, 60 + i, 100])
    sent = _every_cycle(seat, 16)
    assert [(s, m[1]) for s, _, m in sent] == [(t, 60 + i) for i, t in enumerate(times)]
    assert all(frame == s % BLOCK for s, frame, _ in sent)
    assert seat.words[L.MIDI_LATE] == 0


def test_a_panic_written_after_future_notes_leaves_first_and_ties_keep_their_order(seat) -> None:
    seat.write(1000, [0x80, 60, 0])
    seat.write(1000, [0x90, 60, 90])  # off then on at one sample: a repeated pitch
    seat.write(wire.ASAP, [0xB0, 123, 0])
    sent = _every_cycle(seat, 4)
    assert [m for _, _, m in sent] == [bytes([0xB0, 123, 0]), b"\x80\x3c\x00", b"\x90\x3c\x5a"]
    assert sent[0][1] == 0 and sent[1][1] == 1000 - 3 * BLOCK


def test_late_messages_go_at_once_but_a_stale_note_on_is_dropped(seat) -> None:
    start = 10 * RATE
    seat.write(start - 100, [0x90, 61, 100])  # 2 ms late: played at frame 0
    seat.write(start - RATE, [0x90, 62, 100])  # a second late: never played
    seat.write(start - RATE, [0x80, 62, 0])  # its note-off still goes
    sent = seat.cycle(start)
    assert sent == [(0, b"\x80\x3e\x00"), (0, b"\x90\x3d\x64")]
    assert seat.words[L.MIDI_LATE] == 2 and seat.words[L.MIDI_STALE] == 1


def test_a_slot_that_is_no_message_is_skipped_and_counted(seat) -> None:
    for word in (0, 0x7F | 1 << 24, 0xF0 | 1 << 24, 0x90 | 0x80 << 8 | 3 << 24, -5):
        assert seat.writer.write(np.array([word], np.int64), 10)
    seat.write(20, [0xC0, 5])
    assert seat.cycle(0) == [(20, b"\xc0\x05")]
    assert seat.words[L.MIDI_BAD] == 5


def test_more_messages_than_a_cycle_takes_wait_for_the_next_cycle_in_order(seat) -> None:
    ring_capacity = 64
    for k in range(L.MIDI_OUT_MAX + 40):
        if k % ring_capacity == 0:
            seat.cycle(-10 * BLOCK)  # drain the ring into pending: nothing is due yet
        assert seat.write(5, [0x90, k % 128, 1 + k // 128])
    first = seat.cycle(0)
    second = seat.cycle(BLOCK)
    assert len(first) == L.MIDI_OUT_MAX - 3 and len(first) + len(second) == L.MIDI_OUT_MAX + 40
    order = [(m[2] - 1) * 128 + m[1] for _, m in first + second]
    assert order == list(range(L.MIDI_OUT_MAX + 40))


def test_a_full_ring_refuses_the_composer_and_counts_it(seat) -> None:
    refused = [seat.write(10_000 + k, [0x90, 60, 1]) for k in range(70)]
    assert refused.count(False) == 6
    assert seat.ring.stats().overruns == 6
    assert len(seat.cycle(10_000)) == 64  # what the ring held still goes


def test_midi_clock_ticks_24_per_beat_with_song_position_and_start_first(clocked) -> None:
    sent = _every_cycle(clocked, 2 * RATE // BLOCK)  # two seconds at 120 bpm: 4 beats
    assert [m for _, _, m in sent[:3]] == [wire.song_position(0), bytes([wire.START]), b"\xf8"]
    ticks = [s for s, _, m in sent if m == bytes([wire.CLOCK])]
    assert len(ticks) == 4 * 24  # ticks 0 … 95 fall before sample 96,000
    assert np.all(np.diff(ticks) == RATE * 60 // 120 // 24)


def test_the_clock_follows_a_tempo_change_from_its_segment(clocked) -> None:
    _every_cycle(clocked, 94)  # up to sample 24,064: a bit past beat 1 at 120 bpm
    change = 94 * BLOCK
    beat = change * 120 / 60 / RATE
    clocked.tempo(90.0, change, beat)
    sent = _every_cycle(clocked, 100, first=change)
    ticks = [s for s, _, m in sent if m == bytes([wire.CLOCK])]
    spacing = RATE * 60 / 90 / 24  # 1333.3 frames
    assert np.all(np.abs(np.diff(ticks) - spacing) <= 1)
    tick0 = clocked.words[L.MIDI_NEXT_TICK] - len(ticks)
    expected = change + (np.arange(tick0, tick0 + len(ticks)) / 24 - beat) * spacing * 24
    assert np.all(np.abs(np.array(ticks) - expected) <= 0.5)


def test_a_clock_that_starts_mid_song_continues_from_the_next_sixteenth(clocked) -> None:
    clocked.tempo(120.0, 0, 0.0)
    start = 10 * RATE + 100  # beat 20.004: the next 16th is 81 (beat 20.25)
    sent = _every_cycle(clocked, 40, first=start)
    assert sent[0][2] == wire.song_position(81) and sent[1][2] == bytes([wire.CONTINUE])
    assert sent[0][0] == round(20.25 * RATE / 2) == sent[2][0]


def test_a_jump_of_the_clock_restarts_with_a_new_song_position(clocked) -> None:
    _every_cycle(clocked, 10)
    sent = _every_cycle(clocked, 10, first=60 * RATE)
    assert sent[0][2] == wire.song_position(120 * 4) and sent[1][2] == bytes([wire.CONTINUE])


def test_wire_packs_what_can_travel_and_refuses_the_rest() -> None:
    for message in ([0x90, 60, 100], [0xC3, 7], [0xF8], wire.song_position(16383 + 5)):
        assert wire.unpack(wire.pack(message)) == bytes(message)
    assert wire.song_position(16384 + 5) == wire.song_position(5)
    for bad in ([], [0x60, 1, 2], [0x90, 60], [0x90, 200, 1], [0xF0, 1, 0xF7], [0xC0, 1, 2]):
        with pytest.raises(ValueError):
            wire.pack(bad)


def test_stopping_sends_midi_stop_once_and_no_more_ticks(clocked) -> None:
    _every_cycle(clocked, 8)
    clocked.words[L.MIDI_STOPPING] = 1
    sent = _every_cycle(clocked, 20, first=8 * BLOCK)
    assert [m for _, _, m in sent] == [bytes([wire.STOP])]
    assert clocked.words[L.MIDI_STOPPING] == 2


def test_a_replacement_begins_by_releasing_every_channel() -> None:
    seat = _seat()
    try:
        seat.midi = NativeMidiOut(seat.words, seat.reader, clock=False, release_notes=True)
        sent = seat.cycle(5 * BLOCK)
        assert sent == [(0, bytes([0xB0 | c, 123, 0])) for c in range(16)]
        assert seat.words[L.MIDI_LATE] == 0
    finally:
        seat.close()
