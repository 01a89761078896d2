"""The interface every audio backend offers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Process = Callable[[np.ndarray | None, np.ndarray, bool], None]


class BackendError(RuntimeError):
    """The device or file cannot be used; the message says why."""


class Backend:
    """Delivers blocks to ``process``.

    Attributes:
        name: what it is, for status (e.g. ``"sounddevice: system (JACK Audio…)"``).
        input_latency / output_latency: the device's latency in frames.
    """

    name = "backend"
    priority = "unchanged"  # scheduling of the thread that runs the callback
    input_latency = 0
    output_latency = 0

    def start(self, process: Process) -> None:
        raise BackendError(f"{type(self).__name__} cannot start")

    def start_engine(self, engine: Any) -> None:
        """Start delivering blocks to ``engine`` (its ``process``, unless the
        backend runs the engine's compiled block itself)."""
        self.start(engine.process)

    def pump(self, now: float) -> None:
        """Run the blocks due by ``now`` (``time.monotonic()``); paced backends only."""

    def next_due(self) -> float | None:
        """When ``pump`` must run next, or None for device-driven backends."""
        return None

    def stop(self) -> None:
        """Stop calling ``process`` and release the device."""
