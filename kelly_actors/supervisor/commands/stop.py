"""``stop``: end the performance cleanly (actors stop in reverse start order)."""

from __future__ import annotations

from typing import Any

NAME = "stop"
HELP = "stop the performance"


def run(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    sup.request_stop("stop command")
    return {"stopping": True}
