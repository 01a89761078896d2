"""What one sensor proposes, as the row the OSC actor writes on the ``sensors`` ring and
the composer reads (the ring's declared shape is :data:`ROW_SHAPE`, dtype float64).

=====  =========================================================================
index  field
=====  =========================================================================
0      the sensor's index in ``[[sensors]]`` of its bridge (0, 1, …)
1      arousal it proposes (0…1)
2      dominance it proposes (0…1), NaN when the sensor does not move dominance
3      its weight (0…1)
4      when its last sample arrived: ``time.monotonic()`` s (CLOCK_MONOTONIC is one
       clock for every process on the machine)
5      hold_s: seconds the reading counts fully
6      decay_s: then its confidence falls by 1/e every decay_s seconds
7      its level above rest (−1…1), for the composer's telemetry
=====  =========================================================================

The composer keeps the newest row per sensor and weighs it by
:func:`~kelly_actors.sensors.signal.confidence` of its age at each bar line, so a sensor
whose packets stop fades out by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kelly_actors.sensors.signal import confidence

ROW_SHAPE = (8,)
ROW_DTYPE = "float64"
#: Most sensors one bridge takes (the index must fit the row exactly as a float).
MAX_SENSORS = 64


class BadReading(ValueError):
    """A row that is not a reading (the composer counts and drops it)."""


@dataclass(frozen=True)
class Reading:
    """One sensor's proposal; see the module's table for each field's unit."""

    index: int
    arousal: float
    dominance: float | None
    weight: float
    stamp: float
    hold_s: float
    decay_s: float
    level: float

    def confidence(self, now: float) -> float:
        """0…1 at ``now`` (``time.monotonic()`` s)."""
        return confidence(max(0.0, now - self.stamp), self.hold_s, self.decay_s)

    def write(self, row: np.ndarray) -> None:
        """Fill ``row`` (shape :data:`ROW_SHAPE`, float64) in place."""
        dominance = math.nan if self.dominance is None else self.dominance
        row[:] = (
            self.index,
            self.arousal,
            dominance,
            self.weight,
            self.stamp,
            self.hold_s,
            self.decay_s,
            self.level,
        )

    @classmethod
    def from_row(cls, row: np.ndarray) -> Reading:
        """The reading in ``row``; :class:`BadReading` when a field is out of its range."""
        index, arousal, dominance, weight, stamp, hold, decay, lvl = (float(x) for x in row)
        if not (index.is_integer() and 0 <= index < MAX_SENSORS):
            raise BadReading(f"sensor index {index!r}")
        for name, value, low, high in (
            ("arousal", arousal, 0.0, 1.0),
            ("weight", weight, 0.0, 1.0),
            ("level", lvl, -1.0, 1.0),
        ):
            if not low <= value <= high:  # NaN fails too
                raise BadReading(f"{name} {value!r}")
        if not math.isnan(dominance) and not 0.0 <= dominance <= 1.0:
            raise BadReading(f"dominance {dominance!r}")
        if not (math.isfinite(stamp) and hold > 0.0 and decay > 0.0):
            raise BadReading(f"time fields {stamp!r}, {hold!r}, {decay!r}")
        return cls(
            int(index),
            arousal,
            None if math.isnan(dominance) else dominance,
            weight,
            stamp,
            hold,
            decay,
            lvl,
        )
