"""``kelly top``'s lines for the inference backend: on ``backend = "ray"`` the cluster's
address, whether the bridge is on it, and each replica's batch size and model-call latency
(the inference actor's ``cluster`` telemetry, written by its bridge each second)."""

from __future__ import annotations

from typing import Any


def backend_summary(snapshot: dict[str, Any]) -> list[str]:
    """``kelly status``'s inference lines: the Ray lines of :func:`backend_lines`, or one
    line for the local backend (the model in the actor, or how many of the worker pool's
    workers are ready). Nothing when the performance has no inference actor."""
    ray = backend_lines(snapshot)
    if ray:
        return ray
    for actor in snapshot.get("actors", []):
        t = actor.get("telemetry") or {}
        if "backend" not in t:
            continue
        pool = t.get("pool")
        where = (
            f"worker pool, {pool.get('ready', 0)}/{pool.get('workers', 0)} workers ready"
            if pool
            else "in the inference actor"
        )
        model = "the heuristic (no model)" if t.get("degraded") else f"model {t.get('model')}"
        return ["INFERENCE", f"local {where}, {model}"]
    return []


def backend_lines(snapshot: dict[str, Any]) -> list[str]:
    """Nothing for the local pool (the default); for Ray one line for the cluster and one
    per replica: ``name host  batch mean/max  call p50/p99 ms``."""
    for actor in snapshot.get("actors", []):
        t = actor.get("telemetry") or {}
        if t.get("backend") != "ray":
            continue
        c = t.get("cluster") or {}
        state = "on" if c.get("connected") else f"away, local pool ({c.get('last_problem') or '…'})"
        lines = [
            "INFERENCE",
            f"ray {c.get('address', '?')} {state}  rtt {c.get('rtt_ms_p50', 0):.1f}/"
            f"{c.get('rtt_ms_p99', 0):.1f} ms",
        ]
        for r in c.get("replicas", []) if c.get("connected") else []:
            lines.append(
                f"  {r['name']} {r['host']}  batch {r['batch_mean']:.1f}/{r['batch_max']}  "
                f"call {r['call_ms_p50']:.2f}/{r['call_ms_p99']:.2f} ms"
            )
        return lines
    return []
