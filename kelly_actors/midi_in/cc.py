"""Controllers → what the config maps them to.

An axis mapping turns the value 0…127 into the axis's range (valence −1…1, arousal and
dominance 0…1: ``low + value/127 · (high − low)``); the newest value of each axis waits
in :attr:`CcMapper.axes` until :meth:`CcMapper.axis_request` sends them together, at most
once per ``axis_interval_s``. A command mapping fires once each time its value rises
from below ``threshold`` to ``threshold`` or more (a pedal pressed; releasing it and
holding it do nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kelly_actors.midi_in.config import AXIS_RANGES, CcMap


@dataclass(frozen=True)
class Command:
    """A command to send: the verb (for counts), the supervisor cmd and its args."""

    verb: str
    cmd: str
    args: dict[str, Any]


def axis_value(axis: str, value: int) -> float:
    """A controller value 0…127 on ``axis``'s range."""
    low, high = AXIS_RANGES[axis]
    return low + (high - low) * value / 127.0


class CcMapper:
    """Applies the mappings; remembers each controller's last value."""

    def __init__(self, mappings: tuple[CcMap, ...], composer: str) -> None:
        self.mappings = mappings
        self.composer = composer
        self.last: dict[tuple[int, int], int] = {}
        #: Axis values not sent yet, newest per axis.
        self.axes: dict[str, float] = {}
        self.unmapped = 0
        self.mapped = 0

    def take(self, channel: int, number: int, value: int) -> list[Command]:
        """One controller message; the commands it fires."""
        before = self.last.get((channel, number), 0)
        self.last[(channel, number)] = value
        out: list[Command] = []
        hit = False
        for m in self.mappings:
            if not m.matches(channel, number):
                continue
            hit = True
            if m.axis:
                self.axes[m.axis] = axis_value(m.axis, value)
            elif before < m.threshold <= value:
                out.append(self._command(m))
        self.mapped += hit
        self.unmapped += not hit
        return out

    def _command(self, m: CcMap) -> Command:
        if m.command == "restart":
            return Command("restart", "restart", {"actor": m.target})
        args = {"axis": m.target} if m.command in ("lock", "unlock") else {}
        return Command(
            m.command, "call", {"actor": self.composer, "method": m.command, "args": args}
        )

    def axis_request(self) -> Command | None:
        """The waiting axis values as one ``set_emotion`` call (and forget them)."""
        if not self.axes:
            return None
        values = {a: round(v, 6) for a, v in self.axes.items()}
        self.axes.clear()
        args = {"actor": self.composer, "method": "set_emotion", "args": values}
        return Command("set_emotion", "call", args)
