"""Forward a method to one actor; the actor's answer is the reply. The actor validates
its arguments and refuses bad ones (`refused`, with the reason). The same call then goes
to the actor's standbys (`twin_of`) with the actor's result as `primary_result`, so they
act on the same sample.

Request: `{"cmd": "call", "args": {"actor": "tone", "method": "set_frequency",
"args": {"frequency": 330}}}`

Reply: whatever the actor's `on_call` returns, e.g. `{"frequency": 330.0}`;
`unavailable` when the actor is not ready, `timeout` when it does not answer within 5 s,
`unknown_command` when it has no such method.

On the command line: `kelly ctl call ACTOR METHOD [ARGS]`, `ARGS` a JSON object.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kelly_actors.supervisor.child import DEGRADED, READY
from kelly_actors.supervisor.refusal import CommandError, require, require_actor
from kelly_actors.verbs.verb import Request, UsageError, actor_call, json_line

NAME = "call"
HELP = "send a command to one actor"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("actor")
    parser.add_argument("method")
    parser.add_argument("json_args", nargs="?", default="{}", metavar="ARGS", help="JSON object")


def request(args: argparse.Namespace) -> Request:
    try:
        call_args = json.loads(args.json_args)
    except json.JSONDecodeError as exc:
        raise UsageError(f"ARGS is not JSON: {exc}") from None
    if not isinstance(call_args, dict):
        raise UsageError("ARGS must be a JSON object")
    return actor_call(args.actor, args.method, call_args)


def execute(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> None:
    name = require_actor(args, sup.order)
    method = require(args, "method", str)
    call_args = args.get("args", {})
    if not isinstance(call_args, dict):
        raise CommandError("invalid", "argument 'args' must be an object")
    state = sup.children[name].state
    if state not in (READY, DEGRADED):
        raise CommandError("unavailable", f"{name} is {state}, try again")
    sup.forward_call(name, method, call_args, route, request_id)
    return None
