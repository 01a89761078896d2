"""The actor's side of the callback's MIDI out: its arrays, its ring seat, its figures.

:class:`NativeMidiOut` allocates what :mod:`.midi_out` works on (the pending messages,
the cycle's plan), takes the audio actor's seat on the ``midi`` ring and puts their
addresses into the engine's state words; :meth:`NativeMidiOut.enable` hands the callback
the JACK port last, so the callback never sees half of it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.midi_out import jack_midi_addresses
from kelly_actors.bus import midi_wire as wire
from kelly_actors.bus.note_events import CC_ALL_NOTES_OFF, N_CHANNELS
from kelly_actors.bus.ring import RingReader
from kelly_actors.bus.ring_layout import _R0, _R_INDEX, _R_OVERRUNS, _R_PEAK, _R_STRIDE, _R_TORN


class NativeMidiOut:
    """MIDI out of a compiled engine whose state words are ``words``.

    Args:
        words: the engine's int64 state words (:mod:`.layout`).
        reader: the audio actor's reader of the ``midi`` ring (int64 (1,) slots), or None
            for clock only.
        clock: send MIDI clock (24 per beat), song position and Start/Continue.
        release_notes: begin with All Notes Off on every channel. A replacement audio
            actor does: its predecessor died with note-offs taken from the ring but not
            yet sent, which would otherwise hang on the receiver.
    """

    def __init__(
        self,
        words: np.ndarray,
        reader: RingReader | None,
        clock: bool,
        release_notes: bool = False,
    ) -> None:
        if reader is not None and (
            reader.spec.shape != wire.SHAPE or reader.spec.dtype != np.dtype(wire.DTYPE)
        ):
            raise ValueError(f"the midi ring must be {wire.DTYPE}{list(wire.SHAPE)}")
        self.words = words
        self.reader = reader
        self.pending = np.zeros((L.MIDI_PENDING_MAX, 2), np.int64)
        self.out = np.zeros((L.MIDI_OUT_MAX, 3), np.int64)
        self._ring: np.ndarray | None = None
        w = words
        w[L.MIDI_PENDING_ADDR] = self.pending.ctypes.data
        w[L.MIDI_OUT_ADDR] = self.out.ctypes.data
        w[L.MIDI_PENDING_N] = 0
        w[L.MIDI_CLOCK] = int(clock)
        w[L.MIDI_NEXT_TICK] = w[L.MIDI_START_TICK] = -1
        w[L.MIDI_STOPPING] = 0
        if release_notes:
            for channel in range(N_CHANNELS):
                self.pending[channel] = (
                    wire.ASAP,
                    wire.pack([0xB0 | channel, CC_ALL_NOTES_OFF, 0]),
                )
            w[L.MIDI_PENDING_N] = N_CHANNELS
        if reader is not None:
            self._attach(reader)

    def _attach(self, reader: RingReader) -> None:
        """Our reader position on the ring, continued from shared memory (a replacement
        audio actor takes up where its predecessor stopped)."""
        w, spec, r = self.words, reader.spec, L.MIDI_RING
        view = self._ring = np.frombuffer(reader.segment.buf, dtype=np.int64)
        w[r + L.R_ADDR], w[r + L.R_WORDS] = view.ctypes.data, view.size
        w[r + L.R_CAP], w[r + L.R_STRIDE] = spec.capacity, spec.stride // 8
        w[r + L.R_SLOT] = reader.slot
        line = _R0 + _R_STRIDE * reader.slot
        w[r + L.R_INDEX], w[r + L.R_PEAK] = view[line + _R_INDEX], view[line + _R_PEAK]

    def enable(self, port_address: int) -> None:
        """Hand the callback the JACK MIDI port (``jack_port_t*``); OSError without libjack."""
        w = self.words
        w[L.FN_MIDI_CLEAR], w[L.FN_MIDI_WRITE] = jack_midi_addresses()
        w[L.MIDI_PORT] = port_address

    def stop_clock(self, timeout_s: float = 0.1) -> bool:
        """Have the callback send MIDI Stop (with the clock on) and no more ticks; wait up
        to ``timeout_s`` for the cycle that does. False when no cycle came (server gone)."""
        w = self.words
        w[L.MIDI_STOPPING] = 1
        deadline = time.monotonic() + timeout_s
        while w[L.MIDI_STOPPING] != 2:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def disable(self) -> None:
        """The callback writes no more MIDI (call with the client deactivated, or before)."""
        self.words[L.MIDI_PORT] = 0

    def figures(self) -> dict[str, Any]:
        """Counters for the actor's telemetry."""
        w = self.words
        figures: dict[str, Any] = {
            "sent": int(w[L.MIDI_SENT]),
            "clock_ticks": int(w[L.MIDI_TICKS]),
            "late": int(w[L.MIDI_LATE]),
            "stale_dropped": int(w[L.MIDI_STALE]),
            "buffer_full_dropped": int(w[L.MIDI_FULL]),
            "bad": int(w[L.MIDI_BAD]),
            "pending": int(w[L.MIDI_PENDING_N]),
            # JACK frame = transport sample + frame_offset (mod 2^32), as of the last cycle.
            "frame_offset": int(w[L.MIDI_FRAME_OFFSET]),
        }
        if self._ring is not None and self.reader is not None:
            line = _R0 + _R_STRIDE * self.reader.slot
            figures["ring_overruns"] = int(self._ring[line + _R_OVERRUNS])
            figures["ring_torn"] = int(self._ring[line + _R_TORN])
        return figures

    def close(self) -> None:
        self.disable()
        self._ring = None
