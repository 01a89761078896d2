"""The actor base class: small lifecycle hooks, the runtime does the rest.

An actor subclass declares a frozen ``Config`` dataclass (its
``[actors.options]``) and overrides what it needs:

- :meth:`on_start` — attach rings, restore state; the actor is *ready* after it.
- :meth:`step` — one loop step; called whenever an input ring's doorbell
  rang, a command arrived or :meth:`next_wakeup` came due. Must return
  quickly (it shares the loop with heartbeats and commands).
- :meth:`on_call` — a command forwarded by the supervisor.
- :meth:`on_stop` — release what ``on_start`` took.
- :meth:`on_failure` — last words of an actor that raised (a synth or MIDI port
  is told to let go of its notes); the process exits after it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from kelly_actors.actor.context import ActorContext


class Waitable(Protocol):
    """Something with a doorbell: a ring reader, or a writer waiting for space."""

    def arm(self) -> bool:
        """Raise the waiting flag; True if there is already something to do."""

    def disarm(self) -> None: ...

    def fileno(self) -> int: ...


@dataclass(frozen=True)
class NoOptions:
    """For actors without settings."""


class CallError(Exception):
    """A command an actor refuses; the message goes back to the client."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


class Actor:
    """Base of every actor.

    Attributes:
        ctx: the runtime services (rings, transport, state, events).
        config: an instance of ``Config``.
        deadline: seconds a step may take before it counts as a deadline miss.
    """

    Config: ClassVar[type] = NoOptions
    deadline: ClassVar[float] = 0.05

    def __init__(self, ctx: ActorContext, config: Any) -> None:
        self.ctx = ctx
        self.config = config

    @classmethod
    def preflight(cls, config: Any, rings: dict[str, Any]) -> None:
        """Check before anything starts what can be checked (devices, files, ring
        shapes) and raise ``ConfigError`` with the reason. ``rings`` maps the
        names of the rings this actor uses to their :class:`RingSpec`."""

    def on_start(self) -> None:
        """Acquire resources; raising here fails the start."""

    def step(self) -> None:
        """Do one bounded unit of work."""

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Handle a forwarded command; raise :class:`CallError` to refuse."""
        raise CallError(f"{self.ctx.name} has no command {method!r}", code="unknown_command")

    def on_stop(self) -> None:
        """Release resources; called on a clean stop."""

    def on_failure(self, exc: BaseException) -> None:
        """Called once when ``on_start``, ``step`` or ``on_stop`` raised ``exc``, before the
        process exits; ``on_stop`` is not called after it. Keep it short and let it not
        depend on the state that failed: an exception it raises is reported and ignored."""

    def wait_on(self) -> list[Waitable]:
        """Ring ends whose doorbells should wake this actor."""
        return []

    def next_wakeup(self) -> float | None:
        """``time.monotonic()`` at which :meth:`step` must run, or None."""
        return None

    def telemetry(self) -> dict[str, Any]:
        """Actor-specific figures added to every heartbeat."""
        return {}

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls.Config)]
