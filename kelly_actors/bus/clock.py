"""The musical clock: a sample counter plus a piecewise-constant tempo map.

The clock actor (the audio actor, or the demo tone) owns the sample counter
and is the transport block's only writer. The composer decides tempo and bar
lines; it sends tempo requests on the ``tempo`` ring (see
:mod:`kelly_actors.bus.note_events`) and the clock applies each from its
sample on, so bar numbers in the transport are the composer's bars.
"""

from __future__ import annotations

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
