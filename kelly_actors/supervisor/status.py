"""The status snapshot the supervisor publishes and answers ``status`` with."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kelly_actors.files import atomic_write, private_dir
from kelly_actors.supervisor.training_runs import training_runs

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
            "supervisor_restarts": sup.successions,
        },
        "actors": [_actor(sup.children[name], now) for name in sup.order],
        "rings": [ring.stats().as_dict() for ring in sup.rings.values()],
        "training": training_runs(sup.run_dir.path, time.time()),
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


AUDIO_FIGURES = (
    "callback_p50_ms",
    "callback_p99_ms",
    "callback_max_ms",
    "period_ms",
    "underruns",
    "late_blocks",
    "callbacks",
    "latency_frames",
    "callback",
    "missed_cycles",
    "missed_late",
    "missed_preempted",
    "own_overruns",
    "skipped_cycles",
    "start_late_p99_ms",
)


def write_run_summary(record_dir: Path, snap: dict[str, Any], sup: Supervisor) -> None:
    """``run.json``: the figures of a finished run, from its last snapshot."""
    telemetry = {a["name"]: a["telemetry"] for a in snap["actors"]}
    audio = next((t for t in telemetry.values() if "period_ms" in t), {})
    summary = {
        "duration_s": snap["run"]["uptime_s"],
        "exit_code": sup.exit_code,
        "reason": sup.exit_reason,
        "xruns": sum(int(t.get("xruns", 0)) for t in telemetry.values()),
        "underruns": {r["name"]: r["underruns"] for r in snap["rings"]},
        "overruns": {r["name"]: r["overruns"] for r in snap["rings"]},
        "restarts": {name: sup.children[name].restarts for name in sup.order},
        "supervisor_restarts": sup.successions,
        "audio": {k: audio[k] for k in AUDIO_FIGURES if k in audio},
        "actors": telemetry,
    }
    private_dir(record_dir)
    atomic_write(record_dir / "run.json", json.dumps(summary, indent=2, default=str), mode=0o600)


def write_abandoned_summary(
    record_dir: Path,
    record_path: Path,
    *,
    duration_s: float,
    exit_code: int,
    reason: str,
    successors: int,
) -> None:
    """``run.json`` of a run no supervisor finished, written by the watchdog.

    What it knows comes from the last supervisor's ``supervision.json`` (``record_path``):
    each actor's restarts and last state; the actors' own figures (xruns, under-runs,
    telemetry) died with the supervisor that held them, and ``complete: false`` says so.
    An unreadable record leaves those fields out.
    """
    summary: dict[str, Any] = {
        "duration_s": round(duration_s, 3),
        "exit_code": exit_code,
        "reason": reason,
        "complete": False,
        "written_by": "watchdog",
        "supervisor_restarts": successors,
    }
    try:
        record = json.loads(record_path.read_text())
        children = record["children"]
        summary["restarts"] = {name: int(c["restarts"]) for name, c in children.items()}
        summary["last_states"] = {name: str(c["state"]) for name, c in children.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        summary["record_unreadable"] = f"{record_path}: {exc}"
    private_dir(record_dir)
    atomic_write(record_dir / "run.json", json.dumps(summary, indent=2), mode=0o600)
