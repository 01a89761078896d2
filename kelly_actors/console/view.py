"""What the ``kelly top`` panels show, as plain data and text from a status snapshot.

Everything here is a pure function of the snapshot (see ``docs/protocol.md``,
topic ``status``) so it is tested without a terminal. Times are in ms unless
a name says otherwise; sizes in MiB.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError

#: Actor states the supervisor reports that mean "not working".
FAILING_STATES = frozenset({"failed", "restarting", "stopped"})
#: A heartbeat older than this many seconds is shown as a warning.
STALE_HEARTBEAT_S = 1.0
#: Fill-bar width in cells.
BAR_CELLS = 16
#: Emotion history: one point per snapshot, at most this many seconds back.
HISTORY_S = 300.0
SPARK = "▁▂▃▄▅▆▇█"
#: The ring the audio actor plays from (its default `out_ring`).
AUDIO_OUT_RING = "audio_out"


@dataclass(frozen=True)
class ActorRow:
    """One line of the actors table; ``standing`` is ``ok``, ``degraded`` or ``failing``."""

    name: str
    state: str
    pid: str
    restarts: int
    last_exit: str
    uptime: str
    cpu: str
    rss: str
    heartbeat: str
    misses: int
    standing: str
    note: str


def _standing(actor: dict[str, Any]) -> tuple[str, str]:
    state = actor["state"]
    if state in FAILING_STATES or (state == "starting" and actor["restarts"] > 0):
        return "failing", actor["last_exit"] or state
    if state == "degraded" or actor["degraded_reason"]:
        return "degraded", actor["degraded_reason"] or "degraded"
    age = actor["heartbeat_age_s"]
    if age is not None and age > STALE_HEARTBEAT_S:
        return "degraded", f"no heartbeat for {age:.1f} s"
    return "ok", ""


def actor_rows(snapshot: dict[str, Any]) -> list[ActorRow]:
    """One row per actor, in start order."""
    rows = []
    for a in snapshot["actors"]:
        standing, note = _standing(a)
        age = a["heartbeat_age_s"]
        rows.append(
            ActorRow(
                name=a["name"],
                state=a["state"],
                pid=str(a["pid"] or "-"),
                restarts=a["restarts"],
                last_exit=a["last_exit"] or "-",
                uptime=f"{a['uptime_s']:.0f} s",
                cpu=f"{a['cpu_percent']:.1f}",
                rss=f"{a['rss_bytes'] / 2**20:.1f}",
                heartbeat="-" if age is None else f"{age:.2f}",
                misses=int(a["deadline_misses"]),
                standing=standing,
                note=note,
            )
        )
    return rows


def fill_bar(used: int, capacity: int, cells: int = BAR_CELLS) -> str:
    """``█████░░░░░`` with ``cells`` cells, rounded up so a non-empty ring shows."""
    if capacity <= 0:
        return "?" * cells
    full = min(cells, math.ceil(cells * max(0, used) / capacity))
    return "█" * full + "░" * (cells - full)


def ring_writers(config_name: str) -> dict[str, str]:
    """Ring name → writing actor, from the run's config ("" or unreadable → {})."""
    if not config_name:
        return {}
    try:
        config = performance.load(None if config_name == "default" else config_name)
    except (ConfigError, OSError, ValueError):
        return {}
    return {r.name: r.writer for r in config.rings}


def ring_lines(snapshot: dict[str, Any], writers: dict[str, str]) -> list[str]:
    """One line per ring: fill bar, used/capacity, peak, overruns, underruns (torn reads
    when any), and the actor writing it."""
    lines = []
    for r in snapshot["rings"]:
        writer = writers.get(r["name"], "?")
        torn = f" torn {r['torn']}" if r["torn"] else ""
        lines.append(
            f"{r['name']:<9} {fill_bar(r['used'], r['capacity'])} {r['used']:>4}/{r['capacity']:<4}"
            f" pk {r['peak_used']:>4} ov {r['overruns']:>3} un {r['underruns']:>3}{torn} ← {writer}"
        )
    return lines


