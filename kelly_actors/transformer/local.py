"""The transformer on a thread of this process: the fallback when no worker serves it.

The composer (``transformer_service = ""``) and the inference actor (``workers = 0``) both
serve bar variations this way. The actor loop submits a request and looks at the returned
future on later steps; it never waits on the model, so its own work (MIDI out, estimates)
goes on while the model samples.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor

from kelly_actors.music.notes import Note
from kelly_actors.transformer import request as variation
from kelly_actors.transformer.generate import Generator


class LocalTransformer:
    """One :class:`~kelly_actors.transformer.generate.Generator` on one thread.

    Requests run one after another, first come first served.

    Args:
        generator: the loaded step model (its session is used by the thread only).
        thread_name: the thread's name (shows in ``py-spy`` and tracebacks).
        switch_interval_s: if given, how long (s) a Python thread may hold the GIL before
            another may run (``sys.setswitchinterval``, process-wide). CPython's default
            5 ms would let the model's thread delay the actor loop by that much.
    """

    def __init__(
        self, generator: Generator, thread_name: str, switch_interval_s: float | None = None
    ) -> None:
        self.generator = generator
        self.model = generator.session.path.name
        self._thread = ThreadPoolExecutor(1, thread_name)
        if switch_interval_s is not None:
            sys.setswitchinterval(switch_interval_s)

    def submit(self, request: variation.VariationRequest) -> Future[list[Note]]:
        """Queue ``request``; the future holds its notes (beats from the bar line) or the
        error it raised."""
        return self._thread.submit(variation.serve, self.generator, request)

    def close(self) -> None:
        """Cancel what has not started, and wait for the request being served."""
        self._thread.shutdown(wait=True, cancel_futures=True)
