"""Takes written by hand for the report's tests and benchmark: an event log in the
supervisor's own format (:class:`~kelly_actors.supervisor.events.EventLog`), a WAV from
the audio actor's writer, a MIDI segment from the composer's recorder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kelly_actors.audio.wav import WavWriter
from kelly_actors.composer.live.recorder import SegmentRecorder
from kelly_actors.music.notes import Note
from kelly_actors.music.theory import Key

RATE = 48000
T0 = 1_700_000_000.0  # Unix s of the fake run's start (in the past: files are newer)


def bar_detail(bar: int, at: float, tempo: float = 120.0, writer: str = "rules") -> dict:
    """A ``bar`` event's detail as the composer writes it (composer/live/bar_log.py)."""
    emotion = {"valence": -0.5, "arousal": 0.3, "dominance": 0.4, "confidence": 0.6}
    return {
        "actor": "composer",
        "bar": bar,
        "sample": round((at - T0 - 1.0) * RATE),
        "at": at,
        "tempo": tempo,
        "key": "D dorian" if bar % 8 < 4 else "A aeolian",
        "emotion": {**emotion, "source": "text"},
        "sources": {
            "text": {**emotion, "source": "text"},
            "performer": None,
            "listener": {
                "valence": 0.1,
                "arousal": 0.5,
                "dominance": 0.5,
                "confidence": 0.7,
                "source": "neural",
            },
            "sensors": None,
            "locks": {},
        },
        "writer": writer,
        "model": "transformer-test" if writer == "transformer" else None,
        "fallback": "",
    }


def event_lines(seconds: float, bar_s: float = 2.0, underruns_per_s: float = 0.0) -> list[str]:
    """The JSON lines of a run lasting ``seconds``: start, audio ready, a bar every
    ``bar_s``, one typed sentence a minute, an xrun every 10 min, under-run records."""
    lines = [{"time": T0, "event": "run_started", "detail": {"tag": "t", "pid": 1}}]
    lines.append({"time": T0 + 0.5, "event": "actor_ready",
                  "detail": {"actor": "audio", "pid": 2, "incarnation": 1}})  # fmt: skip
    events: list[tuple[float, str, dict]] = []
    for bar in range(int(seconds / bar_s)):
        at = T0 + 1.0 + bar * bar_s
        writer = "transformer" if bar % 3 else "rules"
        events.append((at - 1.0, "bar", bar_detail(bar, at, 120.0 + bar % 7, writer)))
    for minute in range(int(seconds // 60) + 1):
        text = {"text": f'minute {minute}: I feel <calm> & "tired"'}
        args = {"actor": "composer", "method": "feel", "args": text}
        events.append((T0 + 30 + 60 * minute, "command", {"cmd": "call", "args": args}))
    for k in range(int(seconds // 600) + 1):
        events.append((T0 + 5 + 600 * k, "xrun", {"actor": "audio", "count": 1, "blame": "x"}))
    if underruns_per_s:
        for k in range(int(seconds * underruns_per_s)):
            detail = {"actor": "audio", "count": 3, "blame": "both synths"}
            events.append((T0 + 2 + k / underruns_per_s, "underrun", detail))
    events.sort(key=lambda e: e[0])
    lines += [{"time": t, "event": e, "detail": d} for t, e, d in events]
    lines.append({"time": T0 + seconds, "event": "run_stopped", "detail": {"exit_code": 0}})
    return [json.dumps(line) for line in lines]


def write_events(directory: Path, lines: list[str], cut_last: bool = False) -> Path:
    path = directory / "events.jsonl"
    text = "\n".join(lines) + "\n"
    if cut_last:
        text = text[: -len(lines[-1]) // 2]  # killed mid-line
    path.write_text(text)
    return path


def write_wav(path: Path, seconds: float, channels: int = 2, chunk_s: float = 60.0) -> int:
    """A tone with a loud click in its middle, through the audio actor's writer; frames."""
    writer = WavWriter(path, RATE, channels)
    total = int(seconds * RATE)
    done = 0
    while done < total:
        n = min(total - done, int(chunk_s * RATE))
        t = (np.arange(done, done + n) / RATE).astype(np.float32)
        block = 0.25 * np.sin(2 * np.pi * 220.0 * t, dtype=np.float32)
        middle = total // 2
        if done <= middle < done + n:
            block[middle - done] = 0.99
        writer.write(np.repeat(block[:, None], channels, axis=1))
        done += n
    writer.close()
    return total


def write_midi(directory: Path, bars: int, tempo: float = 120.0) -> None:
    recorder = SegmentRecorder(directory, segment_bars=64)
    key = Key(2, "dorian")
    for bar in range(bars):
        notes = [Note("melody", 60 + (bar + i) % 12, 90, i * 1.0, 0.9) for i in range(4)]
        notes.append(Note("bass", 38, 80, 0.0, 3.5))
        recorder.add_bar(bar, notes, tempo, key, (-0.5, 0.3, 0.4))
