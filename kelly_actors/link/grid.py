"""Where the composer's next bar starts, and at what tempo, when the clock follows Link.

Without Link the composer decides bar lines and tempo and the clock follows its
requests. With Link the transport (the session's timeline mapped to samples) decides:
a bar starts on the transport's bar line nearest the one the composer planned (the
first one far enough ahead when that one is too close or there is no plan), and is
played at the tempo the clock has there — including a change of Kelly's own that the
clock has already queued and announced in the transport's Link words.
"""

from __future__ import annotations

from kelly_actors.bus.clock import beat_at, next_line, sample_of
from kelly_actors.bus.transport import LinkWords, TransportState


def bar_start(
    transport: TransportState,
    link: LinkWords,
    earliest: float,
    planned: float | None,
    beats_per_bar: int,
) -> tuple[int, float]:
    """(start sample, bpm) of the next bar.

    Args:
        transport: the clock now (sample counter, beat there, tempo).
        link: the transport's Link words (a queued change: ``next_sample``, ``next_tempo``).
        earliest: the first sample the bar may start on (now plus the guard).
        planned: where the composer's own grid puts it (None: no plan yet).
        beats_per_bar: the composer's bar.
    """
    rate = transport.sample_rate
    pieces = [(float(transport.sample_counter), transport.beat, transport.tempo)]
    if link.next_tempo > 0 and link.next_sample > transport.sample_counter:
        s0, b0, t0 = pieces[0]
        change = float(link.next_sample)
        pieces.append((change, beat_at(s0, b0, t0, rate, change), link.next_tempo))

    def piece_of_sample(sample: float) -> tuple[float, float, float]:
        return [p for p in pieces if p[0] <= sample][-1] if sample >= pieces[0][0] else pieces[0]

    def piece_of_beat(beat: float) -> tuple[float, float, float]:
        return [p for p in pieces if p[1] <= beat][-1] if beat >= pieces[0][1] else pieces[0]

    def beat_of(sample: float) -> float:
        s0, b0, t0 = piece_of_sample(sample)
        return beat_at(s0, b0, t0, rate, sample)

    def line_sample(beat: float) -> tuple[float, float]:
        s0, b0, t0 = piece_of_beat(beat)
        return sample_of(s0, b0, t0, rate, beat), t0

    start, tempo = line_sample(next_line(beat_of(earliest), beats_per_bar))
    if planned is not None:
        nearest = round(beat_of(planned) / beats_per_bar) * beats_per_bar
        there, there_tempo = line_sample(nearest)
        if there >= earliest:
            start, tempo = there, there_tempo
    return round(start), tempo
