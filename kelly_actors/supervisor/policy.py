"""What the supervisor does when an actor exits on its own: the restart policy.

Three settings decide it, Erlang/OTP style:

* the child's ``restart`` kind: ``permanent`` always restarts, ``transient`` only after a
  crash, ``temporary`` never;
* the intensity (:mod:`.intensity`): more than ``max_restarts`` within ``max_seconds``
  escalates, and the whole performance stops with exit code 3;
* the strategy (:mod:`.strategy`): which siblings restart with it; each child's backoff
  (:mod:`.backoff`) says how long its restart waits.

A commanded stop (``kelly ctl restart``, a sibling's restart, shutdown) is not an exit the
policy sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from kelly_actors.config.performance import SupervisorSettings
from kelly_actors.supervisor import child as cs
from kelly_actors.supervisor.child import Child
from kelly_actors.supervisor.intensity import RestartIntensity
from kelly_actors.supervisor.strategy import restart_set


@dataclass(frozen=True)
class Verdict:
    """The policy's answer to one exit.

    Attributes:
        state: the child's state when it is not restarted (``stopped`` or ``failed``).
        delay: seconds before the child starts again (its backoff), when it is.
        together: the actors restarted with it, the child itself included, in start order.
        escalate: why the whole performance must stop; empty when it need not.
    """

    state: str = ""
    delay: float = 0.0
    together: tuple[str, ...] = ()
    escalate: str = ""


class RestartPolicy:
    """Restart kind, intensity, strategy and backoff, applied to one exit at a time."""

    def __init__(self, settings: SupervisorSettings, order: list[str]) -> None:
        self.settings = settings
        self.order = order
        self.intensity = RestartIntensity(settings.max_restarts, settings.max_seconds)

    def on_exit(self, child: Child, crashed: bool, reason: str, now: float) -> Verdict:
        """Decide about ``child``, which exited (``crashed``: non-zero or killed)."""
        restart = child.spec.restart
        if restart == "temporary" or (restart == "transient" and not crashed):
            return Verdict(state=cs.FAILED if crashed else cs.STOPPED)
        if not self.intensity.allow(now):
            return Verdict(
                state=cs.FAILED,
                escalate=f"{child.name}: {self.intensity.recent} restarts within "
                f"{self.settings.max_seconds:g} s (max {self.settings.max_restarts}); "
                f"last: {reason}",
            )
        delay = child.backoff.next_delay()
        together = restart_set(self.settings.strategy, child.name, self.order)
        return Verdict(delay=delay, together=tuple(together))

    def settle(self, child: Child, now: float) -> None:
        """An actor ready for ``stable_after`` seconds earns an immediate next restart."""
        if child.backoff.failures and now - child.ready_at > self.settings.stable_after:
            child.backoff.reset()
