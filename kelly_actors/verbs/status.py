"""One snapshot of the performance: the run, every actor (state, pid, restarts, CPU,
memory, heartbeat age, telemetry), every ring's fill and losses, training runs and the
transport — the same snapshot the status PUB publishes (see "Supervisor PUB" below).

Request: `{"cmd": "status"}`

Reply: the status snapshot, `{"run": {…}, "actors": [{…}], "rings": [{…}],
"training": [{…}], "transport": {…}}`.

Printed as a table, or with `--json` as one indented JSON object (`kelly status` is the
same verb).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kelly_actors.console.inference_backend import backend_summary
from kelly_actors.verbs.verb import Request

NAME = "status"
HELP = "one status snapshot (as kelly status)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object")


def request(args: argparse.Namespace) -> Request:
    return Request(NAME)


def execute(sup: Any, args: dict[str, Any], route: Any, request_id: str) -> dict[str, Any]:
    return sup.snapshot()


def render(snap: dict[str, Any], args: argparse.Namespace) -> str:
    return json.dumps(snap, indent=2) if args.json else table(snap)


def _successions(run: dict[str, Any]) -> str:
    n = run.get("supervisor_restarts", 0)
    return f", supervisor restarted {n}× (the run was adopted)" if n else ""


def table(snap: dict[str, Any]) -> str:
    """The snapshot as text: a line for the run, a table of actors and one of rings, and
    the inference backend (on Ray: the cluster and each replica's batch size and latency)."""
    run = snap["run"]
    lines = [
        f"performance {run['tag']} (pid {run['pid']}), up {run['uptime_s']:.1f} s, {run['config']}"
        + _successions(run)
    ]
    lines.append(
        f"{'ACTOR':<12}{'STATE':<11}{'PID':>8}{'RESTARTS':>10}{'CPU%':>7}{'RSS MB':>8}  LAST EXIT"
    )
    for a in snap["actors"]:
        rss = a["rss_bytes"] / 2**20
        lines.append(
            f"{a['name']:<12}{a['state']:<11}{a['pid'] or '-':>8}{a['restarts']:>10}"
            f"{a['cpu_percent']:>7.1f}{rss:>8.1f}  {a['last_exit'] or '-'}"
        )
    lines.append(f"{'RING':<12}{'CAP':>6}{'USED':>6}{'PEAK':>6}{'OVERRUNS':>10}{'UNDERRUNS':>11}")
    for r in snap["rings"]:
        lines.append(
            f"{r['name']:<12}{r['capacity']:>6}{r['used']:>6}{r['peak_used']:>6}"
            f"{r['overruns']:>10}{r['underruns']:>11}"
        )
    lines += backend_summary(snap)
    return "\n".join(lines)
