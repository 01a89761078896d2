"""The inference actor's input streams: one per row of the ``frames`` ring.

A solo performance has one stream; an ensemble has one per performer (``audio_in``'s
column k is stream k, :func:`~kelly_actors.bus.frames.streams_of`). Each stream keeps
what the emotion model needs to go on from frame to frame — its LSTM state ``h``, ``c``
(float32 (1, 1, STATE_SIZE)), its frames waiting for the model, its heuristic estimator
for the degrade ladder — and its own counts. Streams never share state: stream k's
request carries stream k's state and goes to the pool as stream id k, so the pool (and
the Ray replicas behind it) can batch streams together and any worker serves any stream.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kelly_actors.bus.frames import STATE_SIZE
from kelly_actors.inference.heuristic import HeuristicEstimator
from kelly_actors.inference.signal_check import SignalCheck

#: One stream's counters: frames read, lost (no answer in time), late (answered past
#: the deadline), nonfinite (a NaN or inf in the frame: dropped before the model).
COUNTS = ("frames", "lost", "late", "nonfinite")


def _state() -> np.ndarray:
    return np.zeros((1, 1, STATE_SIZE), np.float32)


@dataclass
class Stream:
    """One input stream's state.

    Attributes:
        index: the stream's number (0…N−1), its id in the worker pool.
        pending: frames waiting for the model: (sample time, float32 (128,), monotonic s
            when read, evidence of music 0…1 that scales the estimate's confidence).
        h, c: the LSTM state after the last frame the model ran, float32 (1, 1, STATE_SIZE).
        heuristic: the degraded path's estimator (energy, tempo, mode) of this stream.
        check: whether there is music in this stream (:mod:`.signal_check`).
        counts: :data:`COUNTS`.
    """

    index: int
    pending: deque[tuple[int, np.ndarray, float, float]] = field(default_factory=deque)
    h: np.ndarray = field(default_factory=_state)
    c: np.ndarray = field(default_factory=_state)
    heuristic: HeuristicEstimator = field(default_factory=HeuristicEstimator)
    check: SignalCheck = field(default_factory=SignalCheck)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    def offer(self, sample: int, row: np.ndarray, now: float) -> None:
        """Queue a copy of ``row`` (float32 (128,)) unless it holds a NaN or inf: such a
        frame would poison the stream's LSTM state, so it is dropped and counted."""
        self.counts["frames"] += 1
        if not np.isfinite(row).all():
            self.counts["nonfinite"] += 1
            return
        self.pending.append((sample, row.copy(), now, self.check.update(row)))

    def take(self, most: int) -> tuple[list[int], np.ndarray, float, np.ndarray]:
        """Up to ``most`` pending frames: sample times, float32 (n, 128), first arrival,
        their evidence of music float32 (n,)."""
        n = min(len(self.pending), most)
        items = [self.pending.popleft() for _ in range(n)]
        samples = [item[0] for item in items]
        evidence = np.asarray([item[3] for item in items], np.float32)
        return samples, np.stack([item[1] for item in items]), items[0][2], evidence

    def reset_state(self) -> None:
        """A new model starts the stream afresh."""
        self.h[:] = 0
        self.c[:] = 0


def batch_groups(streams: list[Stream]) -> list[list[Stream]]:
    """The streams with frames waiting, grouped by how many wait: a group runs in one
    model call, streams as the batch axis (frames of one hop arrive for every stream
    together, so one group is the usual case)."""
    groups: dict[int, list[Stream]] = {}
    for stream in streams:
        if stream.pending:
            groups.setdefault(len(stream.pending), []).append(stream)
    return list(groups.values())


def totals(streams: list[Stream]) -> dict[str, int]:
    """Every counter summed over the streams."""
    return {name: sum(s.counts[name] for s in streams) for name in COUNTS}


def per_stream(streams: list[Stream], published: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each stream's counters, pending frames and published figures, for status."""
    return [
        {"stream": s.index, **s.counts, "pending": len(s.pending), **figures}
        for s, figures in zip(streams, published, strict=True)
    ]
