"""One sensor as the bridge (the OSC actor) keeps it: its pipeline, its calibration window,
its counts and what it reports.

Times are ``time.monotonic()`` seconds unless a name ends in ``_unix``; values are in the
sensor's unit (:attr:`SensorSpec.physical`).
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Any

from kelly_actors.sensors import signal
from kelly_actors.sensors.reading import Reading
from kelly_actors.sensors.spec import SensorSpec

#: Accepted samples whose median is the spike reference: few, so a fast real rise (20 bpm/s
#: at one sample per beat) stays within the spike step; enough to outvote one artefact.
SPIKE_WINDOW = 3
#: Samples a calibration window keeps at most (10 minutes at 33 Hz); later ones are left
#: out of the median rather than growing the actor without bound.
MAX_WINDOW_SAMPLES = 20_000

#: Where the baseline comes from.
DEFAULT, CONFIGURED, CALIBRATED = "default", "configured", "calibrated"


class SensorState:
    """Samples in (:meth:`take`), a :class:`Reading` out, a calibration window on demand."""

    def __init__(self, spec: SensorSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.kind = spec.physical
        self.tuning = spec.tuning()
        self.baseline = self.tuning.baseline
        self.baseline_source = CONFIGURED if spec.baseline is not None else DEFAULT
        self.calibrated_unix: float | None = None
        self.calibration_samples = 0
        #: The last calibration's outcome in words ("" before any).
        self.calibration_note = ""
        self.window: list[float] | None = None
        self.window_end = 0.0
        self.window_s = 0.0
        self.recent: deque[float] = deque(maxlen=SPIKE_WINDOW)
        #: The smoothed value (motion: the smoothed distance from rest), None before a sample.
        self.smoothed: float | None = None
        self.last_value: float | None = None
        self.last_time: float | None = None
        self.accepted = 0
        self.clamped = 0
        self.refused: dict[str, int] = {}
        #: A sample arrived since the last :meth:`reading` was taken.
        self.dirty = False

    # -- samples -------------------------------------------------------------------

    def refuse(self, why: str) -> None:
        """Count a sample refused before it reached :meth:`take` (wrong OSC types)."""
        self.refused[why] = self.refused.get(why, 0) + 1

    def take(self, value: float, now: float) -> str | None:
        """One sample at ``now``: None when taken (perhaps clamped), else why it was refused
        (:data:`~kelly_actors.sensors.signal.NOT_FINITE`, ``OUT_OF_RANGE``)."""
        why = signal.refusal(self.kind, value)
        if why is not None:
            self.refuse(why)
            return why
        if self.window is not None and len(self.window) < MAX_WINDOW_SAMPLES:
            self.window.append(value)
        reference = statistics.median(self.recent) if self.recent else None
        used, clamped = signal.clip_spike(value, reference, self.tuning.spike)
        self.clamped += clamped
        self.recent.append(used)
        feature = abs(used - self.baseline) if self.kind.rectified else used
        dt = 0.0 if self.last_time is None else now - self.last_time
        self.smoothed = signal.smooth(self.smoothed, feature, dt, self.tuning.smoothing_s)
        self.last_value = used
        self.last_time = now
        self.accepted += 1
        self.dirty = True
        return None

    def level(self) -> float:
        """−1…1 (motion 0…1): how far the smoothed value lies above rest, in spans."""
        if self.smoothed is None:
            return 0.0
        t = self.tuning
        return signal.level(self.smoothed, self.baseline, t.span, self.kind.rectified)

    def confidence(self, now: float) -> float:
        if self.last_time is None:
            return 0.0
        return signal.confidence(now - self.last_time, self.tuning.hold_s, self.tuning.decay_s)

    def reading(self) -> Reading:
        """What the sensor proposes now (call after a sample: :attr:`dirty`)."""
        assert self.last_time is not None
        self.dirty = False
        lvl = self.level()
        return Reading(
            self.index,
            signal.arousal_of(lvl),
            signal.dominance_of(lvl) if self.kind.moves_dominance else None,
            self.spec.weight,
            self.last_time,
            self.tuning.hold_s,
            self.tuning.decay_s,
            lvl,
        )

    # -- calibration ---------------------------------------------------------------

    def calibrate(self, seconds: float, now: float) -> dict[str, Any]:
        """Open a window of ``seconds`` (0: the sensor's ``calibrate_s``): the median of
        the samples in it becomes the resting baseline when it closes (:meth:`tick`). A
        window already open starts again."""
        seconds = seconds or self.spec.calibrate_s
        self.window = []
        self.window_s = seconds
        self.window_end = now + seconds
        return {
            "sensor": self.spec.name,
            "seconds": seconds,
            "until_unix": round(time.time() + seconds, 3),
            "baseline": round(self.baseline, 4),
            "baseline_source": self.baseline_source,
        }

    def tick(self, now: float) -> bool:
        """Close the calibration window once its time is up; True when it closed."""
        if self.window is None or now < self.window_end:
            return False
        samples, self.window = self.window, None
        baseline = signal.resting_baseline(samples)
        if baseline is None:
            self.calibration_note = (
                f"failed: {len(samples)} samples in {self.window_s:g} s "
                f"(at least {signal.MIN_CALIBRATION_SAMPLES}); the baseline stays "
                f"{self.baseline:g} {self.kind.unit}"
            )
            return True
        self.baseline = baseline
        self.baseline_source = CALIBRATED
        self.calibrated_unix = time.time()
        self.calibration_samples = len(samples)
        self.calibration_note = f"{len(samples)} samples in {self.window_s:g} s"
        self.dirty = self.last_time is not None  # the level moved with the baseline
        return True

    @property
    def calibrating(self) -> bool:
        return self.window is not None

    # -- reporting and rehydration ------------------------------------------------------

    def status(self, now: float) -> dict[str, Any]:
        """What ``kelly status`` and ``kelly top`` show for this sensor."""
        age = None if self.last_time is None else round(now - self.last_time, 3)
        baseline = self.baseline_source
        if self.window is not None:
            left = max(0.0, self.window_end - now)
            baseline = f"calibrating ({left:.0f} s left, {len(self.window)} samples)"
        elif self.baseline_source == DEFAULT:
            baseline = "default (not calibrated)"
        return {
            "kind": self.spec.kind,
            "unit": self.kind.unit,
            "address": self.spec.osc_address,
            "value": None if self.last_value is None else round(self.last_value, 4),
            "smoothed": None if self.smoothed is None else round(self.smoothed, 4),
            "baseline": round(self.baseline, 4),
            "baseline_source": baseline,
            "calibration": self.calibration_note,
            "age_s": age,
            "confidence": round(self.confidence(now), 4),
            "weight": self.spec.weight,
            "level": round(self.level(), 4),
            "accepted": self.accepted,
            "refused": dict(self.refused),
            "clamped": self.clamped,
        }

    def saved(self) -> dict[str, Any]:
        """The calibration a replacement bridge keeps."""
        return {
            "baseline": self.baseline,
            "source": self.baseline_source,
            "calibrated_unix": self.calibrated_unix,
            "samples": self.calibration_samples,
        }

    def restore(self, saved: Any) -> None:
        """Take back :meth:`saved`; anything malformed or absurd is ignored."""
        if not isinstance(saved, dict) or saved.get("source") != CALIBRATED:
            return
        baseline = saved.get("baseline")
        if isinstance(baseline, bool) or not isinstance(baseline, int | float):
            return
        if signal.refusal(self.kind, float(baseline)) is not None:
            return
        self.baseline = float(baseline)
        self.baseline_source = CALIBRATED
        stamp = saved.get("calibrated_unix")
        self.calibrated_unix = float(stamp) if isinstance(stamp, int | float) else None
        samples = saved.get("samples")
        self.calibration_samples = samples if isinstance(samples, int) else 0
        self.calibration_note = f"{self.calibration_samples} samples (kept across a restart)"
