"""The OSC actor's sensors: samples at each sensor's address in, readings out on the
``sensors`` ring for the composer, calibration windows, and what status shows.

A sample is one number (OSC ``f``, ``d``, ``i`` or ``h``). Anything else at a sensor's
address — no argument, two, a string — is refused ``wrong_types``; a number that cannot
be a sample (NaN, negative, beyond the kind's physical limits) ``bad_value``; both are
counted per sensor and by the actor's refusal counts, and logged once per sender. Samples
are never answered: a wearable's bridge does not listen, and answering a 50 Hz stream
would double the traffic.

After each step's datagrams, every sensor that took a sample writes one
:class:`~kelly_actors.sensors.reading.Reading` row (at most one per sensor per step).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kelly_actors.bus.ring import RingWriter
from kelly_actors.osc.commands import BAD_VALUE, WRONG_TYPES, Refused
from kelly_actors.osc.wire import Message
from kelly_actors.sensors.reading import ROW_DTYPE, ROW_SHAPE
from kelly_actors.sensors.spec import SensorSpec
from kelly_actors.sensors.state import SensorState

_NUMBER_TAGS = frozenset("fdih")


class UnknownSensor(KeyError):
    """A calibration asked of a sensor the performance does not have."""


class SensorInput:
    """Every sensor of one bridge, by OSC address and by name."""

    def __init__(self, specs: tuple[SensorSpec, ...], writer: RingWriter | None) -> None:
        self.states = [SensorState(spec, i) for i, spec in enumerate(specs)]
        self.by_address = {s.spec.osc_address: s for s in self.states}
        self.by_name = {s.spec.name: s for s in self.states}
        self.writer = writer
        self.row = np.zeros(ROW_SHAPE, ROW_DTYPE)
        #: Readings the ring refused (it is an overwrite ring: only a broken one refuses).
        self.unwritten = 0
        self.written = 0

    def takes(self, address: str) -> bool:
        return address in self.by_address

    def take(self, message: Message, now: float) -> None:
        """One sample; raises :class:`Refused` (``wrong_types``, ``bad_value``)."""
        state = self.by_address[message.address]
        if len(message.tags) != 1 or message.tags not in _NUMBER_TAGS:
            state.refuse(WRONG_TYPES)
            raise Refused(
                WRONG_TYPES,
                f"{message.address} takes one number (',f'), got ',{message.tags[:16]}'",
            )
        value = float(message.args[0])
        why = state.take(value, now)
        if why is not None:
            kind = state.kind
            raise Refused(
                BAD_VALUE,
                f"{message.address}: {value!r} {kind.unit} cannot be a {state.spec.kind} "
                f"sample ({why}; {kind.low:g}…{kind.high:g})",
            )

    def flush(self) -> None:
        """Write a reading for each sensor that took a sample (or was calibrated)."""
        if self.writer is None:
            return
        for state in self.states:
            if state.dirty:
                state.reading().write(self.row)
                if self.writer.write(self.row):
                    self.written += 1
                else:
                    self.unwritten += 1

    def tick(self, now: float) -> bool:
        """Close calibration windows whose time is up; True when one closed."""
        closed = [s for s in self.states if s.tick(now)]
        return bool(closed)

    def next_due(self) -> float | None:
        """When the next calibration window closes (monotonic s), if one is open."""
        ends = [s.window_end for s in self.states if s.calibrating]
        return min(ends) if ends else None

    def calibrate(self, name: Any, seconds: Any, now: float) -> dict[str, Any]:
        """Open ``name``'s calibration window; UnknownSensor / ValueError with the reason."""
        state = self.by_name.get(name) if isinstance(name, str) else None
        if state is None:
            known = ", ".join(self.by_name) or "none configured"
            raise UnknownSensor(f"no sensor named {name!r} (sensors: {known})")
        if seconds is None:
            seconds = 0.0
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError(f"seconds must be a number, got {seconds!r}")
        if seconds and not 1.0 <= seconds <= 600.0:
            raise ValueError(f"seconds must be within 1…600 (0: the sensor's own), got {seconds}")
        return state.calibrate(float(seconds), now)

    def telemetry(self, now: float | None = None) -> dict[str, Any]:
        """Each sensor's status, and the totals."""
        now = time.monotonic() if now is None else now
        return {s.spec.name: s.status(now) for s in self.states}

    def totals(self) -> dict[str, int]:
        return {
            "accepted": sum(s.accepted for s in self.states),
            "refused": sum(sum(s.refused.values()) for s in self.states),
            "clamped": sum(s.clamped for s in self.states),
            "readings": self.written,
            "unwritten": self.unwritten,
        }

    def saved(self) -> dict[str, Any]:
        return {s.spec.name: s.saved() for s in self.states}

    def restore(self, saved: Any) -> None:
        if isinstance(saved, dict):
            for name, state in self.by_name.items():
                state.restore(saved.get(name))
