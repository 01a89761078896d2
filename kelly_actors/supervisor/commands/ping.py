"""``ping``: is the supervisor there? Answers its pid, run tag and remote status endpoint."""

from __future__ import annotations

import os
from typing import Any

NAME = "ping"
HELP = "check the supervisor answers"


def run(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    return {
        "pong": True,
        "pid": os.getpid(),
        "tag": sup.ns.tag if sup.ns else "",
        # A remote console learns here where the status PUB is served over TCP.
        "remote_status": sup.settings.remote_status,
    }
