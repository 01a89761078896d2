"""``kelly top``'s ensemble lines: one per performer's stream, from the composer's status.

A pure function of the composer's ``ensemble`` telemetry
(:func:`kelly_actors.composer.live.ensemble.status`); nothing for a solo performance.
"""

from __future__ import annotations

from typing import Any

from kelly_actors.console.view import composer_telemetry

#: Marks the leader (rule ``leader``).
LEADER = "★"


def ensemble_lines(snapshot: dict[str, Any]) -> list[str]:
    """A heading with the rule (the leader, and the fallback when it applies), then per
    stream: name, V/A/D, confidence, its share of the listener emotion, the age of its
    last accepted estimate — or why it is out. [] without an ensemble."""
    e = composer_telemetry(snapshot).get("ensemble")
    if not e:
        return []
    rule = e["rule"] + (f" ({e['leader']})" if e.get("leader") else "")
    head = f"ENSEMBLE  rule {rule}, {e['live']}/{len(e['streams'])} live"
    lines = [head + (f" — {e['note']}" if e.get("note") else "")]
    width = max(len(s["name"]) for s in e["streams"])
    lines += [_stream(s, width) for s in e["streams"]]
    return lines


def _stream(s: dict[str, Any], width: int) -> str:
    mark = LEADER if s["leader"] else " "
    name = f"{mark} {s['name']:<{width}}"
    if s["confidence"] is None:
        return f"{name}  not heard yet"
    pad = f"V {s['valence']:+.2f}  A {s['arousal']:.2f}  D {s['dominance']:.2f}"
    state = f"share {s['share']:>4.0%}" if s["live"] else "out (silent)"
    return f"{name}  {pad}  conf {s['confidence']:.2f}  {state}  age {s['age_s']:.1f} s"
