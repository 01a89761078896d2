"""The transformer inside the live composer: a request and a deadline per bar.

When bar n is composed (as bar n − 1 starts) the rule engines' bar becomes a
:class:`~kelly_actors.transformer.request.VariationRequest` that goes
to the inference actor (``transformer_service``, default ``variations.sock``
in the run directory), which has its workers — other cores, a GPU process,
another host — write the model's version of the configured tracks. With
``transformer_service = ""`` a thread of this process does it instead.
The bar is scheduled as soon as the answer comes or at the deadline
(``transformer_deadline_ms``, and never later than :data:`GUARD` before the
bar line), whichever is first; without an answer by then the rule engines'
bar plays and the status says so. The actor loop never blocks on the model,
so MIDI messages keep going out while the model thinks.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from kelly_actors.bus import messages, sockets
from kelly_actors.composer.transformer_engine import (
    HISTORY_BARS,
    engine_tracks,
    merge,
    variation_request,
)
from kelly_actors.music.notes import Note
from kelly_actors.music.theory import Key
from kelly_actors.transformer import request as variation
from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.local import LocalTransformer
from kelly_actors.transformer.session import ModelError, StepSession, resolve
from kelly_actors.transformer.tokens import Bar, quantize_bar

if TYPE_CHECKING:
    from kelly_actors.composer.config import TransformerOptions

#: The actor loop wakes this often (s) at most while a bar waits for the model.
POLL_S = 0.002
#: A Python thread holds the GIL for up to this long (s) before the loop may run;
#: CPython's default 5 ms would add that much MIDI jitter while the model samples.
SWITCH_INTERVAL_S = 0.0005


class Unanswerable(RuntimeError):
    """Nobody can take the request now: no service listening, or (``late``) the
    model is still busy with an earlier bar."""

    def __init__(self, reason: str, late: bool = False) -> None:
        super().__init__(reason)
        self.late = late


class ThreadModel:
    """The model in this process, on one thread; one bar at a time."""

    where = "composer thread"

    def __init__(self, model: Path) -> None:
        generator = Generator(StepSession(model))
        self.local = LocalTransformer(generator, "transformer", SWITCH_INTERVAL_S)
        self.model = self.local.model
        self.busy: Future | None = None

    def ask(self, request: variation.VariationRequest, deadline_s: float) -> None:
        if self.busy is not None and not self.busy.done():
            raise Unanswerable("still working on an earlier bar", late=True)
        self.busy = self.local.submit(request)

    def answer(self) -> list[Note] | Exception | None:
        """The notes, the error, or None while the model works."""
        if self.busy is None or not self.busy.done():
            return None
        done, self.busy = self.busy, None
        return done.exception() or done.result()

    def close(self) -> None:
        self.local.close()


class ServiceModel:
    """The inference actor's workers, asked over ``endpoint`` (a DEALER socket)."""

    where = "inference actor"

    def __init__(self, endpoint: str) -> None:
        self.model = None  # which model the workers run is the inference actor's setting
        self.socket = sockets.make(zmq.Context.instance(), zmq.DEALER, sockets.VARIATIONS_MAX_BYTES)
        self.socket.sndhwm = 4
        # Refuse to queue while nobody is connected: the bar falls back at once and
        # the status names the missing service instead of a late answer.
        self.socket.immediate = True
        self.socket.connect(endpoint)
        self.endpoint = endpoint
        self.ids = itertools.count(1)
        self.waiting: int | None = None

    def ask(self, request: variation.VariationRequest, deadline_s: float) -> None:
        ident = next(self.ids)
        frames = messages.frames_of(
            "ask", request.to_bytes(), id=ident, deadline_ms=float(deadline_s * 1000.0)
        )
        try:
            self.socket.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            raise Unanswerable(f"no inference actor answers on {self.endpoint}") from None
        self.waiting = ident

    def answer(self) -> list[Note] | Exception | None:
        while True:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return None
            try:
                answer = messages.decode(frames)
                if answer.get("id") != self.waiting:
                    continue  # the answer to a bar that already went without it
                self.waiting = None
                if answer.type == "varied":
                    return variation.notes_from_bytes(answer.body)
                if answer.type == "failed":
                    return RuntimeError(answer["error"])
                return RuntimeError(f"unexpected answer {answer.type}")
            except (messages.ProtocolError, variation.RequestError) as exc:
                self.waiting = None
                return RuntimeError(f"bad answer: {exc}")

    def close(self) -> None:
        self.socket.close(0)


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


