"""The whole compiled JACK callback with MIDI, cycle by cycle, against a stand-in libjack.

``engine_process`` calls libjack through addresses in its state words; here those are
ctypes functions that hand out numpy port buffers, say which frame each cycle starts
at and record what the callback writes into the MIDI port. So the callback's order —
MIDI planned with the block's own sample, nothing while the pre-roll holds the clock,
the buffer cleared every cycle — is checked on the real compiled code without a server
(the real server: tests/composer/test_composer_live_midi_jack.py).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import numpy as np
import pytest

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.engine import NativeEngine
from kelly_actors.audio.native.midi_state import NativeMidiOut
from kelly_actors.bus import midi_wire as wire
from kelly_actors.bus.clock import MusicalClock
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.bus.transport import Transport

BLOCK = 64
FIRST_FRAME = 1_000_000  # JACK's frame counter when the test's first cycle starts
PORT_OUT, PORT_MIDI = 0x10, 0x30
MIDI_BUFFER = 0x40


class FakeJack:
    """The five libjack functions the callback calls, as C function pointers."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words
        self.cycle = 0
        self.out = np.zeros((2, BLOCK), np.float32)
        self.clears = 0
        self.written: list[tuple[int, int, bytes]] = []  # (cycle, frame, message)
        get_buffer = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)
        get_time = ctypes.CFUNCTYPE(ctypes.c_uint64)
        cycle_times = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, *(ctypes.c_void_p,) * 4)
        clear = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
        write = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t
        )
        self._keep = [
            get_buffer(self._get_buffer), get_time(lambda: 0),
            cycle_times(self._cycle_times), clear(self._clear), write(self._write),
        ]  # fmt: skip
        fns = [ctypes.cast(f, ctypes.c_void_p).value for f in self._keep]
        w = words
        w[L.FN_PORT_GET_BUFFER], w[L.FN_GET_TIME], w[L.FN_GET_CYCLE_TIMES] = fns[:3]
        w[L.FN_MIDI_CLEAR], w[L.FN_MIDI_WRITE] = fns[3:]
        w[L.PORT_OUT], w[L.PORT_OUT + 1], w[L.PORT_IN] = PORT_OUT, PORT_OUT + 1, 0

    def _get_buffer(self, port: int, nframes: int) -> int:
        if port == PORT_MIDI:
            return MIDI_BUFFER
        return self.out[port - PORT_OUT].ctypes.data

    def _cycle_times(self, client, frames, usecs, next_usecs, period) -> int:
        ctypes.c_uint32.from_address(frames).value = FIRST_FRAME + self.cycle * BLOCK
        return 0

    def _clear(self, buffer: int) -> None:
        assert buffer == MIDI_BUFFER
        self.clears += 1

    def _write(self, buffer: int, frame: int, data: int, size: int) -> int:
        self.written.append((self.cycle, frame, ctypes.string_at(data, size)))
        return 0

    def run(self, cycles: int) -> None:
        from kelly_actors.audio.native.jack_callback import engine_process

        state = self.words.ctypes.data_as(ctypes.POINTER(ctypes.c_long))
        for _ in range(cycles):
            engine_process.ctypes(BLOCK, state)
            self.cycle += 1


@pytest.fixture
def graph() -> Iterator[tuple[NativeEngine, FakeJack, RingWriter, RingWriter]]:
    ns = RunNamespace.create()
    names = {k: ns.segment_name(k) for k in ("out", "midi")}
    rings = [
        Ring.create(names["out"], RingSpec("out", (BLOCK, 2), capacity=8, policy="drop")),
        Ring.create(names["midi"], RingSpec("midi", wire.SHAPE, wire.DTYPE, 64, policy="drop")),
    ]
    transport = Transport.create(ns.segment_name("transport"))
    engine = NativeEngine(
        MusicalClock(48_000, BLOCK), transport, None, RingReader.attach(names["out"], 0),
        BLOCK, preroll=True,
    )  # fmt: skip
    midi_reader = RingReader.attach(names["midi"], 0)
    midi = NativeMidiOut(engine.words, midi_reader, clock=True)
    fake = FakeJack(engine.words)
    engine.words[L.MIDI_PORT] = PORT_MIDI
    synth, composer = RingWriter.attach(names["out"]), RingWriter.attach(names["midi"])
    yield engine, fake, synth, composer
    midi.close()
    engine.close()
    for end in (engine.out_reader, midi_reader, synth, composer, *rings):
        end.close()
    transport.close()
    ns.release()


def test_midi_waits_for_the_pre_roll_then_leaves_at_its_frames(graph) -> None:
    engine, fake, synth, composer = graph
    note = np.array([wire.pack([0x90, 60, 100])], np.int64)
    for sample in (1024 + 5, 1024 + BLOCK + 63, 1024 + 3 * BLOCK):
        composer.write(note, sample)
    fake.run(3)  # no block from the synth yet: the clock holds, no MIDI, buffer cleared
    assert engine.prerolling and fake.written == [] and fake.clears == 3
    block = np.zeros((BLOCK, 2), np.float32)
    for k in range(8):
        synth.write(block, 1024 + k * BLOCK)  # the synth's first block is stamped 1024
    fake.run(100)
    notes = [(c, f) for c, f, m in fake.written if m[0] == 0x90]
    # The cycle that ends the pre-roll plays sample 1024 on: it is cycle 3.
    assert notes == [(3, 5), (4, 63), (6, 0)]
    # 1024 samples in is beat 0.043 at 120 bpm: the clock starts at the next 16th,
    # beat 0.25 = sample 6000 = frame 48 of cycle 3 + 77, with song position 1.
    clock = [(c, f, m) for c, f, m in fake.written if m[0] >= 0xF0]
    spp, cont, tick = wire.song_position(1), bytes([wire.CONTINUE]), bytes([wire.CLOCK])
    assert clock[:3] == [(80, 48, spp), (80, 48, cont), (80, 48, tick)]
    ticks = [c * BLOCK + f for c, f, m in clock if m == tick]
    assert np.all(np.diff(ticks) == 1000)  # 24 per beat at 120 bpm and 48 kHz
    offset = int(engine.words[L.MIDI_FRAME_OFFSET])
    assert offset == FIRST_FRAME + 3 * BLOCK - 1024
    assert fake.clears == 103 and engine.words[L.MIDI_SENT] == len(fake.written)
