"""What ``kelly run`` says, as plain text from status snapshots and event records.

Pure functions, tested without a terminal: :mod:`.run_console` feeds them the run's
snapshots (``docs/protocol.md``, topic ``status``) and ``events.jsonl`` records and decides
where the text goes. Each line comes with a style name for a terminal (``""``: none).
Times are seconds unless a name says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kelly_actors.console import view
from kelly_actors.supervisor.status import AUDIO_FIGURES

#: Commands in the event log that only read; they are not worth a line.
QUIET_COMMANDS = frozenset({"status", "ping"})
#: Composer calls shown as what the performer did.
STEERING = frozenset({"feel", "set_emotion", "lock", "unlock", "panic"})
#: Recordings listed one by one up to this many files, then counted.
MAX_FILES_LISTED = 4


@dataclass(frozen=True)
class Line:
    """One line of output; ``style`` is a rich style for a terminal, "" for none."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class RunFacts:
    """What ``kelly run`` knows before the run starts (passed to the console process).

    Attributes:
        run_dir: the run directory.
        config: the performance: a TOML path, or "" for the built-in one.
        actors: actor names in start order.
        record_dir: where ``--record`` (or the config) records, or "".
        audio_choice: why this audio device plays (the option or config that chose it).
        started: ``time.time()`` when ``kelly run`` started.
        watchdog_pid: the ``kelly run`` process (the console's parent).
        tag: the run's namespace tag: what tells its records and ``supervisor.json`` from
            those of another run in the same run directory.
        run_dir_option: ``--run-dir DIR`` to add to the commands shown, or "".
        silent: the automatic choice found no audio device: the run plays silently.
    """

    run_dir: str
    config: str
    actors: tuple[str, ...]
    record_dir: str
    audio_choice: str
    started: float
    watchdog_pid: int
    tag: str
    run_dir_option: str = ""
    silent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "actors": list(self.actors)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunFacts:
        return cls(**{**data, "actors": tuple(data["actors"])})


def fact(label: str, text: str) -> str:
    """``label`` in a column of its own, then ``text`` (the start and summary facts)."""
    return f"{label:<10} {text}"


#: Where a fact's text starts: a continuation line is indented this far.
INDENT = " " * 11


def stamp(unix_time: float) -> str:
    """Local wall-clock time ``HH:MM:SS``."""
    return datetime.fromtimestamp(unix_time).strftime("%H:%M:%S")


