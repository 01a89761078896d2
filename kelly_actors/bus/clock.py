"""The musical clock: a sample counter plus a piecewise-constant tempo map.

The clock actor (the audio actor, or the demo tone) owns the sample counter
and is the transport block's only writer. The composer decides tempo and bar
lines; it sends tempo requests on the ``tempo`` ring (see
:mod:`kelly_actors.bus.note_events`) and the clock applies each from its
sample on, so bar numbers in the transport are the composer's bars. With an
Ableton Link session (:mod:`kelly_actors.link`) the clock actor's Link thread
sends the requests instead, from the session's timeline, mapped to samples by a
:class:`SampleTimeline`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from kelly_actors.bus.transport import Transport, TransportState


@dataclass(frozen=True)
class TempoSegment:
    """From ``start_sample`` on: ``tempo`` bpm, beat ``start_beat`` at that sample."""

    start_sample: int
    start_beat: float
    tempo: float
    beats_per_bar: int = 4


class MusicalClock:
    """Sample counter + tempo map → beat position, written to the transport."""

    def __init__(self, sample_rate: int, block_size: int, tempo: float = 120.0) -> None:
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.sample = 0
        self.current = TempoSegment(0, 0.0, tempo)
        self.pending: list[TempoSegment] = []

    @classmethod
    def resume(
        cls, state: TransportState | None, sample_rate: int, block_size: int, tempo: float = 120.0
    ) -> MusicalClock:
        """Continue a clock whose previous owner died, from its last transport state
        (a fresh clock at ``tempo`` when there is none)."""
        clock = cls(sample_rate, block_size, tempo)
        if state is not None and state.sample_counter > 0 and state.sample_rate == sample_rate:
            clock.sample = state.sample_counter
            clock.current = TempoSegment(
                state.sample_counter, state.beat, state.tempo, state.beats_per_bar
            )
        return clock

    def beat_at(self, sample: int) -> float:
        seg = self.current
        return seg.start_beat + (sample - seg.start_sample) * seg.tempo / 60.0 / self.sample_rate

    def request(self, start_sample: int, tempo: float, beat: float, beats_per_bar: int) -> bool:
        """Queue a tempo change; refuse nonsense (False) rather than corrupt the clock."""
        if not (20.0 <= tempo <= 400.0) or beats_per_bar < 1 or start_sample < 0:
            return False
        seg = TempoSegment(int(start_sample), float(beat), float(tempo), int(beats_per_bar))
        self.pending = [p for p in self.pending if p.start_sample < seg.start_sample] + [seg]
        return True

    def advance(self, frames: int) -> None:
        """Move the counter on by ``frames``, switching tempo where requested."""
        self.sample += frames
        while self.pending and self.pending[0].start_sample <= self.sample:
            self.current = self.pending.pop(0)

    def state(self, running: bool = True) -> TransportState:
        return TransportState(
            sample_counter=self.sample,
            sample_rate=self.sample_rate,
            block_size=self.block_size,
            tempo=self.current.tempo,
            beat=self.beat_at(self.sample),
            beats_per_bar=self.current.beats_per_bar,
            running=running,
        )

    def publish(self, transport: Transport, running: bool = True) -> None:
        transport.write(self.state(running))


#: An observation this far (s) above the estimate means the clock jumped (a restart,
#: a stall it skipped): the relation is learnt again.
TIMELINE_JUMP_S = 0.25
#: Every observation of the last TIMELINE_SHIFT_SPAN_S seconds lying more than
#: TIMELINE_SHIFT_S above the estimate means the clock fell behind for good (a stall longer
#: than its backend catches up on): the older observations are dropped.
TIMELINE_SHIFT_SPAN_S = 0.1
TIMELINE_SHIFT_S = 0.02


class SampleTimeline:
    """The clock's sample ↔ time relation: ``t ≈ offset + sample / rate``.

    The clock publishes its counter once per block; an observer sees each value some
    time after it was published, never before. So every observation's
    ``t − counter / rate`` is the true offset plus a delay ≥ 0, and the smallest one
    over the last ``window_s`` seconds is the estimate. The window lets the estimate
    follow a sound card whose crystal runs slower than the time source, or a time
    source that is slewed (``time.monotonic`` under NTP against ``CLOCK_MONOTONIC_RAW``).
    "Sample ``s`` is at time ``t``" means: the transport shows ``s`` from ``t`` on.

    Times are seconds of whatever clock the observer passes (the Link thread uses
    ``CLOCK_MONOTONIC_RAW``, Link's own clock on Linux).
    """

    def __init__(self, sample_rate: int, window_s: float = 1.0) -> None:
        self.sample_rate = sample_rate
        self.window_s = window_s
        #: (t, candidate offset), candidates increasing: the window's minimum is first.
        self._window: deque[tuple[float, float]] = deque()
        self._first: float | None = None
        self.jumps = 0
        self.shifts = 0

    def _span_since(self, t: float) -> bool:
        """Observations reach back a whole shift span (so "every recent one" means something)."""
        return self._first is not None and t - self._first >= TIMELINE_SHIFT_SPAN_S

    @property
    def ready(self) -> bool:
        return bool(self._window)

    @property
    def offset(self) -> float:
        """Seconds: the time of sample 0 (``observe`` must have run)."""
        return self._window[0][1]

    def observe(self, counter: int, t: float) -> None:
        """The transport showed ``counter`` (samples) at time ``t`` (s)."""
        candidate = t - counter / self.sample_rate
        window = self._window
        if window and candidate - window[0][1] > TIMELINE_JUMP_S:
            window.clear()
            self._first = None
            self.jumps += 1
        while window and window[-1][1] >= candidate:
            window.pop()
        window.append((t, candidate))
        while len(window) > 1 and window[0][0] < t - self.window_s:
            window.popleft()
        # The window holds suffix minima in time order: the first entry of the last
        # TIMELINE_SHIFT_SPAN_S is that span's minimum.
        recent = next(k for k, (tk, _) in enumerate(window) if tk >= t - TIMELINE_SHIFT_SPAN_S)
        if recent and self._span_since(t) and window[recent][1] - window[0][1] > TIMELINE_SHIFT_S:
            for _ in range(recent):
                window.popleft()
            self.shifts += 1
        if self._first is None:
            self._first = t

    def time_of(self, sample: float) -> float:
        """Seconds at which the transport shows ``sample``."""
        return self.offset + sample / self.sample_rate

    def sample_at(self, t: float) -> float:
        """The sample (fractional) the transport shows at time ``t``."""
        return (t - self.offset) * self.sample_rate


def beat_at(
    anchor_sample: float, anchor_beat: float, tempo: float, rate: int, sample: float
) -> float:
    """Beat at ``sample`` on a straight line through (``anchor_sample``, ``anchor_beat``)
    at ``tempo`` bpm and ``rate`` Hz."""
    return anchor_beat + (sample - anchor_sample) * tempo / 60.0 / rate


def sample_of(
    anchor_sample: float, anchor_beat: float, tempo: float, rate: int, beat: float
) -> float:
    """Inverse of :func:`beat_at`: the sample at which ``beat`` falls."""
    return anchor_sample + (beat - anchor_beat) * 60.0 / tempo * rate


def next_line(beat: float, beats_per_bar: int) -> float:
    """The first bar line (a multiple of ``beats_per_bar``) at or after ``beat``."""
    return math.ceil(beat / beats_per_bar - 1e-9) * beats_per_bar
