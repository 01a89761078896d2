"""A lean real performance with MIDI input (a tone clock, the composer, the MIDI input actor
on a JACK port of its own) and a JACK MIDI sender that plays into it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from performance import Performance, wait_until
from toml_config import performance_toml

COMPOSER = "kelly_actors.composer.actor:ComposerActor"
TONE = "kelly_actors.demo.tone:ToneActor"
MIDI_IN = "kelly_actors.midi_in.actor:MidiInActor"
SENDER = Path(__file__).resolve().parent / "jack_midi_sender.py"
#: The mappings the tests play: a knob on arousal, a panic pedal, a valence lock pedal.
CC_MAP = [
    {"number": 1, "axis": "arousal"},
    {"number": 64, "command": "panic"},
    {"number": 65, "command": "lock", "target": "valence"},
]


def midi_in_performance(client: str, **options: Any) -> str:
    """TOML: the tone clock follows the composer's tempo; the composer reads the midi_in
    ring; the MIDI input actor opens ``client:in`` on the running JACK server."""
    rings = [
        {"name": "tone", "shape": [256, 2], "capacity": 64, "writer": "tone", "readers": []},
        {"name": "tempo", "shape": [4], "dtype": "float64", "capacity": 64,
         "policy": "drop", "writer": "composer", "readers": ["tone"]},
        {"name": "midi_in", "shape": [8], "dtype": "float64", "capacity": 64,
         "policy": "overwrite", "writer": "midi_in", "readers": ["composer"]},
    ]  # fmt: skip
    composer = {
        "notes_ring": "",
        "estimates": "",
        "midi": {"api": "none"},
        "recording": {"directory": "off"},
        "transformer": {"engine": "rules"},
        "fusion": {"symbolic_weight": 1.0},
    }
    midi_in = {"api": "jack", "client": client, "cc": CC_MAP, **options}
    actors = [
        {"name": "tone", "target": TONE, "options": {"tempo_ring": "tempo", "amplitude": 0.0}},
        {"name": "composer", "target": COMPOSER, "depends_on": ["tone"], "options": composer},
        {"name": "midi_in", "target": MIDI_IN, "options": midi_in},
    ]
    return performance_toml(actors, rings)


def client_name(tag: str) -> str:
    """A JACK client name no other test on this server uses."""
    return f"kmi-{tag}-{os.getpid()}"


def port_of(perf: Performance, timeout: float = 60) -> dict[str, Any]:
    """The MIDI input actor's telemetry once its port is open."""
    actor = perf.wait_actor(
        "midi_in",
        lambda a: a["telemetry"].get("input", {}).get("open"),
        timeout,
        "the MIDI input port to open",
    )
    return actor["telemetry"]


def composer_now(perf: Performance) -> dict[str, Any]:
    """The composer's telemetry this moment (a call, not the status snapshot's lag)."""
    return perf.request("call", actor="composer", method="get", args={})


def until_composer(
    perf: Performance, predicate: Callable[[dict[str, Any]], Any], timeout: float, what: str
) -> dict[str, Any]:
    """The composer's telemetry once ``predicate`` holds for it, asked every 0.1 s."""

    def check() -> dict[str, Any] | None:
        t = composer_now(perf)
        return t if predicate(t) else None

    return wait_until(check, timeout, what, interval=0.1)


def midi_in_now(perf: Performance) -> dict[str, Any]:
    """The MIDI input actor's telemetry this moment (a call, not the status snapshot)."""
    return perf.request("call", actor="midi_in", method="get", args={})


class JackSender:
    """A JACK MIDI output ``NAME:out`` in a process of its own (:mod:`jack_midi_sender`):
    what :meth:`send` queues leaves in the next cycles, at most ``per_cycle`` events a
    cycle, one event per message given."""

    def __init__(self, name: str, ready_dir: Path, per_cycle: int = 16) -> None:
        self.name = name
        ready = ready_dir / f"{name}.ready"
        argv = [sys.executable, str(SENDER), name, str(per_cycle), str(ready)]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        try:
            wait_until(lambda: ready.exists() or self.proc.poll() is not None, 20, "the sender")
            assert self.proc.poll() is None, "the JACK MIDI sender exited"
        except BaseException:
            self.close()
            raise

    def _tell(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def _answer(self, timeout: float) -> str | None:
        """The sender's next line, or None if none came within ``timeout`` s."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if ready else None

    def connect(self, port: str) -> None:
        self._tell({"connect": port})
        assert self._answer(10) == "ok"

    def send(self, messages: Iterable[bytes | list[int]]) -> None:
        self._tell({"send": [list(m) for m in messages]})

    def start_drain(self) -> None:
        self._tell({"drain": True})

    def drained(self, timeout: float) -> bool:
        """True once the queue asked about by :meth:`start_drain` has left."""
        answer = self._answer(timeout)
        return answer is not None and answer.startswith("drained")

    def drain(self, timeout: float = 20.0) -> None:
        """Wait until every queued message has left."""
        self.start_drain()
        assert self.drained(timeout), "the sender's queue did not empty"

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the sender's loop ends with its stdin
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> JackSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tune(
    pitches: list[int], velocity: int, seconds_per_note: float, notes: int
) -> list[tuple[float, list[int]]]:
    """``notes`` notes of ``pitches`` (cycled) as (seconds from now, message) pairs."""
    out: list[tuple[float, list[int]]] = []
    for i in range(notes):
        pitch = pitches[i % len(pitches)]
        t = i * seconds_per_note
        out.append((t, [0x90, pitch, velocity]))
        out.append((t + 0.8 * seconds_per_note, [0x80, pitch, 0]))
    return sorted(out, key=lambda e: e[0])