def clock(seconds: float) -> str:
    """``M:SS`` (or ``H:MM:SS`` from an hour on)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# ------------------------------------------------------------------ the start
def opening_line(facts: RunFacts) -> Line:
    what = facts.config or "the built-in performance"
    return Line(f"kelly run: {what}, {len(facts.actors)} actors starting", "bold")


def ready_line(actor: str, seconds: float | None) -> Line:
    took = f"ready in {seconds:.2f} s" if seconds is not None else "ready"
    return Line(f"  ✓ {actor:<10} {took}", "green")


def all_ready_line(count: int, seconds: float) -> Line:
    return Line(f"all {count} actors ready {seconds:.2f} s after kelly run started", "bold green")


def not_ready_line(waiting: Iterable[str], seconds: float) -> Line:
    names = ", ".join(waiting)
    return Line(f"after {seconds:.0f} s still starting: {names} (the rest plays)", "yellow")


def _telemetry_with(snapshot: dict[str, Any], key: str) -> dict[str, Any]:
    for actor in snapshot.get("actors") or []:
        if key in (actor.get("telemetry") or {}):
            return actor["telemetry"]
    return {}


def _commands_hint(facts: RunFacts) -> list[Line]:
    extra = f" {facts.run_dir_option}" if facts.run_dir_option else ""
    return [
        Line(fact("watch", f"kelly top{extra}"), "cyan"),
        Line(fact("steer", f'kelly ctl{extra} feel "I feel calm but I want to wake up"'), "cyan"),
    ]


def start_lines(facts: RunFacts, snapshot: dict[str, Any] | None) -> list[Line]:
    """Audio device and why, rate and block, latency budget, MIDI port, recording, run
    directory, and the commands that watch and steer the run."""
    snap = snapshot or {"actors": []}
    audio = _telemetry_with(snap, "period_ms")
    lines = []
    if audio:
        backend = str(audio.get("backend", "?"))
        silent = " (silence on a clock: nothing is heard)" if backend == "null" else ""
        style = "yellow" if facts.silent else ""
        lines.append(Line(fact("audio", f"{backend}{silent} — {facts.audio_choice}"), style))
        rate, block = audio.get("sample_rate", "?"), audio.get("block_size", "?")
        period = float(audio["period_ms"])
        lines.append(Line(f"{INDENT}{rate} Hz, block {block} frames ({period:.2f} ms)"))
        budget = view.latency_budget(snap)
        parts = " + ".join(f"{label} {ms:.1f}" for label, ms in budget.parts)
        lines.append(Line(fact("latency", f"{budget.total_ms:.1f} ms = {parts}")))
    else:
        lines.append(
            Line(fact("audio", f"no audio actor reports yet — {facts.audio_choice}"), "yellow")
        )
    composer = view.composer_telemetry(snap)
    lines.append(Line(fact("MIDI", composer.get("midi_port") or "off")))
    if facts.record_dir:
        lines.append(Line(fact("recording", f"{facts.record_dir} (audio, MIDI and run.json)")))
    else:
        lines.append(Line(fact("recording", "off (add --record DIR to keep the music)")))
    lines.append(Line(fact("run dir", f"{facts.run_dir} (events.jsonl: kelly log -f)")))
    return lines + _commands_hint(facts)


# ------------------------------------------------------------ while it plays
def _voices(snapshot: dict[str, Any]) -> int | None:
    counts = [
        int(a["telemetry"]["active_voices"])
        for a in snapshot.get("actors") or []
        if "active_voices" in (a.get("telemetry") or {})
    ]
    return max(counts) if counts else None


def _trouble(snapshot: dict[str, Any]) -> str:
    names = [row.name for row in view.actor_rows(snapshot) if row.standing != "ok"]
    return f"  ! {', '.join(names)}" if names else ""


def status_line(snapshot: dict[str, Any], elapsed_s: float) -> str:
    """One line: time, bar, key, tempo, emotion and its source, voices, xruns, under-runs,
    restarts (and which actors are not well)."""
    composer = view.composer_telemetry(snapshot)
    transport = snapshot.get("transport") or {}
    audio = _telemetry_with(snapshot, "period_ms")
    bar = composer.get("bar") or transport.get("bar") or "-"
    tempo = composer.get("tempo") or transport.get("tempo")
    parts = [clock(elapsed_s), f"bar {bar}", composer.get("key") or "key -"]
    parts.append(f"{tempo:.0f} bpm" if tempo else "- bpm")
    emotion = composer.get("emotion")
    if emotion:
        parts.append(
            f"{composer.get('nearest') or '?'} ({emotion.get('source', '?')}) "
            f"V{emotion['valence']:+.2f} A{emotion['arousal']:.2f} D{emotion['dominance']:.2f}"
        )
    voices = _voices(snapshot)
    parts.append(f"voices {voices if voices is not None else '-'}")
    parts.append(f"xruns {audio.get('xruns', 0)}")
    parts.append(f"under-runs {audio.get('underruns', 0)}")
    restarts = sum(int(a["restarts"]) for a in snapshot.get("actors") or [])
    supervisor = int((snapshot.get("run") or {}).get("supervisor_restarts", 0))
    parts.append(f"restarts {restarts}" + (f" (+{supervisor} supervisor)" if supervisor else ""))
    return "♪ " + " · ".join(parts) + _trouble(snapshot)


def _command_line(detail: dict[str, Any]) -> Line | None:
    cmd = str(detail.get("cmd", ""))
    args = detail.get("args") or {}
    if cmd in QUIET_COMMANDS:
        return None
    if cmd == "call":
        method = str(args.get("method", ""))
        inner = args.get("args") or {}
        if method == "feel":
            return Line(f"» feel {inner.get('text', '')!r}", "magenta")
        if method in STEERING:
            values = " ".join(str(v) for v in inner.values())
            return Line(f"» {method.replace('_', '-')} {values}".rstrip(), "magenta")
        if method == "load_model":
            return Line(f"» load-model {inner.get('kind', '')} {inner.get('path', '')}", "magenta")
        return None  # other actor calls (kelly top's, OSC telemetry) are not steering
    if cmd == "restart":
        return Line(f"» restart {args.get('actor', '')}", "magenta")
    if cmd == "stop":
        return Line("» stop", "magenta")
    return None


def _model_line(event: str, actor: str, d: dict[str, Any]) -> Line | None:
    if event in ("model_loaded", "transformer_loaded"):
        version = f" (version {d['version']})" if d.get("version") else ""
        return Line(f"◆ {actor}: model swapped in: {d.get('path', '?')}{version}", "cyan")
    if event == "model_refused":
        return Line(f"! {actor}: model {d.get('path', '?')} refused: {d.get('reason', '')}", "red")
    if event in ("model_unavailable", "transformer_unavailable"):
        return Line(f"! {actor}: no model ({d.get('reason', '')}); the rules play", "yellow")
    if event == "timbre_fallback":
        return Line(f"! {actor}: timbre fallback: {d.get('reason', '')}", "yellow")
    return None


def event_line(record: dict[str, Any]) -> Line | None:
    """The line for a notable event record (restart, degrade, model swap, escalation, what
    the performer did, a recording that stopped, the stop); None for the others."""
    event = str(record.get("event", ""))
    d = record.get("detail") or {}
    actor = str(d.get("actor", ""))
    if event == "actor_exited" and not d.get("commanded"):
        return Line(f"✗ {actor} exited: {d.get('reason', '?')} — restarting", "red")
    if event == "actor_restarting" and d.get("reason") == "commanded":
        return Line(f"↻ {actor} restarting (commanded)", "yellow")
    if event == "crash":
        return Line(f"✗ {actor} crashed: {d.get('error', '?')}", "red")
    if event == "actor_health":
        if d.get("degraded"):
            return Line(f"! {actor} degraded: {d.get('reason', '')}", "yellow")
        return Line(f"✓ {actor} healthy again", "green")
    if event == "escalation":
        return Line(f"✗ escalation: {d.get('reason', '')} — the run stops", "bold red")
    if event == "supervisor_adopted":
        return Line(
            f"↻ supervisor replaced ({d.get('previous_exit', '?')}): pid {d.get('pid', '?')} "
            f"adopted the run, the music played on",
            "yellow",
        )
    if event == "audio_fallback":
        return Line(f"! audio device lost: {d.get('reason', '')}; silence on a clock", "red")
    if event == "synth_switched":
        away, to = d.get("away_from", "?"), d.get("to", "?")
        return Line(
            f"↻ output switched from {away} to {to} ({away} had no block in time)", "yellow"
        )
    if event == "recording_stopped":
        return Line(
            f"! {actor} recording stopped: {d.get('reason', '')} ({d.get('path', '')})", "red"
        )
    if event == "osc_listening":
        return Line(f"OSC: {actor} listening on {d.get('bind', '?')}:{d.get('port', '?')} (UDP)")
    if event == "command":
        return _command_line(d)
    if event == "run_stopped":
        return Line(f"■ stopping: {d.get('reason', '')}", "bold")
    return _model_line(event, actor, d)


# ------------------------------------------------------------------ the stop
def summary_from_snapshot(snapshot: dict[str, Any], exit_code: int, reason: str) -> dict[str, Any]:
    """The facts ``run.json`` holds (kelly_actors/supervisor/status.py), from the last
    snapshot seen: for a run without ``--record``, or whose ``run.json`` was not written."""
    actors = snapshot.get("actors") or []
    telemetry = {a["name"]: a.get("telemetry") or {} for a in actors}
    audio = next((t for t in telemetry.values() if "period_ms" in t), {})
    return {
        "duration_s": (snapshot.get("run") or {}).get("uptime_s", 0.0),
        "exit_code": exit_code,
        "reason": reason,
        "xruns": sum(int(t.get("xruns", 0)) for t in telemetry.values()),
        "underruns": {r["name"]: r["underruns"] for r in snapshot.get("rings") or []},
        "overruns": {r["name"]: r["overruns"] for r in snapshot.get("rings") or []},
        "restarts": {a["name"]: a["restarts"] for a in actors},
        "supervisor_restarts": (snapshot.get("run") or {}).get("supervisor_restarts", 0),
        "audio": {k: audio[k] for k in AUDIO_FIGURES if k in audio},
        "actors": telemetry,
    }


def _bars(summary: dict[str, Any]) -> Any:
    for telemetry in (summary.get("actors") or {}).values():
        if isinstance(telemetry, dict) and isinstance(telemetry.get("emotion"), dict):
            return telemetry.get("bar")
    return None


def _counts(counts: dict[str, Any] | None) -> str:
    if counts is None:
        return "unknown"
    nonzero = {k: v for k, v in counts.items() if v}
    return ", ".join(f"{k} {v}" for k, v in nonzero.items()) if nonzero else "none"


def recorded_files(record_dir: Path) -> str:
    """The recording's files: each name up to :data:`MAX_FILES_LISTED`, else counts."""
    try:
        names = sorted(p.name for p in record_dir.iterdir() if p.is_file())
    except OSError:
        return "none (the directory is gone)"
    if len(names) <= MAX_FILES_LISTED:
        return ", ".join(names) or "none"
    segments = [n for n in names if n.endswith(".mid")]
    rest = [n for n in names if not n.endswith(".mid")]
    return ", ".join(rest) + f", {len(segments)} MIDI segments ({segments[0]} … {segments[-1]})"


