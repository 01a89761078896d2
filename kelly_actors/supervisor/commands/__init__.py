"""Commands the supervisor serves on its control ROUTER, one module each.

A command module has ``NAME``, a one-line ``HELP`` and
``run(supervisor, args, route, request_id)`` returning the result dict, or
None when the answer comes later (a call forwarded to an actor).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from kelly_actors.supervisor.commands import call, ping, restart, status, stop
from kelly_actors.supervisor.commands.errors import CommandError

if TYPE_CHECKING:
    from kelly_actors.supervisor.supervisor import Supervisor

COMMANDS: dict[str, ModuleType] = {m.NAME: m for m in (call, ping, restart, status, stop)}


def dispatch(
    sup: Supervisor, cmd: str, args: dict[str, Any], route: Any, request_id: str
) -> dict[str, Any] | None:
    """Run command ``cmd``; raise :class:`CommandError` when it is refused."""
    module = COMMANDS.get(cmd)
    if module is None:
        raise CommandError("unknown_command", f"unknown command {cmd!r}; known: {sorted(COMMANDS)}")
    return module.run(sup, args, route, request_id)


__all__ = ["COMMANDS", "CommandError", "dispatch"]
