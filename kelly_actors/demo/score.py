"""A deterministic note source for measurements: a seeded score on the ``notes`` ring.

:class:`ScoreActor` writes what a composer would write — note-ons and note-offs on a few
channels — but the score is a pure function of ``(seed, tempo, …)`` from its
:class:`ScoreConfig`: every event's sample time is an ABSOLUTE transport sample computed from
the score's own tempo and ``start_s``, never from the wall clock or from when the actor ran.
Two performances with the same config therefore feed the synth the same events at the same
samples, and (the synth being a pure function of its events, and a fresh clock waiting for the
synth's first block) record bit-identical ``output.wav`` files — the baseline a failover
measurement compares a disturbed run against (``benchmarks/failover.py``,
``tests/audio/test_standby_live.py``).

The score, bar after bar (``beats_per_bar`` beats at ``tempo`` bpm, bar 0 at ``start_s``):

* channel 1: a sustained chord (three or four tones from the scale) held for the whole bar, so
  the output never falls silent once the score has started;
* channel 2: a bass note on the chord's root on each half bar, 1–2 beats long;
* channel 0: a melody, a random walk on the scale, onsets on a sixteenth-note grid, on average
  ``notes_per_second`` a second, each sounding for half to all of its slot (notes of varying
  length), with an occasional rest.

Events are written in time order (a note-off before a note-on at the same sample), each
``lead_s`` ahead of the transport's sample counter. The ring's write index is the number of
score events written so far, so a restarted score actor skips exactly that many and continues
where its predecessor stopped. An event written when the transport had already passed its time
is counted (``late_writes``): the measurement is then no longer exact.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from kelly_actors.actor.base import Actor
from kelly_actors.bus import note_events as ne
from kelly_actors.bus.note_events import EventKind
from kelly_actors.config.typed import Checked, ConfigError, setting

MELODY_CHANNEL, CHORD_CHANNEL, BASS_CHANNEL = 0, 1, 2
#: Scale steps (semitones above the tonic) of the two modes a seed picks from.
MODES = ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10))
#: Chord roots as scale degrees (0-based) the progression walks over.
CHORD_DEGREES = (0, 3, 4, 5, 1, 2)
#: Probability that a melody slot is a rest.
REST_PROBABILITY = 0.1


class ScoreEvent(NamedTuple):
    """One note event: absolute sample ``time``, ``kind`` (``note_events.EventKind.NOTE_ON`` or
    ``NOTE_OFF``), MIDI ``channel`` 0–15, ``key`` 0–127, ``velocity`` 1–127 (0 for offs)."""

    time: int
    kind: int
    channel: int
    key: int
    velocity: int


@dataclass(frozen=True)
class ScoreConfig(Checked):
    """Settings of the score actor (its ``[actors.options]``).

    Attributes:
        seed: picks the mode, the progression, the melody and the velocities.
        ring: the notes ring to write (``float64[8]`` events, ``bus/note_events.py``).
        tempo: the score's tempo, bpm (its own: the transport's tempo is not read).
        beats_per_bar: beats per bar.
        start_s: transport time (s) of bar 0's first beat: the first events' sample.
        lead_s: how far (s) ahead of the transport's sample counter events are written; more
            than the synth's look-ahead plus any stall of this actor keeps every event on time.
        notes_per_second: mean melody onsets per second (the melody's density).
        tonic: MIDI note of the key's tonic (the chords sit around it, the melody an octave
            above, the bass two below).
        sample_rate: Hz; the rate the event times are computed at — the performance's rate.
        poll_s: seconds between two looks at the transport.
    """

    seed: int = 0
    ring: str = "notes"
    tempo: float = setting(96.0, low=20.0, high=400.0)
    beats_per_bar: int = setting(4, low=1, high=16)
    start_s: float = setting(0.5, low=0.0)
    lead_s: float = setting(0.3, above=0.0)
    notes_per_second: float = setting(3.0, low=0.1, high=32.0)
    tonic: int = setting(57, low=36, high=84)
    sample_rate: int = setting(48_000, above=0)
    poll_s: float = setting(0.02, above=0.0)


def score_events(cfg: ScoreConfig) -> Iterator[ScoreEvent]:
    """The score, endless, in the order it is written (time, then offs before ons).

    A pure function of ``cfg``: the same config yields the same events, sample for sample.
    """
    rng = random.Random(cfg.seed)
    scale = MODES[rng.randrange(len(MODES))]
    samples_per_beat = 60.0 * cfg.sample_rate / cfg.tempo
    start = round(cfg.start_s * cfg.sample_rate)

    def at(beats: float) -> int:
        """Absolute sample of a beat position (beats since bar 0)."""
        return start + round(beats * samples_per_beat)

    def pitch(degree: int, base: int) -> int:
        octave, step = divmod(degree, len(scale))
        return base + 12 * octave + scale[step]

    sixteenths_per_s = cfg.tempo / 60.0 * 4.0
    mean_gap = max(1, round(sixteenths_per_s / cfg.notes_per_second))
    gaps = (max(1, mean_gap // 2), mean_gap, mean_gap, max(1, round(1.5 * mean_gap)), 2 * mean_gap)
    heap: list[tuple[int, int, int, ScoreEvent]] = []
    seq = 0

    def note(on_beats: float, off_beats: float, channel: int, key: int, velocity: int) -> None:
        nonlocal seq
        on, off = at(on_beats), at(off_beats)
        if off <= on:
            off = on + 1
        # Offs sort before ons at the same sample: a repeated key is released, then struck.
        heapq.heappush(
            heap, (on, 1, seq, ScoreEvent(on, EventKind.NOTE_ON, channel, key, velocity))
        )
        heapq.heappush(
            heap, (off, 0, seq + 1, ScoreEvent(off, EventKind.NOTE_OFF, channel, key, 0))
        )
        seq += 2

    bar = 0
    degree = 0
    melody_degree = len(scale)  # the tonic an octave up
    melody_next = 0  # sixteenths since bar 0
    while True:
        bar_beats = bar * cfg.beats_per_bar
        next_bar_beats = bar_beats + cfg.beats_per_bar
        # Chord: root, third, fifth, sometimes the seventh, held through the bar.
        degree = 0 if bar == 0 else rng.choice([d for d in CHORD_DEGREES if d != degree])
        tones = [degree, degree + 2, degree + 4] + ([degree + 6] if rng.random() < 0.4 else [])
        velocity = rng.randint(50, 70)
        for tone in tones:
            note(bar_beats, next_bar_beats, CHORD_CHANNEL, pitch(tone, cfg.tonic - 12), velocity)
        # Bass: the root on each half bar.
        half = cfg.beats_per_bar / 2
        for k in (0, 1):
            length = rng.choice((1.0, 1.5, 2.0))
            on = bar_beats + k * half
            note(on, min(on + length, on + half), BASS_CHANNEL, pitch(degree, cfg.tonic - 24),
                 rng.randint(70, 95))  # fmt: skip
        # Melody: onsets on the sixteenth grid, a random walk on the scale.
        bar_end = next_bar_beats * 4
        while melody_next < bar_end:
            gap = rng.choice(gaps)
            if rng.random() >= REST_PROBABILITY:
                melody_degree = min(2 * len(scale), max(0, melody_degree + rng.randint(-2, 2)))
                fraction = rng.choice((0.5, 0.75, 1.0))
                on = melody_next / 4.0
                note(on, on + gap * fraction / 4.0, MELODY_CHANNEL, pitch(melody_degree,
                     cfg.tonic + 12), rng.randint(75, 115))  # fmt: skip
            melody_next += gap
        # Every note starts at or after this bar's first beat, so what lies before the next
        # bar line is complete: hand it out.
        limit = at(next_bar_beats)
        while heap and heap[0][0] < limit:
            yield heapq.heappop(heap)[3]
        bar += 1


class ScoreActor(Actor):
    """Writes :func:`score_events` ``lead_s`` ahead of the transport (see the module doc)."""

    Config = ScoreConfig

    @classmethod
    def preflight(cls, config: ScoreConfig, rings: dict[str, Any]) -> None:
        spec = rings.get(config.ring)
        if spec is None or tuple(spec.shape) != ne.EVENT_SHAPE or spec.dtype != ne.EVENT_DTYPE:
            raise ConfigError(
                f"ring {config.ring!r} must be {ne.EVENT_DTYPE}{list(ne.EVENT_SHAPE)}, "
                "written by this actor"
            )

    def on_start(self) -> None:
        cfg: ScoreConfig = self.config
        state = self.ctx.transport.read()
        if state is not None and state.sample_rate != cfg.sample_rate:
            raise ValueError(
                f"the score's sample_rate {cfg.sample_rate} Hz is not the transport's "
                f"{state.sample_rate} Hz"
            )
        self.writer = self.ctx.writer(cfg.ring)
        self.events = score_events(cfg)
        # The ring's write index counts every event written since the run began (one writer:
        # this actor); a successor skips what its predecessors wrote.
        self.written = self.writer.index
        for _ in range(self.written):
            next(self.events)
        self.pending = next(self.events)
        self.lead = round(cfg.lead_s * cfg.sample_rate)
        self.frame = np.zeros(ne.EVENT_SHAPE, np.float64)
        self.late_writes = 0
        self.refused_writes = 0

    def next_wakeup(self) -> float:
        return time.monotonic() + self.config.poll_s

    def step(self) -> None:
        state = self.ctx.transport.read()
        if state is None:
            return  # a clock died mid-update; its successor repairs the block
        now = state.sample_counter
        horizon = now + self.lead
        frame = self.frame
        while self.pending.time < horizon:
            ev = self.pending
            if ev.kind == EventKind.NOTE_ON:
                ne.note_on(frame, ev.time, ev.channel, ev.key, ev.velocity)
            else:
                ne.note_off(frame, ev.time, ev.channel, ev.key)
            if not self.writer.write(frame, ev.time):
                self.refused_writes += 1  # a full ``drop`` ring: the same event again next step
                return
            if ev.time < now:
                self.late_writes += 1
            self.written += 1
            self.pending = next(self.events)

    def telemetry(self) -> dict[str, Any]:
        cfg: ScoreConfig = self.config
        return {
            "events_written": self.written,
            "late_writes": self.late_writes,
            "refused_writes": self.refused_writes,
            "next_event_s": round(self.pending.time / cfg.sample_rate, 4),
        }


__all__ = ["ScoreActor", "ScoreConfig", "ScoreEvent", "score_events"]
