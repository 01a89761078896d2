"""The symbolic listener's estimate as the row the MIDI input actor writes on the
``midi_in`` ring and the composer reads (the ring's declared shape is :data:`ROW_SHAPE`,
dtype float64).

=====  =========================================================================
index  field
=====  =========================================================================
0      the newest note onset: ``time.monotonic()`` s (one clock for every process on
       the machine)
1      valence (−1…1)
2      arousal (0…1)
3      dominance (0…1)
4      the confidence of the window's note count (0…1)
5      hold_s: seconds after the newest onset the estimate counts fully
6      decay_s: then its confidence falls by 1/e every decay_s seconds
7      notes in the window
=====  =========================================================================

The composer keeps the newest row and weighs it at each bar line by its confidence at
that moment (:meth:`Reading.confidence`), so a performer who stops playing fades out by
itself, even if the MIDI input actor is gone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kelly_actors.symbolic.listener import Estimate, ListenerSettings, time_confidence

ROW_SHAPE = (8,)
ROW_DTYPE = "float64"


class BadReading(ValueError):
    """A row that is not a reading (the composer counts and drops it)."""


@dataclass(frozen=True)
class Reading:
    """One estimate; see the module's table for each field's unit."""

    stamp: float
    valence: float
    arousal: float
    dominance: float
    count_confidence: float
    hold_s: float
    decay_s: float
    notes: int

    @classmethod
    def of(cls, est: Estimate, last_onset: float, settings: ListenerSettings) -> Reading:
        return cls(
            last_onset,
            est.valence,
            est.arousal,
            est.dominance,
            est.confidence,
            settings.hold_s,
            settings.decay_s,
            est.cues.notes,
        )

    def confidence(self, now: float) -> float:
        """0…1 at ``now`` (``time.monotonic()`` s): the note count's confidence, decaying
        from ``hold_s`` after the newest onset."""
        age = max(0.0, now - self.stamp)
        return self.count_confidence * time_confidence(age, self.hold_s, self.decay_s)

    def write(self, row: np.ndarray) -> None:
        """Fill ``row`` (shape :data:`ROW_SHAPE`, float64) in place."""
        row[:] = (
            self.stamp,
            self.valence,
            self.arousal,
            self.dominance,
            self.count_confidence,
            self.hold_s,
            self.decay_s,
            self.notes,
        )

    @classmethod
    def from_row(cls, row: np.ndarray) -> Reading:
        """The reading in ``row``; :class:`BadReading` when a field is out of its range."""
        stamp, v, a, d, c, hold, decay, notes = (float(x) for x in row)
        for name, value, low, high in (
            ("valence", v, -1.0, 1.0),
            ("arousal", a, 0.0, 1.0),
            ("dominance", d, 0.0, 1.0),
            ("confidence", c, 0.0, 1.0),
        ):
            if not low <= value <= high:  # NaN fails too
                raise BadReading(f"{name} {value!r}")
        if not (math.isfinite(stamp) and hold > 0.0 and decay > 0.0):
            raise BadReading(f"time fields {stamp!r}, {hold!r}, {decay!r}")
        if not (notes.is_integer() and notes >= 0):
            raise BadReading(f"notes {notes!r}")
        return cls(stamp, v, a, d, c, hold, decay, int(notes))

    def as_list(self) -> list[float]:
        """The row's fields as a JSON-ready list (a composer's saved state)."""
        row = np.zeros(ROW_SHAPE, ROW_DTYPE)
        self.write(row)
        return [float(x) for x in row]

    @classmethod
    def from_list(cls, values: list[float]) -> Reading:
        """:meth:`as_list` back; :class:`BadReading` when it is not a reading."""
        try:
            row = np.array(values, dtype=ROW_DTYPE).reshape(ROW_SHAPE)
        except (TypeError, ValueError):
            raise BadReading(f"not a row: {values!r}") from None
        return cls.from_row(row)

    def to_dict(self, now: float) -> dict[str, float | int]:
        """For the composer's telemetry: the point, the confidence now, its age (s)."""
        return {
            "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4),
            "dominance": round(self.dominance, 4),
            "confidence": round(self.confidence(now), 4),
            "notes": self.notes,
            "age_s": round(max(0.0, now - self.stamp), 3),
        }