class LiveTransformer:
    """Counts ``bars`` (the model's answer played), ``late`` (deadline passed),
    ``fallbacks`` (bars the rules played instead: late, failed or no model)."""

    def __init__(
        self,
        engine: str,
        tracks: tuple[str, ...],
        deadline_s: float,
        seed: int,
        model: ThreadModel | ServiceModel | None,
        problems: dict[str, str],
    ) -> None:
        self.engine, self.tracks, self.deadline_s, self.seed = engine, tracks, deadline_s, seed
        self.model = model
        self.problems = problems
        self.history: deque[Bar] = deque(maxlen=HISTORY_BARS)
        self.waiting: Waiting | None = None
        self.counts = {"bars": 0, "late": 0, "fallbacks": 0, "errors": 0}
        self.last_ms: float | None = None
        self.reported = problems.get("transformer")

    @classmethod
    def start(
        cls, options: TransformerOptions, seed: int, run_dir: Path, problems: dict[str, str]
    ) -> LiveTransformer:
        """From ``[actors.options.transformer]``; a missing or broken model degrades (the
        reason goes into ``problems``), never raises."""
        tracks = engine_tracks(options.engine, options.tracks)
        model: ThreadModel | ServiceModel | None = None
        if options.engine != "rules" and options.service:
            model = ServiceModel(f"ipc://{run_dir / options.service}")
        elif options.engine != "rules":
            try:
                model = ThreadModel(resolve(options.model))
            except ModelError as exc:
                problems["transformer"] = f"transformer off ({exc}): the rule engines play"
        deadline_s = options.deadline_ms / 1000.0
        return cls(options.engine, tracks, deadline_s, seed, model, problems)

    def ask(
        self,
        bar: int,
        params: Any,
        notes: list[Note],
        emotion: Any,
        start: int,
        bar_due: float,
        now: float,
        key: Key | None = None,
    ) -> bool:
        """Hand a composed bar to the model; False = schedule the rules' bar now."""
        if self.engine == "rules":
            return False
        if self.model is None:
            self.counts["fallbacks"] += 1
            return False
        due = min(now + self.deadline_s, bar_due)
        request = variation_request(
            bar, self.seed, self.tracks, notes, params, tuple(self.history), key
        )
        try:
            self.model.ask(request, max(0.0, due - now))
        except Unanswerable as exc:
            self._fallback(bar, late=exc.late, error=str(exc))
            return False
        self.waiting = Waiting(bar, start, params, notes, emotion, due, now)
        return True

    def collect(self, now: float) -> tuple[int, int, Any, list[Note], Any] | None:
        """The waiting bar, ready to schedule, once answered or due; else None."""
        w = self.waiting
        if w is None:
            return None
        answer = self.model.answer()
        if answer is None and now < w.due:
            return None
        self.waiting = None
        notes = w.notes
        if isinstance(answer, list):
            notes = merge(self.tracks, w.notes, answer)
            self.counts["bars"] += 1
            self.last_ms = round((time.monotonic() - w.asked) * 1000.0, 2)
            self.problems.pop("transformer", None)
        elif isinstance(answer, Exception):
            self.counts["errors"] += 1
            self._fallback(w.bar, late=False, error=str(answer) or repr(answer))
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
        """Remember a bar as it was played (whichever engine wrote it)."""
        if self.model is not None:
            self.history.append(quantize_bar(Bar(tempo, tuple(notes))))

    def problem_changed(self) -> bool:
        now = self.problems.get("transformer")
        changed, self.reported = now != self.reported, now
        return changed

    def telemetry(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "model": self.model.model if self.model is not None else None,
            "served_by": self.model.where if self.model is not None else None,
            "engines": list(self.tracks),
            **self.counts,
            "last_ms": self.last_ms,
        }

    def close(self) -> None:
        if self.model is not None:
            self.model.close()
