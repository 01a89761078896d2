"""Is the supervisor there? It answers with its pid, the run tag and where its status is
served over TCP (empty when it is not), which a remote console needs.

Request: `{"cmd": "ping"}`

Reply: `{"pong": true, "pid": 4349, "tag": "118e2ef6", "remote_status": ""}`
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from kelly_actors.verbs.verb import Request, json_line

NAME = "ping"
HELP = "check the supervisor answers"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def request(args: argparse.Namespace) -> Request:
    return Request(NAME)


def execute(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    return {
        "pong": True,
        "pid": os.getpid(),
        "tag": sup.tag,
        # A remote console learns here where the status PUB is served over TCP.
        "remote_status": sup.settings.remote_status,
    }
