"""``status``: one snapshot of actors, rings and transport."""

from __future__ import annotations

from typing import Any

NAME = "status"
HELP = "one status snapshot"


def run(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    return sup.snapshot()
