"""The transformer inside the live composer: a worker thread and a deadline per bar.

When bar n is composed (as bar n − 1 starts) the rule engines' bar goes to a
worker thread, which asks the model for its version of the configured tracks.
The bar is scheduled as soon as the answer comes or at the deadline
(``transformer_deadline_ms``, and never later than :data:`GUARD` before the
bar line), whichever is first; without an answer by then the rule engines'
bar plays and the status says so. The actor loop never blocks on the model,
so MIDI messages keep going out while the model thinks.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kelly_actors.composer.notes import Note
from kelly_actors.composer.transformer import vocab as V
from kelly_actors.composer.transformer.engine import ENGINES, Variation, engine_tracks
from kelly_actors.composer.transformer.session import ModelError, resolve

#: The actor loop wakes this often (s) at most while a bar waits for the model.
POLL_S = 0.002
#: A Python thread holds the GIL for up to this long (s) before the loop may run;
#: CPython's default 5 ms would add that much MIDI jitter while the model samples.
SWITCH_INTERVAL_S = 0.0005


def check(engine: str, tracks: Sequence[str], deadline_ms: float) -> None:
    """Validate the composer's transformer options (ValueError names the bad one)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    unknown = [t for t in tracks if t not in V.TRACK_INDEX]
    if unknown or not tracks:
        raise ValueError(
            f"transformer_tracks must be a non-empty list of {', '.join(V.TRACK_ORDER)}"
        )
    if not 0 < deadline_ms <= 10_000:
        raise ValueError("transformer_deadline_ms must be within 0…10000")


@dataclass
class Waiting:
    """A composed bar waiting for the model: due (monotonic s) and what to schedule."""

    bar: int
    start: int
    params: Any
    notes: list[Note]
    emotion: Any
    due: float
    asked: float
    future: Future


class LiveTransformer:
    """Counts ``bars`` (the model's answer played), ``late`` (deadline passed),
    ``fallbacks`` (bars the rules played instead: late, failed or no model)."""

    def __init__(
        self,
        engine: str,
        tracks: tuple[str, ...],
        deadline_s: float,
        variation: Variation | None,
        model: str,
        problems: dict[str, str],
    ) -> None:
        self.engine, self.tracks, self.deadline_s = engine, tracks, deadline_s
        self.variation = variation
        self.model = model
        self.problems = problems
        self.pool = ThreadPoolExecutor(1, "transformer") if variation is not None else None
        self.waiting: Waiting | None = None
        self.busy: Future | None = None
        self.counts = {"bars": 0, "late": 0, "fallbacks": 0, "errors": 0}
        self.last_ms: float | None = None
        self.reported = problems.get("transformer")

    @classmethod
    def start(cls, cfg: Any, problems: dict[str, str]) -> LiveTransformer:
        """From a ComposerConfig; a missing or broken model degrades, never raises."""
        tracks = engine_tracks(cfg.engine, cfg.transformer_tracks)
        path = resolve(cfg.transformer_model)
        variation = None
        if cfg.engine != "rules":
            try:
                variation = Variation(path, tracks, cfg.seed)
                sys.setswitchinterval(SWITCH_INTERVAL_S)
            except ModelError as exc:
                problems["transformer"] = f"transformer off ({exc}): the rule engines play"
        return cls(
            cfg.engine, tracks, cfg.transformer_deadline_ms / 1000.0, variation, path.name, problems
        )

    def ask(
        self,
        bar: int,
        params: Any,
        notes: list[Note],
        emotion: Any,
        start: int,
        bar_due: float,
        now: float,
    ) -> bool:
        """Hand a composed bar to the model; False = schedule the rules' bar now."""
        if self.engine == "rules":
            return False
        if self.variation is None or self.pool is None:
            self.counts["fallbacks"] += 1
            return False
        if self.busy is not None and not self.busy.done():
            # Still working on a bar that went without it: this one goes without too.
            self._fallback(bar, late=True)
            return False
        history = tuple(self.variation.history)
        self.busy = self.pool.submit(self.variation.new_notes, bar, list(notes), params, history)
        due = min(now + self.deadline_s, bar_due)
        self.waiting = Waiting(bar, start, params, notes, emotion, due, now, self.busy)
        return True

    def collect(self, now: float) -> tuple[int, int, Any, list[Note], Any] | None:
        """The waiting bar, ready to schedule, once answered or due; else None."""
        w = self.waiting
        if w is None or (not w.future.done() and now < w.due):
            return None
        self.waiting = None
        notes = w.notes
        if w.future.done() and w.future.exception() is None:
            assert self.variation is not None
            notes = self.variation.merge(w.notes, w.future.result())
            self.counts["bars"] += 1
            self.last_ms = round((time.monotonic() - w.asked) * 1000.0, 2)
            self.problems.pop("transformer", None)
        elif w.future.done():
            self.counts["errors"] += 1
            self._fallback(w.bar, late=False, error=repr(w.future.exception()))
        else:
            self._fallback(w.bar, late=True)
        return w.bar, w.start, w.params, notes, w.emotion

    def _fallback(self, bar: int, late: bool, error: str = "") -> None:
        self.counts["fallbacks"] += 1
        if late:
            self.counts["late"] += 1
            self.problems["transformer"] = (
                f"transformer late for bar {bar}: the rule engines played it"
            )
        else:
            self.problems["transformer"] = (
                f"transformer failed on bar {bar} ({error}): rules played"
            )

    def wake_at(self, now: float, due: float) -> float:
        """The loop's next wake-up: soon and often while a bar waits for the model."""
        if self.waiting is None:
            return due
        return min(due, self.waiting.due, now + POLL_S)

    def played(self, tempo: float, notes: Sequence[Note]) -> None:
        if self.variation is not None:
            self.variation.played(tempo, notes)

    def problem_changed(self) -> bool:
        now = self.problems.get("transformer")
        changed, self.reported = now != self.reported, now
        return changed

    def telemetry(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "model": self.model if self.variation is not None else None,
            "engines": list(self.tracks),
            **self.counts,
            "last_ms": self.last_ms,
        }

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
