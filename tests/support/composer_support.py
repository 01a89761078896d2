"""Helpers for the live composer tests: a ``notes`` ring logger actor, a composer that
raises, a JACK MIDI receiver process, and performance configs.

Run as a script, this module is the receiver::

    python composer_support.py receive RUN_DIR CLIENT OUT.json READY_FILE

It opens a JACK MIDI input port ``CLIENT:in``, records ``time.monotonic()``
for every message in rtmidi's callback (the JACK process thread), polls the
run's transport block every 0.5 ms to learn the sample → monotonic offset
the same way the composer does, and on SIGTERM writes both to OUT.json.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor
from kelly_actors.bus import note_events
from kelly_actors.composer.actor import ComposerActor

COMPOSER = "kelly_actors.composer.actor:ComposerActor"
RAISING_COMPOSER = "composer_support:RaisingComposerActor"
TONE = "kelly_actors.demo.tone:ToneActor"
NOTE_LOG = "composer_support:NoteLogActor"
SAMPLE_RATE = 48_000
SUPPORT_FILE = Path(__file__).resolve()


@dataclass(frozen=True)
class NoteLogConfig:
    """Attributes: ring to read, path of the JSON-lines log (one event per line)."""

    ring: str = "notes"
    log_path: str = ""


class NoteLogActor(Actor):
    """Reads every event from the ``notes`` ring and appends it to a log file
    (the synth's seat on the ring, for tests)."""

    Config = NoteLogConfig

    def on_start(self) -> None:
        self.reader = self.ctx.reader(self.config.ring)
        self.frame = np.empty(note_events.EVENT_SHAPE, np.float64)
        self.log = open(self.config.log_path, "a", buffering=1)  # noqa: SIM115 (closed in on_stop)

    def wait_on(self) -> list[Any]:
        return [self.reader]

    def step(self) -> None:
        lines = []
        while self.reader.available() and self.reader.read_into(self.frame):
            lines.append(json.dumps([float(x) for x in self.frame]))
        if lines:
            self.log.write("\n".join(lines) + "\n")

    def on_stop(self) -> None:
        self.log.close()


class RaisingComposerActor(ComposerActor):
    """A composer whose first incarnation raises in the step that schedules its third bar,
    while the notes of its first bars still sound."""

    def step(self) -> None:
        super().step()
        if self.ctx.incarnation == 1 and self.bars >= 3:
            raise RuntimeError("the test's composer raises")


def read_note_log(path: Path) -> np.ndarray:
    """The logged events as an (n, 8) float64 array (see note_events for columns)."""
    if not path.exists():
        return np.empty((0, 8))
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return np.array(rows, dtype=np.float64).reshape(-1, 8)


def composer_performance(
    log_path: Path,
    composer_options: dict[str, Any],
    *,
    tone_tempo: float = 120.0,
    composer: str = COMPOSER,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(actors, rings) for tone clock + composer (actor class ``composer``) + note logger."""
    rings = [
        {"name": "tone", "shape": [256, 2], "dtype": "float32", "capacity": 64,
         "policy": "overwrite", "writer": "tone", "readers": ["notelog"]},
        {"name": "notes", "shape": [8], "dtype": "float64", "capacity": 4096,
         "policy": "drop", "writer": "composer", "readers": ["notelog"]},
        {"name": "tempo", "shape": [4], "dtype": "float64", "capacity": 64,
         "policy": "drop", "writer": "composer", "readers": ["tone"]},
    ]  # fmt: skip
    actors = [
        {"name": "tone", "target": TONE, "restart": "permanent",
         "options": {"tempo": tone_tempo, "tempo_ring": "tempo", "amplitude": 0.0}},
        {"name": "composer", "target": composer, "restart": "permanent",
         "depends_on": ["tone"], "shutdown_timeout": 5.0, "options": composer_options},
        {"name": "notelog", "target": NOTE_LOG, "restart": "permanent",
         "options": {"log_path": str(log_path)}},
    ]  # fmt: skip
    return actors, rings


def bar_markers(path: Path) -> list[int]:
    """The ``bar N`` marker numbers in a recording segment, in order."""
    import mido

    midi = mido.MidiFile(str(path))
    return [
        int(m.text.split()[1])
        for m in midi.tracks[0]
        if m.type == "marker" and m.text.startswith("bar ")
    ]


def key_markers(path: Path) -> list[str]:
    import mido

    midi = mido.MidiFile(str(path))
    return [m.text[4:] for m in midi.tracks[0] if m.type == "marker" and m.text.startswith("key ")]


def jack_running() -> bool:
    import subprocess

    try:
        return subprocess.run(["jack_wait", "-c"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# -- the receiver process ------------------------------------------------------


def _receive(run_dir: str, client: str, out_path: str, ready_path: str) -> None:
    import rtmidi

    from kelly_actors.bus.transport import Transport
    from kelly_actors.composer.live.sample_clock import SampleClock
    from kelly_actors.supervisor.rundir import RunDir

    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    received: list[tuple[float, list[int]]] = []
    midi_in = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=client)
    midi_in.set_callback(lambda event, _: received.append((time.monotonic(), event[0])))
    midi_in.open_virtual_port("in")
    Path(ready_path).write_text("ready")
    transport = None
    clock = SampleClock(SAMPLE_RATE)
    observations = 0
    while not stop:
        if transport is None:
            info = RunDir(Path(run_dir)).read()
            if info is not None:
                transport = Transport.attach(f"kelly-{info.tag}-transport")
            else:
                time.sleep(0.01)
                continue
        state = transport.read()
        if state is not None and state.running:
            clock.observe(state.sample_counter, time.monotonic())
            observations += 1
        time.sleep(0.0005)
    midi_in.close_port()
    midi_in.delete()
    if transport is not None:
        transport.close()
    result = {"offset": clock.offset, "observations": observations, "received": received}
    Path(out_path).write_text(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "receive":
        _receive(*sys.argv[2:])
    else:
        sys.exit("usage: composer_support.py receive RUN_DIR CLIENT OUT.json READY_FILE")
