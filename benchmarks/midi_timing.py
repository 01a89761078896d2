"""Live MIDI timing: frame-exact JACK MIDI vs python-rtmidi, same run, same receiver.

One process plays the audio actor's part: the compiled JACK callback (a
:class:`~kelly_actors.audio.native.engine.NativeEngine` on
:class:`~kelly_actors.audio.backends.jack.JackBackend`) with the ``midi`` ring and the
MIDI port ``midi_out``, and the composer's part twice over, with the same notes:

* ``jack``: every note written into the ``midi`` ring ahead of time, stamped with its
  sample (:class:`~kelly_actors.composer.live.jack_midi.JackMidiOut`), written by the
  callback at its frame;
* ``rtmidi``: the composer's own rtmidi path (:class:`~kelly_actors.composer.live.outputs.
  BarOutputs` with ``output = "rtmidi"``, ``api = "jack"``), each note sent by a loop that
  wakes when its time comes by the transport mapped to ``time.monotonic()``
  (:class:`~kelly_actors.bus.clock.SampleTimeline`), as the composer does.

A receiver in another process (``tests/support/jack_midi_receiver.py``, JACK-Client, the
one the JACK MIDI tests use) has one MIDI input per path
and times every event in JACK frames. The callback says which JACK frame played which
transport sample (``MIDI_FRAME_OFFSET``: JACK frame − sample of its last cycle), so the
error of a note is ``received frame − (its sample + frame offset)``, in ms at the server's rate: the
wall clock plays no part in the measurement. Figures: p50, p99 and max of |error|.

    python benchmarks/midi_timing.py [--quick]    # 60 s, or 12 s with --quick

Needs a JACK server; starts the dummy one (scripts/jack) when none runs, and stops it
after. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RECEIVER = REPO / "tests" / "support" / "jack_midi_receiver.py"

from kelly_actors.audio.backends.jack import JackBackend, open_client  # noqa: E402
from kelly_actors.audio.native import layout as L  # noqa: E402
from kelly_actors.audio.native.engine import NativeEngine  # noqa: E402
from kelly_actors.bus import midi_wire as wire  # noqa: E402
from kelly_actors.bus.clock import MusicalClock, SampleTimeline  # noqa: E402
from kelly_actors.bus.namespace import RunNamespace  # noqa: E402
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter  # noqa: E402
from kelly_actors.bus.transport import Transport  # noqa: E402
from kelly_actors.composer.config import ComposerConfig, MidiOptions  # noqa: E402
from kelly_actors.composer.live.jack_midi import JackMidiOut  # noqa: E402
from kelly_actors.composer.live.outputs import SEND_EARLY_S, BarOutputs  # noqa: E402

WRAP = 1 << 32
#: How far ahead (s) notes go into the ring: about a bar, as the composer writes them.
AHEAD_S = 1.0
PATHS = ("jack", "rtmidi")


# ----------------------------------------------------------------- the server
def jack_running() -> bool:
    done = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True, timeout=10)
    return done.returncode == 0 and "running" in done.stdout


def start_server() -> int | None:
    """The PID of a dummy server started here, or None when one already ran."""
    if jack_running():
        return None
    done = subprocess.run(
        [str(REPO / "scripts" / "jack")], capture_output=True, text=True, timeout=60, check=True
    )
    return int(done.stdout.strip()) if done.stdout.strip() else None


# ----------------------------------------------------------------- the run
class Bench:
    """The callback with its ring and port, both senders, and the receiver."""

    def __init__(self, tmp: Path, seconds: float) -> None:
        probe = open_client(f"kelly-bench-probe-{os.getpid()}")
        self.rate, self.block = probe.samplerate, probe.blocksize
        probe.close()
        self.seconds = seconds
        self.ns = RunNamespace.create()
        ring_name = self.ns.segment_name("midi")
        self.ring = Ring.create(
            ring_name, RingSpec("midi", wire.SHAPE, wire.DTYPE, 8192, policy="drop")
        )
        self.transport = Transport.create(self.ns.segment_name("transport"))
        self.engine = NativeEngine(
            MusicalClock(self.rate, self.block), self.transport, None, None, self.block
        )
        self.rx = f"kelly-bench-rx-{os.getpid()}"
        self.out_path, ready = tmp / "received.json", tmp / "ready"
        # The receiver the JACK MIDI tests use: inputs ``jack`` and ``rtmidi``, one per path.
        self.receiver = subprocess.Popen(
            [sys.executable, str(RECEIVER), self.rx, ",".join(PATHS), str(self.out_path),
             str(ready)]
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.receiver.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the receiver did not start")
            time.sleep(0.02)
        self.backend = JackBackend(
            self.rate, self.block, input_channels=0, client_name=f"kelly-bench-{os.getpid()}",
            midi_reader=RingReader.attach(ring_name, 0), midi_port="midi_out",
            connect_midi=(f"{self.rx}:jack",),
        )  # fmt: skip
        self.backend.start_engine(self.engine)
        self.jack_out = JackMidiOut("midi")
        self.jack_out.attach(RingWriter.attach(ring_name))
        midi = MidiOptions(
            api="jack", client=f"kelly-bench-rt-{os.getpid()}", connect=f"{self.rx}:rtmidi"
        )
        self.rtmidi = BarOutputs(ComposerConfig(midi=midi), {})
        self.rtmidi.open_midi(time.monotonic())
        if not self.rtmidi.midi.is_open:
            raise SystemExit(f"rtmidi: {self.rtmidi.problems.get('midi')}")
        #: (transport sample, frame offset) whenever the offset changed (a skipped cycle).
        self.mappings: list[tuple[int, int]] = []

    def _note_mapping(self, sample: int) -> None:
        if self.engine.callbacks < 2:
            return
        offset = int(self.engine.words[L.MIDI_FRAME_OFFSET])
        if not self.mappings or self.mappings[-1][1] != offset:
            self.mappings.append((sample, offset))

    def run(self) -> dict[str, float | int]:
        rng = random.Random(14)
        clock = SampleTimeline(self.rate)
        wait_until = time.monotonic() + 5
        while (state := self.transport.read()) is None or not state.running:
            if time.monotonic() > wait_until:
                raise SystemExit("the callback does not run")
            time.sleep(0.005)
        start = state.sample_counter + self.rate // 2
        # Notes 20–60 ms apart, each at a random frame: (sample, note, velocity).
        notes, t = [], start
        while t < start + self.seconds * self.rate:
            t += rng.randint(self.rate // 50, self.rate * 3 // 50)
            k = len(notes)
            notes.append((t, k % 128, 1 + (k // 128) % 127))
        written = 0
        end = notes[-1][0] + self.rate // 2
        while True:
            now = time.monotonic()
            state = self.transport.read()
            if state is not None and state.running:
                clock.observe(state.sample_counter, now)
                self._note_mapping(state.sample_counter)
            now_sample = clock.sample_at(now)
            if now_sample > end:
                break
            # jack: about a bar ahead, stamped; rtmidi: queued, each sent when due.
            while written < len(notes) and notes[written][0] < now_sample + AHEAD_S * self.rate:
                sample, note, velocity = notes[written]
                self.jack_out.schedule(sample, [0x90, note, velocity])
                self.rtmidi.pending_midi.append((sample, bytes([0x90, note, velocity])))
                written += 1
            self.rtmidi.send_due_midi(now_sample, self.rate)
            due = self.rtmidi.next_midi_sample()
            wake = now + 0.05 if due is None else clock.time_of(due) - SEND_EARLY_S
            time.sleep(max(0.0, min(wake, now + 0.05) - time.monotonic()))
        return self._figures(notes)

    def _figures(self, notes: list[tuple[int, int, int]]) -> dict[str, float | int]:
        self.receiver.send_signal(signal.SIGTERM)
        self.receiver.wait(10)
        events = json.loads(self.out_path.read_text())["events"]
        ident = {(note, velocity): sample for sample, note, velocity in notes}
        figures: dict[str, float | int] = {"notes": len(notes)}
        for k, path in enumerate(PATHS):
            errors = np.array(
                [
                    self._error_frames(frame, ident[(message[1], message[2])])
                    for port, frame, _offset, message in events
                    if port == k and message[0] == 0x90 and (message[1], message[2]) in ident
                ],
                np.int64,
            )
            ms = np.abs(errors) / self.rate * 1e3
            figures[f"{path}_received"] = len(errors)
            for name, value in (("p50", 50), ("p99", 99), ("max", 100)):
                figures[f"{path}_{name}_ms"] = (
                    round(float(np.percentile(ms, value)), 4) if len(ms) else -1.0
                )
            figures[f"{path}_exact_frame_fraction"] = (
                round(float(np.mean(errors == 0)), 4) if len(errors) else 0.0
            )
        w = self.engine.words
        figures.update(
            sample_rate=self.rate,
            period_ms=round(self.block / self.rate * 1e3, 3),
            mapping_changes=max(0, len(self.mappings) - 1),
            jack_late=int(w[L.MIDI_LATE]),
            jack_buffer_full=int(w[L.MIDI_FULL]),
            xruns=self.engine.xruns,
        )
        return figures

    def _error_frames(self, frame: int, sample: int) -> int:
        """``frame − (sample + offset)``, with the offset in force at ``sample``."""
        offset = self.mappings[0][1] if self.mappings else 0
        for since, value in self.mappings:
            if since <= sample:
                offset = value
        diff = (frame - sample - offset) % WRAP
        return diff - WRAP if diff >= WRAP // 2 else diff

    def close(self) -> None:
        self.rtmidi.close()
        self.backend.stop()
        self.engine.close()
        if self.receiver.poll() is None:
            self.receiver.kill()
            self.receiver.wait(5)
        if self.jack_out.writer is not None:
            self.jack_out.writer.close()
        self.transport.close()
        self.ring.close()
        self.ns.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 s of notes instead of 60 s")
    args = parser.parse_args()
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    server = start_server()
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="kelly-midi-bench-") as tmp:
            bench = Bench(Path(tmp), 12.0 if args.quick else 60.0)
            try:
                figures = bench.run()
            finally:
                bench.close()
    finally:
        if server is not None:
            os.kill(server, signal.SIGTERM)
    print(
        f"JACK MIDI (frame-exact): p50 {figures['jack_p50_ms']} ms, p99 "
        f"{figures['jack_p99_ms']} ms, max {figures['jack_max_ms']} ms; python-rtmidi: p50 "
        f"{figures['rtmidi_p50_ms']} ms, p99 {figures['rtmidi_p99_ms']} ms, max "
        f"{figures['rtmidi_max_ms']} ms ({figures['notes']} notes each, period "
        f"{figures['period_ms']} ms)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
