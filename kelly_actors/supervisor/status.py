"""The status snapshot the supervisor publishes and answers ``status`` with."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kelly_actors.supervisor.child import Child
    from kelly_actors.supervisor.supervisor import Supervisor


def _actor(child: Child, now: float) -> dict[str, Any]:
    telemetry = child.telemetry
    running = child.alive and child.ready_at >= child.started_at and child.ready_at > 0
    return {
        "name": child.name,
        "pid": child.pid,
        "state": child.state,
        "incarnation": child.incarnation,
        "restarts": child.restarts,
        "last_exit": child.last_exit,
        "uptime_s": round(now - child.started_at, 3) if child.alive else 0.0,
        "cpu_percent": telemetry.get("cpu_percent", 0.0),
        "rss_bytes": telemetry.get("rss_bytes", 0),
        "heartbeat_age_s": round(now - child.last_heartbeat, 3) if running else None,
        "deadline_misses": telemetry.get("deadline_misses", 0),
        "degraded_reason": child.degraded_reason,
        "control_state": child.saved_state or {},
        "telemetry": telemetry,
    }


def build_snapshot(sup: Supervisor, now: float) -> dict[str, Any]:
    """Actors, rings and the transport as one JSON-ready dict."""
    transport = sup.transport.read() if sup.transport is not None else None
    return {
        "run": {
            "tag": sup.ns.tag if sup.ns else "",
            "pid": os.getpid(),
            "config": sup.config_name,
            "strategy": sup.settings.strategy,
            "uptime_s": round(now - sup.started, 3),
            "dropped_messages": sup.dropped_messages,
        },
        "actors": [_actor(sup.children[name], now) for name in sup.order],
        "rings": [ring.stats().as_dict() for ring in sup.rings.values()],
        "transport": None
        if transport is None
        else {
            "sample_counter": transport.sample_counter,
            "sample_rate": transport.sample_rate,
            "block_size": transport.block_size,
            "tempo": transport.tempo,
            "bar": transport.bar,
            "beat_in_bar": round(transport.beat_in_bar, 3),
            "running": transport.running,
        },
    }