def _telemetry(snapshot: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
    """The first actor whose telemetry has ``key`` (the audio actor: ``period_ms``)."""
    for a in snapshot["actors"]:
        if key in a["telemetry"]:
            return a["name"], a["telemetry"]
    return "", {}


@dataclass(frozen=True)
class LatencyBudget:
    """The output path's delay, actor by actor: ``parts`` of (label, ms) and their sum."""

    parts: tuple[tuple[str, float], ...]

    @property
    def total_ms(self) -> float:
        return sum(ms for _, ms in self.parts)


def latency_budget(snapshot: dict[str, Any]) -> LatencyBudget:
    """Input block + feature hop compute + synth look-ahead + output queue and device.

    Each part comes from that actor's telemetry: audio ``period_ms`` (one
    captured block), features ``us_per_hop``, synth ``lookahead_ms``, audio
    ``latency_frames`` (queued blocks plus the device's own latency).
    """
    parts: list[tuple[str, float]] = []
    audio_name, audio = _telemetry(snapshot, "period_ms")
    if audio:
        parts.append((f"{audio_name} in (1 block)", float(audio["period_ms"])))
    features_name, features = _telemetry(snapshot, "us_per_hop")
    if features:
        parts.append((f"{features_name} (hop compute)", float(features["us_per_hop"]) / 1000))
    synth_name, synth = _telemetry(snapshot, "lookahead_ms")
    if synth:
        parts.append((f"{synth_name} (look-ahead)", float(synth["lookahead_ms"])))
    if audio and audio.get("sample_rate"):
        out_ms = 1000 * float(audio.get("latency_frames", 0)) / float(audio["sample_rate"])
        parts.append((f"{audio_name} out (queue + device)", out_ms))
    return LatencyBudget(tuple(parts))


def audio_lines(snapshot: dict[str, Any], writers: dict[str, str]) -> list[str]:
    """Backend, xruns and who to blame, callback load, the latency budget."""
    name, t = _telemetry(snapshot, "period_ms")
    if not t:
        return ["no audio actor reports telemetry yet"]
    period = float(t["period_ms"]) or math.nan
    p99 = float(t.get("callback_p99_ms", 0.0))
    out_ring = AUDIO_OUT_RING
    feeder = writers.get(out_ring, "the synth")
    underruns = int(t.get("underruns", 0))
    xruns = int(t.get("xruns", 0))
    lines = [
        f"{name}: {t.get('backend', '?')}  {t.get('sample_rate', '?')} Hz × "
        f"{t.get('block_size', '?')}  period {period:.2f} ms  priority "
        f"{t.get('callback_priority', '?')}",
        f"callbacks {t.get('callbacks', 0)}  xruns {xruns}"
        + (f" — blame {xrun_blame(snapshot)}" if xruns else ""),
        f"underruns {underruns}"
        + (f" — blame {feeder} ({out_ring} ran dry)" if underruns else "")
        + f"  late blocks {t.get('late_blocks', 0)}",
        f"callback load p99 {p99:.2f} ms / {period:.2f} ms = {100 * p99 / period:.0f} %"
        f"  (p50 {t.get('callback_p50_ms') or 0:.2f}, max {t.get('callback_max_ms') or 0:.2f})",
    ]
    if t.get("callback"):
        lines.append(f"callback {t['callback']}  missed cycles {t.get('missed_cycles', '-')}")
    if t.get("standby_ring"):
        lines.append(standby_line(t))
    else:
        lines.extend(lone_synth_line(snapshot, feeder))
    if (t.get("link") or {}).get("mode"):
        lines.append(link_line(t["link"]))
    budget = latency_budget(snapshot)
    lines.append(
        f"latency budget {budget.total_ms:.1f} ms = "
        + " + ".join(f"{label} {ms:.1f}" for label, ms in budget.parts)
    )
    return lines


def link_line(link: dict[str, Any]) -> str:
    """The clock's Ableton Link session (kelly_actors/link): peers, tempi, phase, lock."""
    state = "locked" if link.get("locked") else "unlocked"
    state = next((k for k in ("slewing", "clamped") if link.get(k)), state)
    phase = link.get("phase")
    return (
        f"link {link['mode']}  peers {link.get('peers', 0)}  session "
        f"{link.get('session_tempo') or 0:.2f} bpm, ours {link.get('tempo') or 0:.2f}  phase "
        f"{'-' if phase is None else f'{phase:.2f}'}/{link.get('quantum', '-')}  {state}  "
        f"jumps {link.get('tempo_jumps', 0)}  clamped {link.get('tempo_clamped', 0)}"
    )


def lone_synth_line(snapshot: dict[str, Any], feeder: str) -> list[str]:
    """With no standby: say so when the synth is down and the fallback plays."""
    synth = next((a for a in snapshot["actors"] if a["name"] == feeder), None)
    if synth is None or synth["state"] in ("ready", "degraded"):
        return []
    return [
        f"output from the fallback (hold and fade): {feeder} is {synth['state']}, "
        f"restarted {synth['restarts']} times; no standby to take over"
    ]


def standby_line(t: dict[str, Any]) -> str:
    """Which synth's ring plays, whether the other is in step to take over, switches."""
    active = t["active_ring"]
    other = next((r for r in t.get("diverged_blocks", {}) if r != active), t["standby_ring"])
    if t.get("standby_left_out"):
        state = "left out (it keeps diverging)"
    elif t.get("standby_trusted"):
        state = "in step, takes over on a miss"
    else:
        state = "not in step (the fallback covers a miss)"
    diverged = sum(t.get("diverged_blocks", {}).values())
    return f"output from {active}; standby {other} {state}; switches {t.get('switches', 0)}" + (
        f"; diverged blocks {diverged}" if diverged else ""
    )


def xrun_blame(snapshot: dict[str, Any]) -> str:
    """Who to blame for device xruns: the callback itself when its worst case
    overran the period, else the busiest other actor (CPU contention)."""
    name, t = _telemetry(snapshot, "period_ms")
    if t and "own_overruns" in t:  # the compiled callback classes every missed cycle
        if int(t["own_overruns"]):
            return f"{name} callback ({t['own_overruns']} cycles overran by its own work)"
        return (
            f"the machine (cycles started late {t.get('missed_late', 0)}, preempted "
            f"{t.get('missed_preempted', 0)}, skipped {t.get('skipped_cycles', 0)}; "
            "our callback never overran)"
        )
    if t and float(t.get("callback_max_ms", 0)) > float(t["period_ms"]):
        return f"{name} callback (max {t['callback_max_ms']:.2f} ms > period)"
    others = [a for a in snapshot["actors"] if a["name"] != name]
    if not others:
        return "the system (no other actor runs)"
    busiest = max(others, key=lambda a: a["cpu_percent"])
    return f"{busiest['name']} (busiest, {busiest['cpu_percent']:.0f} % CPU)"


def composer_telemetry(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The composer's telemetry (the actor reporting ``emotion``), or {}."""
    # The synth reports the emotion it plays too, as a list; the composer's is a mapping.
    for a in snapshot["actors"]:
        if isinstance(a["telemetry"].get("emotion"), dict):
            return a["telemetry"]
    return {}


def _pad(point: dict[str, Any] | None) -> str:
    if not point:
        return "-"
    return f"V {point['valence']:+.2f}  A {point['arousal']:.2f}  D {point['dominance']:.2f}"


def emotion_lines(snapshot: dict[str, Any]) -> list[str]:
    """Current V/A/D with confidence and source, nearest named emotion, target, locks."""
    t = composer_telemetry(snapshot)
    if not t:
        return ["no composer reports an emotion yet"]
    e = t["emotion"]
    locks = t.get("locks") or {}
    return [
        f"now     {_pad(e)}  conf {e.get('confidence') or 0:.2f}  ({e.get('source', '?')})",
        f"nearest {t.get('nearest') or '-'}",
        f"target  {_pad(t.get('target'))}"
        + (f"  ({t['journey_bars_left']} bars to go)" if t.get("journey_bars_left") else ""),
        "locks   " + (", ".join(f"{a}={v:+.2f}" for a, v in locks.items()) or "none"),
    ]


def sensor_lines(snapshot: dict[str, Any]) -> list[str]:
    """One line per sensor — its last value, the resting baseline and where it comes from,
    the age of its last sample, weight × confidence, level above rest, clamped and refused
    samples — then what the sensors proposed at the last bar ([] without sensors)."""
    _, osc = _telemetry(snapshot, "sensor_totals")
    sensors = osc.get("sensors") or {}
    lines = []
    for name, s in sensors.items():
        value = "-" if s["value"] is None else f"{s['value']:.1f}"
        age = "never" if s["age_s"] is None else f"{s['age_s']:.1f} s"
        refused = sum(s["refused"].values())
        lines.append(
            f"{name:<11}{value:>7} {s['unit']:<3} rest {s['baseline']:.1f} "
            f"({s['baseline_source']})  age {age}  weight {s['weight']:.2f} "
            f"conf {s['confidence']:.2f}  level {s['level']:+.2f}"
            + (f"  clamped {s['clamped']}" if s["clamped"] else "")
            + (f"  refused {refused}" if refused else "")
        )
    body = (composer_telemetry(snapshot).get("sensors") or {}).get("body")
    if lines and body:
        dominance = body["dominance"]
        lines.append(
            f"body → arousal {body['arousal']:.2f} (weight {body['arousal_weight']:.2f})"
            + (f", dominance {dominance:.2f}" if dominance is not None else "")
        )
    return lines


def midi_in_lines(snapshot: dict[str, Any]) -> list[str]:
    """The MIDI input (docs/midi.md): its port, path and connections, notes taken, what the
    listener hears, refusals and SysEx ([] without a MIDI input actor)."""
    _, t = _telemetry(snapshot, "parser")
    port = t.get("input")
    if not port:
        return []
    links = port["connections"]
    if not port["open"]:
        where = "not open: " + port["error"]
    elif links is None:  # rtmidi without JACK cannot say
        where = "open"
    else:
        where = "← " + ", ".join(links) if links else "nothing connected"
    heard = t.get("listener")
    refused = sum(t["refused"].values()) + t["stuck_notes"]
    return [
        f"{port['port']} ({port['api']}) {where}",
        f"notes {t['notes']}  held {t['held']}  controls {t['controls']}"
        + (f"  sysex {t['parser']['sysex']}" if t["parser"]["sysex"] else "")
        + (f"  refused {refused}" if refused else ""),
        f"heard {_pad(heard)}  conf {heard['confidence']:.2f}  {heard['key']}"
        if heard
        else "heard -",
    ]


def music_lines(snapshot: dict[str, Any]) -> list[str]:
    """Key, mode, tempo, bar; MIDI port and recording; models reported by any actor."""
    t = composer_telemetry(snapshot)
    transport = snapshot.get("transport") or {}
    lines = []
    if t:
        lines.append(
            f"key {t.get('key', '?')}  tempo {t.get('tempo') or 0:.0f} bpm  bar {t.get('bar', '?')}"
            f"  (composed to {t.get('composed_bar', '?')})"
        )
        lines.append(f"MIDI {t.get('midi_port') or 'off'}  recording {t.get('recording') or 'off'}")
        lines.extend(transformer_lines(t.get("transformer") or {}))
    elif transport:
        lines.append(f"tempo {transport['tempo']:.0f} bpm  bar {transport['bar']}")
    models = [f"{a['name']}: {m}" for a in snapshot["actors"] for m in _models(a["telemetry"])]
    lines.append("models " + ("; ".join(models) if models else "none loaded (rule engines)"))
    lines.extend(training_lines(snapshot.get("training") or []))
    return lines


def training_lines(runs: list[dict[str, Any]]) -> list[str]:
    """One line per published training run (``kelly train``): stage, progress, ETA, loss."""
    lines = []
    for r in runs:
        head = f"training {r['run'] or '?'} · {r['stage'] or '-'}"
        if r["state"] == "running":
            eta = round(r["eta_s"])
            lines.append(
                f"{head} {r['fraction']:.0%} ({r['done']}/{r['total']}) "
                f"ETA {eta // 60}:{eta % 60:02d} {r['extra']}".rstrip()
            )
        else:
            lines.append(f"{head} {r['state']} {r['extra']}".rstrip())
    return lines


def transformer_lines(t: dict[str, Any]) -> list[str]:
    """Who writes which tracks, and how the model's bars are doing ([] for rules)."""
    if not t or t.get("engine", "rules") == "rules":
        return []
    where = t.get("served_by") or "off"
    last = t.get("last_ms")
    return [
        f"transformer {t['engine']} ({', '.join(t.get('engines', []))}) via {where}: "
        f"{t.get('bars', 0)} bars, {t.get('late', 0)} late, {t.get('fallbacks', 0)} to rules"
        + (f", last {last:.0f} ms" if last is not None else "")
    ]


def _models(telemetry: dict[str, Any]) -> list[str]:
    """Model names and versions from an actor's ``model`` / ``models`` telemetry."""
    found = telemetry.get("models") or ([telemetry["model"]] if telemetry.get("model") else [])
    variations = telemetry.get("variations") or {}
    if variations.get("model"):
        found = [*found, variations["model"]]
    out = []
    for m in found:
        if isinstance(m, dict):
            out.append(f"{m.get('name', '?')} {m.get('version', '')}".strip())
        else:
            out.append(str(m))
    return out


class EmotionHistory:
    """V/A/D over the last :data:`HISTORY_S` seconds, one point per snapshot."""

    def __init__(self, span_s: float = HISTORY_S) -> None:
        self.span_s = span_s
        self.points: deque[tuple[float, float, float, float]] = deque()

    def add(self, snapshot: dict[str, Any], now: float | None = None) -> None:
        e = composer_telemetry(snapshot).get("emotion")
        if not e:
            return
        now = time.monotonic() if now is None else now
        self.points.append((now, e["valence"], e["arousal"], e["dominance"]))
        while self.points and self.points[0][0] < now - self.span_s:
            self.points.popleft()

    def series(self, axis: str, width: int) -> list[float]:
        """The last ``width`` values of one axis, valence mapped from −1…1 to 0…1."""
        index = {"valence": 1, "arousal": 2, "dominance": 3}[axis]
        values = [p[index] for p in self.points][-width:]
        return [(v + 1) / 2 for v in values] if axis == "valence" else values


def sparkline(values: list[float]) -> str:
    """One character per value in 0…1 (clipped)."""
    top = len(SPARK) - 1
    return "".join(SPARK[round(min(1.0, max(0.0, v)) * top)] for v in values)
