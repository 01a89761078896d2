"""``restart {actor}``: a commanded restart (not a crash: no backoff, no intensity)."""

from __future__ import annotations

from typing import Any

from kelly_actors.supervisor.commands.errors import require_actor

NAME = "restart"
HELP = "restart one actor"


def run(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    name = require_actor(sup, args)
    sup.restart_actor(name)
    return {"actor": name, "restarting": True}
