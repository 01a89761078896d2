"""The synth's event queue: records with absolute sample times, kinds from ``EventKind``.

One record (:data:`EVENT_DTYPE`) per event, in a preallocated array kept sorted by time, so
the render loop takes the events due in a block from the front without allocating. The kind
codes are :class:`kelly_actors.bus.note_events.EventKind`, the same as on the ``notes`` ring;
the synth-internal kinds ``ALL_SOUND_OFF``, ``PRESET`` and ``TIMBRE`` never travel on a ring.

Field meanings per kind:

* ``NOTE_ON``: ``note`` 0–127, ``velocity`` 1–127 (velocity 0 is a note-off, as in MIDI);
* ``NOTE_OFF``: ``note``;
* ``ALL_NOTES_OFF``: release every voice with its preset's release;
* ``ALL_SOUND_OFF``: fade every voice out in a steal's fade (4 ms: the panic);
* ``PITCH_BEND``: ``value`` = bend in semitones (as on the ring), clipped to the synth's
  bend range;
* ``EMOTION``: ``note + 256·velocity`` = the key of the PAD values in the synth's
  :class:`EmotionTable`;
* ``PRESET``: ``note`` = index into :data:`kelly_actors.synth.presets.PRESET_NAMES`;
* ``TIMBRE``: ``note`` = key of a pending timbre switch.

``channel`` is the MIDI channel 0–15 throughout.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EVENT_DTYPE", "EmotionTable", "EventQueue"]

#: One scheduled event. ``sample_time``: absolute sample (int64) at which it acts; ``kind``:
#: an ``EventKind`` code; ``channel``, ``note``, ``velocity``: uint8; ``value``: float32.
EVENT_DTYPE = np.dtype(
    [
        ("sample_time", "<i8"),
        ("kind", "u1"),
        ("channel", "u1"),
        ("note", "u1"),
        ("velocity", "u1"),
        ("value", "<f4"),
    ]
)


class EventQueue:
    """A preallocated queue of :data:`EVENT_DTYPE` records sorted by ``sample_time``; events
    with equal times keep the order they were queued in.

    Args:
        capacity: records it holds; pushing into a full queue fails (the caller counts it).
    """

    def __init__(self, capacity: int) -> None:
        self._records = np.zeros(capacity, dtype=EVENT_DTYPE)
        self.size = 0

    @property
    def capacity(self) -> int:
        return self._records.shape[0]

    @property
    def queued(self) -> np.ndarray:
        """The queued records, in time order (a view: valid until the queue changes)."""
        return self._records[: self.size]

    def push(self, sample_time: int, kind: int, note: int, velocity: int, channel: int,
             value: float) -> bool:  # fmt: skip
        """Queue one event; False when the queue is full."""
        n = self.size
        if n >= self._records.shape[0]:
            return False
        times = self._records["sample_time"]
        if n and times[n - 1] > sample_time:
            pos = int(np.searchsorted(times[:n], sample_time, side="right"))
            self._records[pos + 1 : n + 1] = self._records[pos:n]
        else:
            pos = n  # in time order: the common case, no search
        rec = self._records[pos]
        rec["sample_time"] = sample_time
        rec["kind"] = kind
        rec["channel"] = channel
        rec["note"] = note
        rec["velocity"] = velocity
        rec["value"] = value
        self.size = n + 1
        return True

    def push_array(self, events: np.ndarray) -> int:
        """Queue records of :data:`EVENT_DTYPE` as repeated :meth:`push` calls would; returns
        how many fitted (the rest are not queued)."""
        n = self.size
        take = np.asarray(events, dtype=EVENT_DTYPE)[: self._records.shape[0] - n]
        if take.size:
            both = np.concatenate([self._records[:n], take])
            order = np.argsort(both["sample_time"], kind="stable")
            self._records[: both.size] = both[order]
            self.size = both.size
        return int(take.size)

    def first_before(self, sample_time: int) -> bool:
        """True when the first queued event is due before ``sample_time``."""
        return self.size > 0 and self._records[0]["sample_time"] < sample_time

    def pop(self) -> np.void:
        """Take the first event (a copy of its record; the queue must not be empty)."""
        ev = self._records[0].copy()
        self.drop_first(1)
        return ev

    def drop_first(self, k: int) -> None:
        """Forget the first ``k`` events."""
        n = self.size
        self._records[: n - k] = self._records[k:n]
        self.size = n - k

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the queued events where ``mask`` (bool ``(size,)``) is True, in order."""
        kept = self._records[: self.size][mask]
        self._records[: kept.size] = kept
        self.size = kept.size


class EmotionTable:
    """PAD values of queued ``EMOTION`` events, which carry only a key (``note + 256·velocity``).

    Reused round-robin: one entry per event the queue can hold (at most 2¹⁶, what the key's
    two bytes address), so an entry is not overwritten while its event waits.

    Args:
        queue_capacity: the event queue's capacity.
    """

    def __init__(self, queue_capacity: int) -> None:
        self._values = np.zeros((min(1 << 16, max(256, queue_capacity)), 3))
        self._next = 0

    def store(self, valence: float, arousal: float, dominance: float) -> int:
        """Keep PAD values; returns their key."""
        key = self._next
        self._next = (key + 1) % self._values.shape[0]
        self._values[key] = (valence, arousal, dominance)
        return key

    @staticmethod
    def key_fields(key: int) -> tuple[int, int]:
        """``(note, velocity)`` of an ``EMOTION`` record that carries ``key``."""
        return key & 0xFF, key >> 8

    def values(self, note: int, velocity: int) -> list[float]:
        """``[valence, arousal, dominance]`` of the event with these ``note``/``velocity``."""
        return self._values[(note + 256 * velocity) % self._values.shape[0]].tolist()
