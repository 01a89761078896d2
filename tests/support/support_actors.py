"""Actors with misbehaviours the supervisor tests need (importable via PYTHONPATH)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

from kelly_actors.actor.base import Actor, CallError


class StubbornActor(Actor):
    """Ignores SIGTERM, so only SIGKILL at the shutdown timeout ends it."""

    def on_start(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


@dataclass(frozen=True)
class CrashConfig:
    crash_on_start: bool = False


class CrashableActor(Actor):
    """Crashes on command (``crash`` exits at once, ``raise`` fails the next step) or at
    start; keeps a counter as its state; its last words are an ``on_failure`` event."""

    Config = CrashConfig
    raise_next_step = False

    def step(self) -> None:
        if self.raise_next_step:
            raise RuntimeError("asked to raise")

    def next_wakeup(self) -> float | None:
        return 0.0 if self.raise_next_step else None

    def on_failure(self, exc: BaseException) -> None:
        self.ctx.emit("on_failure", error=str(exc))

    def on_start(self) -> None:
        if self.config.crash_on_start:
            raise RuntimeError("crash_on_start is set")
        self.counter = int(self.ctx.restored_state.get("counter", 0))

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "crash":
            os._exit(13)
        if method == "raise":
            self.raise_next_step = True
            return {}
        if method == "bump":
            self.counter += 1
            self.ctx.publish_state({"counter": self.counter})
            return {"counter": self.counter}
        if method == "get":
            return {"counter": self.counter, "pid": os.getpid()}
        raise CallError(f"no method {method!r}")
