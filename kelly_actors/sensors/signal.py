"""The pure steps a sensor sample goes through, each a function with its units.

sample → :func:`refusal` (physically absurd? refused) → :func:`clip_spike` against the
median of the last few samples → :func:`smooth` (exponential, a time constant in
seconds) → :func:`level` (how far above the resting baseline, in spans) →
:func:`arousal_of` / :func:`dominance_of`; :func:`confidence` says how much a reading
still counts as it ages; :func:`resting_baseline` is the calibration window's baseline.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from kelly_actors.sensors.spec import Kind

#: Why a sample was refused (the per-sensor counts' keys).
NOT_FINITE = "not_finite"
OUT_OF_RANGE = "out_of_range"
#: A calibration window needs at least this many samples.
MIN_CALIBRATION_SAMPLES = 3
#: A reading whose confidence fell below this no longer counts at all.
MIN_CONFIDENCE = 0.05


def refusal(kind: Kind, value: float) -> str | None:
    """Why ``value`` (in ``kind.unit``) cannot be a sample: :data:`NOT_FINITE` (NaN, ±inf),
    :data:`OUT_OF_RANGE` (negative, or beyond the kind's physical limits, such as a heart
    rate of 400 bpm); None when it can."""
    if not math.isfinite(value):
        return NOT_FINITE
    if not kind.low <= value <= kind.high:
        return OUT_OF_RANGE
    return None


def clip_spike(value: float, reference: float | None, spike: float) -> tuple[float, bool]:
    """``value`` moved to at most ``spike`` from ``reference`` (all in the sensor's unit).

    ``reference`` is the median of the last few accepted samples (None before the first:
    nothing to compare with). Returns the value to use and whether it was clamped. A
    median rather than the smoothed value: the smoothed value lags a real, fast rise by
    rate × time constant, and clipping against it would flatten the rise.
    """
    if reference is None or abs(value - reference) <= spike:
        return value, False
    return (reference + spike if value > reference else reference - spike), True


def smooth(previous: float | None, value: float, dt_s: float, tau_s: float) -> float:
    """One step of exponential smoothing with time constant ``tau_s`` (s), ``dt_s`` (s)
    after the previous sample: ``s + (1 − e^(−dt/τ))·(x − s)``. Units of ``value`` in and
    out. Uneven sample spacing is handled by ``dt_s``; ``tau_s = 0`` or no previous value
    returns ``value``."""
    if previous is None or tau_s <= 0.0:
        return value
    alpha = 1.0 - math.exp(-max(0.0, dt_s) / tau_s)
    return previous + alpha * (value - previous)


def level(smoothed: float, baseline: float, span: float, rectified: bool = False) -> float:
    """How far ``smoothed`` lies from the resting ``baseline``, in ``span`` units (all in
    the sensor's unit), clipped to −1…1: 0 at rest, 1 at ``baseline + span`` or more.
    ``rectified`` (motion): ``smoothed`` is already a distance from rest, so 0…1."""
    x = smoothed / span if rectified else (smoothed - baseline) / span
    return max(0.0 if rectified else -1.0, min(1.0, x))


def arousal_of(level_: float) -> float:
    """Arousal (0…1) a sensor at ``level_`` (−1…1) proposes: 0.5 at rest, 1 a span above."""
    return max(0.0, min(1.0, 0.5 + 0.5 * level_))


def dominance_of(level_: float) -> float:
    """Dominance (0…1) motion at ``level_`` (0…1) proposes: 0.5 still, 1 at full movement."""
    return max(0.0, min(1.0, 0.5 + 0.5 * level_))


def confidence(age_s: float, hold_s: float, decay_s: float) -> float:
    """How much a reading ``age_s`` seconds old counts (0…1): 1 for ``hold_s`` seconds,
    then ``e^(−(age − hold)/decay)``; 0 once that is below :data:`MIN_CONFIDENCE` (so a
    sensor whose packets stopped drops out instead of pulling forever)."""
    if age_s <= hold_s:
        return 1.0
    c = math.exp(-(age_s - hold_s) / decay_s)
    return c if c >= MIN_CONFIDENCE else 0.0


def resting_baseline(samples: Sequence[float]) -> float | None:
    """The resting baseline of a calibration window: the median of its samples (in the
    sensor's unit), which a few spikes or a missed beat do not move. None with fewer than
    :data:`MIN_CALIBRATION_SAMPLES`."""
    if len(samples) < MIN_CALIBRATION_SAMPLES:
        return None
    return float(statistics.median(samples))
