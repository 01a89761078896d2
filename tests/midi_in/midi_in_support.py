"""A lean real performance with MIDI input (a tone clock, the composer, the MIDI input actor
on a JACK port of its own) and a JACK MIDI sender that plays into it."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from performance import Performance, wait_until
from toml_config import performance_toml

COMPOSER = "kelly_actors.composer.actor:ComposerActor"
TONE = "kelly_actors.demo.tone:ToneActor"
MIDI_IN = "kelly_actors.midi_in.actor:MidiInActor"
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
    """A JACK MIDI output in the test process: what :meth:`send` queues leaves in the next
    cycles, at most ``per_cycle`` events a cycle, one event per message given."""

    def __init__(self, name: str, per_cycle: int = 16) -> None:
        import jack

        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.midi_outports.register("out")
        self.queue: deque[bytes] = deque()
        self.per_cycle = per_cycle
        self.sent = 0
        self.idle = threading.Event()
        self.idle.set()
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        self.port.clear_buffer()
        for offset in range(min(self.per_cycle, len(self.queue), frames)):
            data = self.queue.popleft()
            try:
                self.port.write_midi_event(offset, data)
            except Exception:  # the cycle's buffer is full: the rest waits a cycle
                self.queue.appendleft(data)
                break
            self.sent += 1
        if not self.queue:
            self.idle.set()

    def connect(self, port: str) -> None:
        self.client.connect(self.port, port)

    def send(self, messages: Iterable[bytes | list[int]]) -> None:
        self.idle.clear()
        self.queue.extend(bytes(m) for m in messages)

    def drain(self, timeout: float = 20.0) -> None:
        """Wait until every queued message has left."""
        wait_until(lambda: self.idle.is_set(), timeout, "the sender's queue to empty")

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()

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
