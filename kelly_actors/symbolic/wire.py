"""A strict MIDI byte parser: what a port delivers → note and controller events, every
oddity counted.

A port hands over one *message* at a time (a JACK MIDI event, an ALSA sequencer event as
rtmidi re-encodes it): a list of ints 0…255. Usually one well-formed channel message,
but a sender may write anything, so :meth:`MidiParser.feed` reads the bytes as a MIDI
stream:

* **running status**: data bytes without a status byte reuse the last channel status
  (legal MIDI: ``90 3C 64 3E 64`` is two note-ons; a message of data bytes alone
  continues the previous message's status). Taken, counted ``running_status``.
* **SysEx** (``F0 … F7``, terminated or not): skipped whole, counted ``sysex`` with its
  length in ``sysex_bytes``; it cancels running status, as the MIDI spec says.
* **truncated** channel or system-common messages (too few data bytes before the end or
  the next status byte): dropped, counted ``truncated``.
* data bytes with no status to continue, a lone ``F7``: dropped, ``stray_bytes``.
* undefined status bytes (``F4``, ``F5``, ``F9``, ``FD``): dropped, ``undefined``.
* real-time bytes (clock, start, stop, active sensing; legal anywhere, even inside
  another message): skipped, ``realtime``. System common (song position, MTC,
  tune request): skipped, ``system``. Channel messages the listener has no use for
  (aftertouch, program change, pitch bend): ``other``.

Note-on with velocity 0 is a note-off (the usual running-status idiom).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NOTE_OFF_STATUS = 0x80
NOTE_ON_STATUS = 0x90
CONTROL_STATUS = 0xB0
SYSEX = 0xF0
SYSEX_END = 0xF7
#: Status bytes the MIDI spec leaves undefined.
UNDEFINED = frozenset({0xF4, 0xF5, 0xF9, 0xFD})
#: Data bytes after each system-common status (F1 MTC quarter frame, F2 song position,
#: F3 song select, F6 tune request).
SYSTEM_COMMON_DATA = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0}
#: The counters :attr:`MidiParser.counts` holds, in the order status shows them.
COUNTERS = (
    "running_status",
    "sysex",
    "sysex_bytes",
    "truncated",
    "stray_bytes",
    "undefined",
    "realtime",
    "system",
    "other",
)


@dataclass(frozen=True, slots=True)
class Event:
    """One channel event the listener uses.

    ``status``: :data:`NOTE_ON_STATUS`, :data:`NOTE_OFF_STATUS` or
    :data:`CONTROL_STATUS` (channel stripped); ``channel`` 0–15; ``a``: note number or
    controller number (0–127); ``b``: velocity or controller value (0–127).
    """

    status: int
    channel: int
    a: int
    b: int


def _data_bytes(status: int) -> int:
    """Data bytes a channel status takes: 1 for program change and channel pressure."""
    return 1 if status & 0xF0 in (0xC0, 0xD0) else 2


class MidiParser:
    """Keeps the running status between messages and counts what it refused."""

    def __init__(self) -> None:
        self.status = 0
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.messages = 0
        self.events = 0

    def feed(self, data: Sequence[int]) -> list[Event]:
        """The events in one message (ints 0…255); never raises on content."""
        self.messages += 1
        n = len(data)
        if n >= 2 and data[0] == SYSEX and data[-1] == SYSEX_END:
            # The common SysEx case without a per-byte walk (floods are large).
            self.counts["sysex"] += 1
            self.counts["sysex_bytes"] += n
            self.status = 0
            return []
        out: list[Event] = []
        i = 0
        while i < n:
            i = self._one(data, i, n, out)
        self.events += len(out)
        return out

    def _one(self, data: Sequence[int], i: int, n: int, out: list[Event]) -> int:
        """Parse what starts at ``data[i]``; returns the index after it."""
        counts = self.counts
        x = data[i]
        if x >= 0xF8:
            counts["undefined" if x in UNDEFINED else "realtime"] += 1
            return i + 1
        if x == SYSEX:
            j = i + 1
            while j < n and (data[j] < 0x80 or data[j] >= 0xF8):
                j += 1
            if j < n and data[j] == SYSEX_END:
                j += 1
            counts["sysex"] += 1
            counts["sysex_bytes"] += j - i
            self.status = 0
            return j
        if x >= 0xF0:
            self.status = 0  # system common cancels running status
            if x in UNDEFINED:
                counts["undefined"] += 1
                return i + 1
            if x == SYSEX_END:
                counts["stray_bytes"] += 1
                return i + 1
            values, j = self._take(data, i + 1, n, SYSTEM_COMMON_DATA[x])
            counts["system" if values is not None else "truncated"] += 1
            return j
        if x >= 0x80:
            self.status = x
            start = i + 1
        elif self.status == 0:
            counts["stray_bytes"] += 1
            return i + 1
        else:
            counts["running_status"] += 1
            start = i
        status = self.status
        values, j = self._take(data, start, n, _data_bytes(status))
        if values is None:
            counts["truncated"] += 1
            return j
        kind, channel = status & 0xF0, status & 0x0F
        if kind == NOTE_ON_STATUS and values[1] == 0:
            kind = NOTE_OFF_STATUS
        if kind in (NOTE_ON_STATUS, NOTE_OFF_STATUS, CONTROL_STATUS):
            out.append(Event(kind, channel, values[0], values[1]))
        else:
            counts["other"] += 1
        return j

    def _take(
        self, data: Sequence[int], i: int, n: int, count: int
    ) -> tuple[list[int] | None, int]:
        """``count`` data bytes from ``i`` (real-time bytes in between are skipped); None
        and the index of the interrupting status byte (or the end) when too few come."""
        values: list[int] = []
        while len(values) < count:
            if i >= n:
                return None, i
            x = data[i]
            if x >= 0xF8:
                self.counts["undefined" if x in UNDEFINED else "realtime"] += 1
            elif x >= 0x80:
                return None, i
            else:
                values.append(x)
            i += 1
        return values, i

    def refused(self) -> int:
        """Messages or bytes dropped as malformed (truncated, stray, undefined)."""
        c = self.counts
        return c["truncated"] + c["stray_bytes"] + c["undefined"]
