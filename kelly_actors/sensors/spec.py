"""``[[sensors]]``: what each sensor is, where its samples arrive and how much it counts.

::

    [[sensors]]
    name = "heart_rate"          # shown in kelly top, named by kelly ctl calibrate
    kind = "heart_rate"          # heart_rate (bpm) | eda (µS) | motion (g)
    address = "/kelly/sensor/heart_rate"   # the OSC address its samples come to
    weight = 0.5                 # beside an explicit emotion of full confidence (1)

Each kind has physical limits (a sample outside them is refused, not clamped) and
defaults for the tuning (:data:`KINDS`): the resting baseline used until the performer is
calibrated, the *span* (how far above rest counts as full arousal), the largest jump
between two samples that is not a spike, the smoothing time constant and how long a
sample stays fresh. Any of them can be set per sensor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kelly_actors.config.typed import Checked, setting


@dataclass(frozen=True)
class Kind:
    """One kind of sensor: its unit, physical limits and default tuning.

    Attributes:
        unit: what a sample measures in.
        low / high: the physically possible range (units); outside it a sample is refused.
        baseline: the resting value assumed until calibrated (units).
        span: the rise above rest that counts as full arousal (units).
        spike: the largest step (units) from the recent median that is taken as it comes;
            a larger one is clamped to this step and counted.
        smoothing_s: the exponential smoothing's time constant (s).
        hold_s: how long (s) after the last sample the confidence stays 1.
        moves_dominance: motion also drives dominance (big movements, more control).
        rectified: the level is the distance from rest either way (motion: a magnitude
            below 1 g is as much movement as one above), not the signed difference.
    """

    unit: str
    low: float
    high: float
    baseline: float
    span: float
    spike: float
    smoothing_s: float
    hold_s: float
    moves_dominance: bool = False
    rectified: bool = False


#: Heart rate: resting 50–90 bpm, the physiological range ~25–240; straps send ~1 Hz or per
#: beat. EDA (skin conductance): 0.05–60 µS across people, never ≤ 0. Motion: the
#: accelerometer's magnitude, 1 g at rest; wrist sensors clip at ±16 g per axis (√3·16 ≈ 28).
KINDS: dict[str, Kind] = {
    "heart_rate": Kind("bpm", 25.0, 240.0, 70.0, 40.0, 30.0, 2.0, 3.0),
    "eda": Kind("µS", 0.01, 100.0, 5.0, 4.0, 3.0, 2.0, 2.0),
    "motion": Kind("g", 0.0, 32.0, 1.0, 0.5, 6.0, 1.0, 1.0, True, True),
}

#: OSC address pattern characters (and space) a sensor's address may not contain.
_RESERVED = re.compile(r"[\s#*,?\[\]{}]")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: The prefix of a sensor's default address.
ADDRESS_PREFIX = "/kelly/sensor/"


@dataclass(frozen=True)
class Tuning:
    """A sensor's tuning with every default filled in (units as in :class:`Kind`)."""

    baseline: float
    span: float
    spike: float
    smoothing_s: float
    hold_s: float
    decay_s: float


@dataclass(frozen=True)
class SensorSpec(Checked):
    """One ``[[sensors]]`` table.

    Attributes:
        name: lower-case letters, digits and ``_`` (``kelly ctl calibrate NAME``).
        kind: ``heart_rate`` | ``eda`` | ``motion`` (:data:`KINDS`).
        address: the OSC address samples arrive at ("": ``/kelly/sensor/NAME``); one
            number each (OSC ``f``, ``d``, ``i`` or ``h``).
        weight: how much the sensor counts (0–1) beside an explicit emotion of full
            confidence (1) and the listener (``neural_weight``).
        bridge: the actor that receives the samples (the OSC actor).
        baseline: the resting value until calibrated (units; none: the kind's).
        span, spike, smoothing_s, hold_s: the kind's defaults unless set (:class:`Kind`).
        decay_s: after ``hold_s`` without a sample the confidence falls by 1/e every
            ``decay_s`` seconds.
        calibrate_s: the calibration window ``kelly ctl calibrate`` opens (s).
    """

    name: str
    kind: str = setting(choices=tuple(KINDS))
    address: str = ""
    weight: float = setting(0.5, low=0.0, high=1.0)
    bridge: str = "osc"
    baseline: float | None = setting(None, above=0.0)
    span: float | None = setting(None, above=0.0)
    spike: float | None = setting(None, above=0.0)
    smoothing_s: float | None = setting(None, low=0.0, high=60.0)
    hold_s: float | None = setting(None, above=0.0, high=600.0)
    decay_s: float = setting(5.0, above=0.0, high=600.0)
    calibrate_s: float = setting(30.0, low=1.0, high=600.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"name {self.name!r}: lower-case letters, digits and _, starting with a letter"
            )
        address = self.osc_address
        if not address.startswith("/") or _RESERVED.search(address) or len(address) > 128:
            raise ValueError(
                f"address {address!r} must start with / and have no spaces or OSC pattern "
                "characters (#*,?[]{})"
            )
        kind = KINDS[self.kind]
        baseline = self.tuning().baseline
        if not kind.low <= baseline <= kind.high:
            raise ValueError(
                f"baseline {baseline:g} {kind.unit} is outside {kind.low:g}…{kind.high:g}"
            )

    @property
    def osc_address(self) -> str:
        return self.address or ADDRESS_PREFIX + self.name

    @property
    def physical(self) -> Kind:
        return KINDS[self.kind]

    def tuning(self) -> Tuning:
        """Every setting of this sensor, the kind's default where none is given."""
        kind = KINDS[self.kind]

        def pick(value: float | None, default: float) -> float:
            return default if value is None else value

        return Tuning(
            baseline=pick(self.baseline, kind.baseline),
            span=pick(self.span, kind.span),
            spike=pick(self.spike, kind.spike),
            smoothing_s=pick(self.smoothing_s, kind.smoothing_s),
            hold_s=pick(self.hold_s, kind.hold_s),
            decay_s=self.decay_s,
        )


def check_unique(specs: tuple[SensorSpec, ...]) -> None:
    """ValueError when two sensors share a name or an address."""
    for what, key in (("name", lambda s: s.name), ("address", lambda s: s.osc_address)):
        seen: set[str] = set()
        for spec in specs:
            value = key(spec)
            if value in seen:
                raise ValueError(f"sensors: two sensors have the {what} {value!r}")
            seen.add(value)
