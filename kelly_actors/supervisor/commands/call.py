"""``call {actor, method, args}``: forward a command to one actor; its reply comes back."""

from __future__ import annotations

from typing import Any

from kelly_actors.supervisor.child import DEGRADED, READY
from kelly_actors.supervisor.commands.errors import CommandError, require, require_actor

NAME = "call"
HELP = "forward a command to an actor"


def run(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> None:
    name = require_actor(sup, args)
    method = require(args, "method", str)
    call_args = args.get("args", {})
    if not isinstance(call_args, dict):
        raise CommandError("invalid", "argument 'args' must be an object")
    if sup.children[name].state not in (READY, DEGRADED):
        raise CommandError("unavailable", f"{name} is {sup.children[name].state}, try again")
    sup.forward_call(name, method, call_args, route, request_id)
    return None
