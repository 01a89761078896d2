"""``kelly top``'s listener lines: what each listener hears beside the composer's emotion.

A pure function of the composer's ``agreement`` telemetry
(:mod:`kelly_actors.composer.live.agreement`, computed by the composer from its bar records,
not here), so the console only words it.
"""

from __future__ import annotations

from typing import Any

from kelly_actors.console.view import composer_telemetry

NAMES = {"audio": "audio", "midi": "midi"}


def agreement_lines(snapshot: dict[str, Any]) -> list[str]:
    """A heading with the window, then per listener its newest reading and the agreement
    (or why there is none). [] when the composer reports no agreement."""
    figures = composer_telemetry(snapshot).get("agreement")
    if not figures:
        return []
    window = figures["window"]
    lines = [f"LISTENER vs COMPOSER (last {window} bars, conf ≥ {figures['min_confidence']:.2f})"]
    for name in ("audio", "midi"):
        a = figures.get(name)
        if a is not None:
            lines.extend(_listener(name, a))
    return lines


def _listener(name: str, a: dict[str, Any]) -> list[str]:
    head = f"{NAMES[name]:<6}"
    if not a["heard"]:
        why = a["reason"]
        return [f"{head}no listener reading" + ("" if why == "no listener reading" else f": {why}")]
    last, d = a["last"], a["distance"]
    same = round(a["quadrant"] * a["heard"])
    return [
        f"{head}hears V {last['valence']:+.2f}  A {last['arousal']:.2f}  D {last['dominance']:.2f}"
        f"  conf {last['confidence']:.2f} (bar {last['bar']})",
        f"{'':<6}same quadrant {same}/{a['heard']} bars ({a['quadrant']:.0%}) "
        f"|ΔV| {d['valence']:.2f} |ΔA| {d['arousal']:.2f} |ΔD| {d['dominance']:.2f}"
        + (f", {a['bars'] - a['heard']} unheard" if a["bars"] > a["heard"] else ""),
    ]
