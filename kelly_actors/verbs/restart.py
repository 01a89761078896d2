"""A commanded restart of one actor: not a crash, so no backoff and no restart intensity.
The actor stops (SIGTERM, SIGKILL at its shutdown timeout) and starts again at once,
from the control state it last declared.

Request: `{"cmd": "restart", "args": {"actor": "meter"}}`

Reply: `{"actor": "meter", "restarting": true}`; `not_found` for an actor the performance
does not have.
"""

from __future__ import annotations

import argparse
from typing import Any

from kelly_actors.supervisor.refusal import require_actor
from kelly_actors.verbs.verb import Request, json_line

NAME = "restart"
HELP = "restart one actor"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("actor")


def request(args: argparse.Namespace) -> Request:
    return Request(NAME, {"actor": args.actor})


def execute(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    name = require_actor(args, sup.order)
    sup.restart_actor(name)
    return {"actor": name, "restarting": True}
