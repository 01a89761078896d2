"""Frame-exact MIDI out: the composer's messages go to the audio actor's JACK cycle.

The composer writes each message into the ``midi`` ring (:mod:`kelly_actors.bus.midi_wire`)
the moment it composes it, stamped with its transport sample; the audio actor's compiled
JACK callback writes it into its MIDI port (``kelly:midi_out``) at the frame of the cycle
that plays that sample (:mod:`kelly_actors.audio.native.midi_out`). So a note leaves with
the audio sample it belongs to, whatever this process's loop is doing. This needs the
audio actor on JACK with ``midi_ring`` set (``[actors.options.midi] output = "jack"``);
without JACK, :class:`~kelly_actors.composer.live.midi_port.MidiPort` (python-rtmidi)
sends each message when its time comes by the wall clock.

A full ring (the audio actor not taking MIDI: not on JACK, stopped, restarting) refuses
the message and counts it; the composer never waits.
"""

from __future__ import annotations

import numpy as np

from kelly_actors.bus import midi_wire as wire
from kelly_actors.bus.note_events import CC_ALL_NOTES_OFF, CC_ALL_SOUND_OFF, N_CHANNELS
from kelly_actors.bus.ring import RingWriter

#: What the composer's status says this path is.
PATH = "jack (frame-exact: the audio actor's JACK cycle)"


class JackMidiOut:
    """The composer's end of the ``midi`` ring. ``send``/``schedule`` never block or raise.

    Args:
        ring: the ring's name (for messages); :meth:`attach` hands it the writer.
    """

    api = "jack"

    def __init__(self, ring: str) -> None:
        self.ring = ring
        self.writer: RingWriter | None = None
        self.frame = np.zeros(wire.SHAPE, np.int64)
        self.sent = 0
        #: Messages the ring refused (full: the audio actor is not taking MIDI).
        self.refused = 0
        #: Messages that could not be encoded (a bug upstream, never sent).
        self.errors = 0
        self.refused_since_ok = 0

    @property
    def enabled(self) -> bool:
        return True

    @property
    def is_open(self) -> bool:
        return self.writer is not None

    @property
    def name(self) -> str:
        return f"JACK MIDI of the audio actor via ring {self.ring!r} (frame-exact)"

    def attach(self, writer: RingWriter) -> None:
        if writer.spec.shape != wire.SHAPE or writer.spec.dtype != np.dtype(wire.DTYPE):
            raise ValueError(f"ring {self.ring!r} must be {wire.DTYPE}{list(wire.SHAPE)}")
        self.writer = writer

    def open(self) -> str:
        """'' once attached (the ring is there from the start; nothing to open)."""
        return "" if self.writer is not None else f"MIDI ring {self.ring!r} not attached"

    def schedule(self, sample: int, message: bytes | list[int]) -> bool:
        """Write ``message`` to leave at transport sample ``sample``; False when refused."""
        writer = self.writer
        if writer is None:
            return False
        try:
            self.frame[0] = wire.pack(message)
        except ValueError:
            self.errors += 1
            return False
        if writer.write(self.frame, sample):
            self.sent += 1
            self.refused_since_ok = 0
            return True
        self.refused += 1
        self.refused_since_ok += 1
        return False

    def send(self, message: bytes | list[int]) -> None:
        """``message`` in the next cycle."""
        self.schedule(wire.ASAP, message)

    @property
    def stuck(self) -> bool:
        """The ring refuses everything lately: nobody takes the messages."""
        return self.refused_since_ok > 0

    def all_notes_off(self) -> None:
        """All Notes Off and All Sound Off on every channel, in the next cycle."""
        for channel in range(N_CHANNELS):
            self.send([0xB0 | channel, CC_ALL_NOTES_OFF, 0])
            self.send([0xB0 | channel, CC_ALL_SOUND_OFF, 0])

    def close(self) -> None:
        """Let go of the writer (the actor's context closes the ring itself)."""
        self.writer = None