def summary_lines(summary: dict[str, Any], facts: RunFacts, from_run_json: bool) -> list[Line]:
    """Duration, bars, restarts per actor, under-runs, xruns, and where the files are."""
    code = summary.get("exit_code", "?")
    style = "bold green" if code == 0 else "bold red"
    lines = [
        Line(
            f"stopped after {clock(float(summary.get('duration_s') or 0))}: "
            f"{summary.get('reason') or 'ended'} (exit code {code})",
            style,
        )
    ]
    bars = _bars(summary)
    if bars is not None:
        lines.append(Line(fact("bars", str(bars))))
    restarts = summary.get("restarts")
    lines.append(Line(fact("restarts", _counts(restarts))))
    if summary.get("supervisor_restarts"):
        lines.append(Line(f"{INDENT}supervisor {summary['supervisor_restarts']}"))
    lines.append(Line(fact("under-runs", _counts(summary.get("underruns")))))
    xruns = summary.get("xruns")
    lines.append(Line(fact("xruns", str(xruns) if xruns is not None else "unknown")))
    if summary.get("complete") is False:
        lines.append(
            Line(f"{INDENT}(incomplete: the supervisor holding the figures died)", "yellow")
        )
    if facts.record_dir:
        where = Path(facts.record_dir)
        source = "" if from_run_json else " (run.json missing)"
        lines.append(Line(fact("files", f"{where}: {recorded_files(where)}{source}")))
        if facts.silent:
            heard = "nothing was heard (no audio device); the music is in"
            lines.append(Line(fact("listen", f"{heard} {where / 'output.wav'}"), "bold"))
    events = Path(facts.run_dir) / "events.jsonl"
    extra = f" {facts.run_dir_option}" if facts.run_dir_option else ""
    lines.append(Line(fact("events", f"{events} (kelly log{extra})")))
    return lines
