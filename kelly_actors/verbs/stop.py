"""End the performance cleanly: the actors stop in reverse start order and `kelly run`
exits 0.

Request: `{"cmd": "stop"}`

Reply: `{"stopping": true}`
"""

from __future__ import annotations

import argparse
from typing import Any

from kelly_actors.verbs.verb import Request, json_line

NAME = "stop"
HELP = "stop the performance"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def request(args: argparse.Namespace) -> Request:
    return Request(NAME)


def execute(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    sup.request_stop("stop command")
    return {"stopping": True}
