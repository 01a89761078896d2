"""``ping``: is the supervisor there? Answers its pid and run tag."""

from __future__ import annotations

import os
from typing import Any

NAME = "ping"
HELP = "check the supervisor answers"


def run(sup: Any, args: dict[str, Any], route: list[bytes], request_id: str) -> dict[str, Any]:
    return {"pong": True, "pid": os.getpid(), "tag": sup.ns.tag if sup.ns else ""}
