"""Write small performance configs for tests without a TOML writer dependency."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "kelly_actors" / "config" / "default.toml"
OSC_TARGET = "kelly_actors.osc.actor:OscActor"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):  # a nested options table, written inline
        return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)


def performance_toml(
    actors: list[dict[str, Any]], rings: list[dict[str, Any]] = (), **supervisor: Any
) -> str:
    """TOML text for a ``[supervisor]`` table, ``[[rings]]`` and ``[[actors]]`` (with options)."""
    lines = ["[supervisor]", *(f"{k} = {_value(v)}" for k, v in supervisor.items()), ""]
    for ring in rings:
        lines += ["[[rings]]", *(f"{k} = {_value(v)}" for k, v in ring.items()), ""]
    for actor in actors:
        options = actor.get("options", {})
        lines += ["[[actors]]", *(f"{k} = {_value(v)}" for k, v in actor.items() if k != "options")]
        if options:
            lines += ["[actors.options]", *(f"{k} = {_value(v)}" for k, v in options.items())]
        lines.append("")
    return "\n".join(lines)


IDLE = "kelly_actors.demo.idle:IdleActor"
CRASHABLE = "support_actors:CrashableActor"
STUBBORN = "support_actors:StubbornActor"


def tone_meter_toml(**supervisor: Any) -> str:
    """The small demo graph: a tone clock writing 256×2 blocks, a meter reading them."""
    rings = [
        {"name": "tone", "shape": [256, 2], "capacity": 64, "writer": "tone", "readers": ["meter"]}
    ]
    actors = [
        {"name": "tone", "target": "kelly_actors.demo.tone:ToneActor"},
        {"name": "meter", "target": "kelly_actors.demo.meter:MeterActor", "depends_on": ["tone"]},
    ]
    return performance_toml(actors, rings, **supervisor)


def default_with_osc(*, audio_backend: str = "null", **options: Any) -> str:
    """The built-in performance, its OSC actor's options replaced by ``options``.

    ``audio_backend``: the audio actor's backend; ``null`` (the clocked silence the tests
    measure) rather than the built-in ``auto``, which would play through CI's JACK server."""
    data = tomllib.loads(DEFAULT_TOML.read_text())
    audio = next(a for a in data["actors"] if a["name"] == "audio")
    audio["options"]["backend"] = audio_backend
    osc = next(a for a in data["actors"] if a["target"] == OSC_TARGET)
    osc["options"] = {**osc.get("options", {}), **options}
    return performance_toml(data["actors"], data["rings"], **data["supervisor"])
