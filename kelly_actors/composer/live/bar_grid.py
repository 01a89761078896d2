"""The composer's bar grid: where the next bar starts, in transport samples.

The composer composes bar n when bar n − 1 starts (``prev_bar_sample``), one
bar ahead of the sound. The grid is anchored once per incarnation: a fresh
performance starts :data:`FIRST_BAR_LEAD_S` from now (not on the transport's
next bar line, which would open with a silent bar); a replacement continues its
predecessor's grid, or moves onto the transport's next bar line when it fell
behind (:meth:`BarGrid.regrid`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kelly_actors.bus.transport import TransportState

#: A bar line closer than this (s) when a bar is about to be composed is too
#: close to make; the grid moves on to the following bar line.
GUARD_S = 0.05
#: A fresh performance's first bar line lies this far (s) past the transport
#: sample seen when it is composed. Its notes must reach the synth before the
#: synth renders that sample: the synth keeps ``lookahead_blocks`` blocks
#: (4 × 256 frames = 21 ms by default) rendered ahead of the clock, plus the
#: block it is writing; composing a bar takes about 1 ms. The margin left
#: (≈ 20 ms) absorbs this loop being scheduled late; a note later still is
#: played at once by the synth (counted as ``late_events``), not lost.
FIRST_BAR_LEAD_S = GUARD_S
#: What the transformer gets (s) for a fresh performance's first bar (engines
#: hybrid and transformer), added to FIRST_BAR_LEAD_S: its answer takes about
#: 20 ms on an idle machine and 60 ms on a busy one (docs/transformer.md).
#: Less than the whole deadline, so the first sound comes 150 ms after the start,
#: not 300 ms; a slower answer leaves bar 0 to the rule engines.
FIRST_BAR_MODEL_S = 0.1


@dataclass
class BarGrid:
    """The next bar's number and start, and the start of the bar before it (samples).

    ``next_bar_sample`` / ``prev_bar_sample`` are None until the grid is anchored.
    ``regrids`` counts the times a composer that had composed moved onto the
    transport's bar lines because it fell behind.
    """

    next_bar: int = 0
    next_bar_sample: int | None = None
    prev_bar_sample: int | None = None
    regrids: int = 0

    @classmethod
    def restored(cls, state: dict[str, Any]) -> BarGrid:
        """The grid a predecessor published (empty state: a fresh one)."""
        return cls(
            int(state.get("next_bar", 0)),
            state.get("next_bar_sample"),
            state.get("prev_bar_sample"),
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "next_bar": self.next_bar,
            "next_bar_sample": self.next_bar_sample,
            "prev_bar_sample": self.prev_bar_sample,
        }

    @property
    def anchored(self) -> bool:
        return self.next_bar_sample is not None and self.prev_bar_sample is not None

    def due(self, now_sample: float) -> bool:
        """True once the bar before the next one has started: compose the next now."""
        return self.prev_bar_sample is not None and now_sample >= self.prev_bar_sample

    def behind(self, now_sample: float, sample_rate: int) -> bool:
        """True when the next bar line is closer than :data:`GUARD_S` (or past)."""
        assert self.next_bar_sample is not None
        return self.next_bar_sample < now_sample + GUARD_S * sample_rate

    def start_now(self, transport: TransportState, now_sample: float, lead_s: float) -> None:
        """Put the first bar line ``lead_s`` ahead of the transport, not on its next bar line.

        The bar is numbered as the clock counts its pre-roll (bar 0 at the start of a
        performance); the bar's tempo request then moves the clock's bar line onto it,
        so the transport's beat jumps once, by less than half a bar, before any note.
        """
        rate = transport.sample_rate
        sample = math.ceil(now_sample + lead_s * rate)
        samples_per_beat = 60.0 / transport.tempo * rate
        beat = transport.beat + (sample - transport.sample_counter) / samples_per_beat
        self.next_bar = max(0, round(beat / transport.beats_per_bar))
        self.next_bar_sample = sample
        # Compose it in this step: floor, so the step's own sample is already past it.
        self.prev_bar_sample = math.floor(now_sample)

    def regrid(self, transport: TransportState, now_sample: float, composed: bool) -> None:
        """Put the next bar on the transport's next bar line at least GUARD_S ahead.

        ``composed``: this composer (or its predecessor) has composed bars; it keeps
        their count (the clock follows the tempo requests). One that has not numbers
        its bars as the clock does.
        """
        rate = transport.sample_rate
        spb = 60.0 / transport.tempo * rate
        bpb = transport.beats_per_bar
        beat_now = transport.beat + (now_sample - transport.sample_counter) / spb
        line = (math.floor(beat_now / bpb) + 1) * bpb
        sample = transport.sample_counter + (line - transport.beat) * spb
        while sample < now_sample + GUARD_S * rate:
            sample += bpb * spb
        self.next_bar_sample = round(sample)
        self.prev_bar_sample = round(now_sample)
        if composed:
            self.regrids += 1
        else:
            self.next_bar = max(
                0, round((transport.beat + (sample - transport.sample_counter) / spb) / bpb)
            )

    def advance(self, bar: int, start: int, bar_samples: int) -> None:
        """Bar ``bar`` starting at ``start`` was scheduled; the next follows it."""
        self.prev_bar_sample = start
        self.next_bar_sample = start + bar_samples
        self.next_bar = bar + 1
