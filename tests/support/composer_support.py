"""Helpers for the live composer tests: a ``notes`` ring logger actor, a composer that
raises, a JACK MIDI receiver process, and performance configs.

Run as a script, this module is the receiver::

    python composer_support.py receive RUN_DIR CLIENT OUT.json READY_FILE

It opens a JACK MIDI input port ``CLIENT:in``, records ``time.monotonic()``
for every message in rtmidi's callback (the JACK process thread), polls the
run's transport block every 0.5 ms to learn the sample → monotonic offset
the same way the composer does (every change of it, since a stalled clock
moves it), sends reference notes of its own to the same port through
python-rtmidi, and on SIGTERM writes all of it to OUT.json.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
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


#: The receiver's own reference sender: channel (0-based, one the composer never uses),
#: key and spacing (s) of its notes.
REFERENCE_CHANNEL, REFERENCE_KEY, REFERENCE_SPACING_S = 15, 60, 0.023


def _send_reference(client: str, stop: threading.Event, sent: list[float]) -> None:
    """Sends a note-on every REFERENCE_SPACING_S to ``client:in`` through python-rtmidi on
    JACK when the wall clock says so, and notes when each was due: the same path and the
    same kind of wake-up as the composer's, without the composer (a reference measured
    in the same run)."""
    import rtmidi

    out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name=f"{client}-ref")
    ports = out.get_ports()
    out.open_port(next(k for k, p in enumerate(ports) if p.endswith(f"{client}:in")))
    due = time.monotonic() + 0.1
    velocity = 1
    while not stop.wait(max(0.0, due - time.monotonic())):
        out.send_message([0x90 | REFERENCE_CHANNEL, REFERENCE_KEY, velocity])
        out.send_message([0x80 | REFERENCE_CHANNEL, REFERENCE_KEY, 0])
        sent.append(due)
        velocity = velocity % 127 + 1
        due += REFERENCE_SPACING_S
    # The port stays open: the process exits without closing its JACK clients (_receive).


def _receive(run_dir: str, client: str, out_path: str, ready_path: str) -> None:
    import rtmidi

    from kelly_actors.bus.clock import SampleTimeline
    from kelly_actors.bus.transport import Transport
    from kelly_actors.supervisor.rundir import RunDir

    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    received: list[tuple[float, list[int]]] = []
    midi_in = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=client)
    midi_in.set_callback(lambda event, _: received.append((time.monotonic(), event[0])))
    midi_in.open_virtual_port("in")
    sent: list[float] = []
    reference = threading.Thread(target=_send_reference, args=(client, stop, sent))
    reference.start()
    Path(ready_path).write_text("ready")
    transport = None
    timeline = SampleTimeline(SAMPLE_RATE)
    #: (monotonic s, offset s) whenever the estimate moved by more than 0.1 ms.
    history: list[tuple[float, float]] = []
    observations = 0
    while not stop.wait(0.0005):
        if transport is None:
            info = RunDir(Path(run_dir)).read()
            if info is not None:
                transport = Transport.attach(f"kelly-{info.tag}-transport")
            else:
                stop.wait(0.01)
            continue
        state = transport.read()
        if state is not None and state.running:
            now = time.monotonic()
            timeline.observe(state.sample_counter, now)
            observations += 1
            if not history or abs(timeline.offset - history[-1][1]) > 1e-4:
                history.append((now, timeline.offset))
    reference.join()
    if transport is not None:
        transport.close()
    midi_in.cancel_callback()
    result = {
        "history": history,
        "observations": observations,
        "received": received,
        "reference_sent": sent,
    }
    Path(out_path).write_text(json.dumps(result))
    # No close_port/delete: python-rtmidi holds the GIL while JACK unregisters a port, and
    # JACK waits for this client's cycle, whose MIDI-in callback may be waiting for the GIL
    # (a CI run hung here past the test's 10 s). Leaving the process closes the clients.
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "receive":
        _receive(*sys.argv[2:])
    else:
        sys.exit("usage: composer_support.py receive RUN_DIR CLIENT OUT.json READY_FILE")
