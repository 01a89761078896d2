"""The run on one time axis: seconds since ``run_started`` (or the first event).

From the event log: each bar (``bar`` events from the composer: its line, tempo, key,
the fused emotion and every source's word, who wrote it), what the performer typed
(``command`` events), and the incidents (restarts, degrades, under-runs, xruns, synth
switches, recording faults). From the recording: where each WAV segment starts (the bars
tie transport samples to wall time) and the MIDI notes, placed by the ``bar N`` markers
the composer writes at every bar line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kelly_actors.report.load import Found

#: Incident kinds, in the order the page draws them: (kind, label).
KINDS = (
    ("restart", "restarts"),
    ("degrade", "degrades"),
    ("underrun", "under-runs"),
    ("xrun", "xruns"),
    ("switch", "synth switches"),
    ("other", "other"),
)
_OTHER = {
    "escalation",
    "crash",
    "recording_stopped",
    "audio_fallback",
    "take_log_stopped",
    "run_summary_unwritable",
    "model_loaded",
    "model_refused",
    "transformer_loaded",
    "timbre_fallback",
}


@dataclass
class Incident:
    t: float  # s since the start
    kind: str  # one of KINDS
    actor: str
    text: str
    count: int = 1  # under-runs: how many this record reports


@dataclass
class Notes:
    """MIDI notes: float64 start/end (s), int pitch, velocity, track index; ``tracks``
    names the indices."""

    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    track: np.ndarray
    tracks: list[str]
    problems: list[str] = field(default_factory=list)


@dataclass
class Timeline:
    t0: float  # Unix s of time zero
    duration: float  # s
    bars: list[dict[str, Any]]  # the bar events' details, each with "t" (s)
    typed: list[tuple[float, str]]
    incidents: list[Incident]
    audio_offsets: dict[tuple[str, int], float]  # (what, incarnation) → start (s)
    sample_offset: float | None  # transport sample 0 in s since the start
    notes: Notes


def describe_command(detail: dict[str, Any]) -> str:
    """A ``command`` event as the performer would have typed it."""
    cmd = str(detail.get("cmd", "?"))
    args = detail.get("args") if isinstance(detail.get("args"), dict) else {}
    if cmd == "call" and isinstance(args.get("args"), dict):
        method, inner = str(args.get("method", "?")), args["args"]
        if method == "feel":
            return f'feel "{inner.get("text", "")}"'
        if method == "set_emotion":
            values = (inner.get(k, "?") for k in ("valence", "arousal", "dominance"))
            return "set-emotion " + " ".join(str(v) for v in values)
        if method in ("lock", "unlock"):
            return f"{method} {inner.get('axis', '?')}"
        rest = json.dumps(inner, default=str) if inner else ""
        return f"{args.get('actor', '?')}.{method.replace('_', '-')} {rest}".rstrip()
    if set(args) == {"actor"}:
        return f"{cmd} {args['actor']}"
    rest = json.dumps(args, default=str) if args else ""
    return f"{cmd} {rest}".rstrip()


#: Commands that only look (status polls, pings): not something the performer did.
READ_ONLY = frozenset({"status", "ping", "get"})


def _reads_only(detail: dict[str, Any]) -> bool:
    args = detail.get("args") if isinstance(detail.get("args"), dict) else {}
    return detail.get("cmd") in READ_ONLY or (
        detail.get("cmd") == "call" and args.get("method") in READ_ONLY
    )


def _incident(record: dict[str, Any], t: float) -> Incident | None:
    event, d = str(record["event"]), record["detail"]
    actor = str(d.get("actor", ""))
    if event == "actor_exited" and not d.get("commanded"):
        return Incident(t, "restart", actor, f"{actor} exited: {d.get('reason', '')}")
    if event == "actor_restarting" and d.get("reason") == "commanded":
        return Incident(t, "restart", actor, f"{actor} restarted on command")
    if event == "supervisor_adopted":
        return Incident(t, "restart", "supervisor", f"a new supervisor adopted the run: {d}")
    if event == "actor_health" and d.get("degraded"):
        return Incident(t, "degrade", actor, f"{actor} degraded: {d.get('reason', '')}")
    if event == "underrun":
        count = int(d.get("count", 1) or 1)
        return Incident(t, "underrun", actor, f"{count} under-run(s): {d.get('blame', '')}", count)
    if event == "xrun":
        return Incident(t, "xrun", actor, f"xrun: {d.get('blame', '')}", int(d.get("count", 1)))
    if event == "synth_switched":
        return Incident(
            t, "switch", actor, f"output to {d.get('to', '?')} from {d.get('away_from', '?')}"
        )
    if event in _OTHER:
        rest = ", ".join(f"{k}={v}" for k, v in d.items() if k != "actor")
        return Incident(t, "other", actor, f"{event}: {rest}"[:300])
    return None


def _sample_offset(bars: list[dict[str, Any]], rate: int) -> float | None:
    """Where transport sample 0 lies (s), from the bars' (sample, at) pairs."""
    pairs = [(b["t"], b.get("sample")) for b in bars if isinstance(b.get("sample"), int | float)]
    if not pairs or rate <= 0:
        return None
    return float(np.median([t - s / rate for t, s in pairs]))


def build(found: Found) -> Timeline:
    records = found.events.records
    t0 = float(records[0]["time"]) if records else 0.0
    bars: list[dict[str, Any]] = []
    typed: list[tuple[float, str]] = []
    incidents: list[Incident] = []
    ready: dict[tuple[str, int], float] = {}
    end = 0.0
    for record in records:
        t = float(record["time"]) - t0
        end = max(end, t)
        d = record["detail"]
        event = record["event"]
        if event == "bar" and isinstance(d.get("at"), int | float):
            bars.append({**d, "t": float(d["at"]) - t0})
        elif event == "command" and not _reads_only(d):
            typed.append((t, describe_command(d)))
        elif event == "actor_ready" and d.get("actor") == "audio":
            ready[("audio", int(d.get("incarnation", 1)))] = t
        elif (incident := _incident(record, t)) is not None:
            incidents.append(incident)
    rate = next(
        (w.rate for w in found.wavs), int((found.run or {}).get("audio", {}).get("rate", 0))
    )
    rate = rate or 48000
    offset = _sample_offset(bars, rate)
    audio_offsets: dict[tuple[str, int], float] = {}
    for w in found.wavs:
        start = ready.get(("audio", w.incarnation), 0.0)
        if w.incarnation == 1 and offset is not None:
            start = offset  # the first segment starts at transport sample 0
        audio_offsets[(w.what, w.incarnation)] = start
        end = max(end, start + len(w.frames) / w.rate)
    if bars:
        last = bars[-1]
        end = max(end, last["t"] + 4 * 60.0 / float(last.get("tempo") or 120.0))
    if found.run and isinstance(found.run.get("duration_s"), int | float):
        end = max(end, float(found.run["duration_s"]))
    notes = read_notes(found.midi, {int(b["bar"]): b for b in bars if "bar" in b})
    if len(notes.end):
        end = max(end, float(notes.end.max()))
    # A run that ended as it started still gets a time axis to draw on.
    return Timeline(t0, max(end, 1.0), bars, typed, incidents, audio_offsets, offset, notes)


def read_notes(paths: list[Path], bars: dict[int, dict[str, Any]]) -> Notes:
    """The notes of the MIDI segments, placed in time: each ``bar N`` marker at its bar's
    time where the log has the bar, else one bar after the previous at the tempo there."""
    import mido

    columns: list[list[float]] = [[], [], [], [], []]
    tracks: list[str] = []
    problems: list[str] = []
    cursor = 0.0  # where a segment without known bars starts
    for path in paths:
        try:
            mid = mido.MidiFile(str(path), clip=True)
        except (OSError, ValueError, EOFError, KeyError, IndexError) as exc:
            problems.append(f"{path.name}: unreadable MIDI ({exc}); its notes are left out")
            continue
        tpb = mid.ticks_per_beat
        anchors = _anchors(mid.tracks[0] if mid.tracks else [], tpb, bars, cursor)
        if not anchors:
            continue
        ticks = np.array([a[0] for a in anchors], np.float64)
        for track in mid.tracks[1:]:
            name = next((m.name for m in track if m.type == "track_name"), f"track {len(tracks)}")
            index = tracks.index(name) if name in tracks else len(tracks)
            if index == len(tracks):
                tracks.append(name)
            _notes_of(track, index, ticks, anchors, tpb, columns)
        cursor = _time_at(anchors, ticks, float(anchors[-1][0]) + 4 * tpb, tpb)
    start, end, pitch, velocity, track = (np.array(c) for c in columns)
    return Notes(
        start.astype(np.float64),
        end.astype(np.float64),
        pitch.astype(np.int64),
        velocity.astype(np.int64),
        track.astype(np.int64),
        tracks,
        problems,
    )


def _anchors(
    conductor: Any, tpb: int, bars: dict[int, dict[str, Any]], cursor: float
) -> list[tuple[int, float, float]]:
    """(tick, time s, tempo bpm) at each bar marker of a segment's conductor track."""
    anchors: list[tuple[int, float, float]] = []
    tick, tempo = 0, 120.0
    for msg in conductor:
        tick += msg.time
        if msg.type == "set_tempo":
            tempo = 60_000_000 / msg.tempo
            if anchors and anchors[-1][0] == tick:  # set at the bar line, after its marker
                anchors[-1] = (tick, anchors[-1][1], tempo)
        elif msg.type == "marker" and msg.text.startswith("bar "):
            try:
                number = int(msg.text[4:])
            except ValueError:
                continue
            known = bars.get(number)
            if known is not None:
                t = float(known["t"])
            elif anchors:
                prev_tick, prev_t, prev_tempo = anchors[-1]
                t = prev_t + (tick - prev_tick) / tpb * 60.0 / prev_tempo
            else:
                t = cursor
            anchors.append((tick, t, tempo))
    return anchors


def _time_at(
    anchors: list[tuple[int, float, float]], ticks: np.ndarray, tick: float, tpb: int
) -> float:
    """Seconds at ``tick``: from the last bar marker at or before it, at its tempo."""
    i = max(0, int(np.searchsorted(ticks, tick, side="right")) - 1)
    a_tick, a_t, a_tempo = anchors[i]
    return a_t + (tick - a_tick) / tpb * 60.0 / a_tempo


def _notes_of(track: Any, index: int, ticks: np.ndarray, anchors: Any, tpb: int, out: Any) -> None:
    tick = 0
    sounding: dict[tuple[int, int], tuple[int, int]] = {}
    for msg in track:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            sounding[(msg.channel, msg.note)] = (tick, msg.velocity)
        elif msg.type in ("note_off", "note_on"):
            began = sounding.pop((msg.channel, msg.note), None)
            if began is not None:
                out[0].append(_time_at(anchors, ticks, began[0], tpb))
                out[1].append(_time_at(anchors, ticks, tick, tpb))
                out[2].append(msg.note)
                out[3].append(began[1])
                out[4].append(index)
