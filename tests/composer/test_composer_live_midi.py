"""Live MIDI through python-rtmidi on JACK (``output = "rtmidi"``): another process
receives the composer's notes on time.

The receiver (tests/support/composer_support.py, python-rtmidi on JACK) is
started first; the composer connects to it. The notes ring's log says what
was meant when (sample times); the receiver says when each message arrived
(``time.monotonic()`` in its JACK callback) and maps samples to time from the
transport on its own. Error = arrival − intended time.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import rtmidi
from composer_support import (
    SAMPLE_RATE,
    SUPPORT_FILE,
    composer_performance,
    jack_running,
    read_note_log,
)
from performance import Performance, ready_process
from service_skip import skip_or_fail
from toml_config import performance_toml

from kelly_actors.bus import note_events

pytestmark = [pytest.mark.jack, pytest.mark.slow]
#: Bound on the 99th percentile of the timing error: one JACK period (5.3 ms
#: at 256 frames / 48 kHz) plus the loop's wake-up jitter, with room to spare.
P99_BOUND_MS = 15.0


@pytest.fixture
def jack() -> None:
    if not jack_running():
        skip_or_fail("no JACK server running (start one with scripts/jack)")


@pytest.fixture
def receiver(run_dir: Path, jack: None):
    client = f"kt-recv-{os.getpid()}"
    out, ready = run_dir / "received.json", run_dir / "receiver.ready"
    argv = [sys.executable, str(SUPPORT_FILE), "receive", str(run_dir), client, str(out),
            str(ready)]  # fmt: skip
    with ready_process(argv, ready, "the receiver") as proc:
        yield client, proc, out


def test_a_jack_midi_client_receives_the_notes_on_time(run_dir: Path, receiver) -> None:
    client, proc, out = receiver
    options = {
        "seed": 8,
        "midi": {"api": "jack", "client": f"kt-comp-{os.getpid()}", "connect": f"{client}:in"},
        "emotion": {"arousal": 0.9},  # 168 bpm, dense: plenty of notes
        "recording": {"directory": "off"},
    }
    actors, rings = composer_performance(run_dir / "notes.jsonl", options)
    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        perf.wait_ready()
        actor = perf.wait_actor(
            "composer", lambda a: a["telemetry"].get("bars", 0) >= 6, 40, "six bars composed"
        )
        assert actor["telemetry"]["midi_port"].endswith(f"{client}:in")
        stopped_at = time.monotonic()
        assert perf.stop() == 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    result = json.loads(out.read_text())
    offset = result["offset"]
    assert offset is not None and result["observations"] > 1000

    events = read_note_log(run_dir / "notes.jsonl")
    ons = events[events[:, note_events.KIND] == note_events.EventKind.NOTE_ON]
    due = offset + ons[:, note_events.TIME] / SAMPLE_RATE
    # Notes due before the stop request were all sent (the rest were still queued).
    ons, due = ons[due < stopped_at - 0.1], due[due < stopped_at - 0.1]
    intended: dict[tuple[int, int], list[float]] = defaultdict(list)
    for event, when in sorted(zip(ons, due, strict=True), key=lambda p: p[1]):
        intended[(int(event[note_events.CHANNEL]), int(event[note_events.KEY]))].append(when)
    arrived: dict[tuple[int, int], list[float]] = defaultdict(list)
    for when, message in result["received"]:
        if message[0] & 0xF0 == 0x90 and message[2] > 0:
            arrived[(message[0] & 0x0F, message[1])].append(when)
    errors_ms, missing = [], []
    for pair, times in intended.items():
        got = list(arrived.get(pair, []))
        for t in times:  # each intended note-on takes the nearest arrival within 50 ms
            near = [g for g in got if abs(g - t) < 0.05]
            if not near:
                missing.append((pair, round(t, 3)))
                continue
            g = min(near, key=lambda g, t=t: abs(g - t))
            got.remove(g)
            errors_ms.append((g - t) * 1000.0)
    # Stated tolerance: python-rtmidi's JACK output (a ring buffer its process thread
    # drains) lost one note-on of 200-odd once in a clean-clone CI run under load; one
    # in a hundred may be missing, more is a failure. The frame-exact path (output =
    # "jack", written from the audio actor's compiled callback) loses none:
    # test_composer_live_midi_jack.py.
    total = sum(len(t) for t in intended.values())
    assert len(missing) <= total // 100, f"{len(missing)} of {total} notes missing: {missing}"
    errors = np.array(errors_ms)
    p50, p99, worst = np.percentile(errors, 50), np.percentile(errors, 99), np.abs(errors).max()
    print(
        f"\nMIDI timing over JACK: {len(errors)} notes, error p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max |error| {worst:.2f} ms"
    )
    assert len(errors) >= 50
    assert p99 < P99_BOUND_MS
    assert errors.min() > -2.0  # never sent noticeably early


def test_the_virtual_port_appears_in_the_jack_graph(run_dir: Path, jack: None) -> None:
    name = f"kt-virt-{os.getpid()}"
    options = {"midi": {"api": "jack", "client": name}, "recording": {"directory": "off"}}
    actors, rings = composer_performance(run_dir / "notes.jsonl", options)
    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        actor = perf.wait_actor(
            "composer",
            lambda a: a["state"] == "ready" and a["telemetry"].get("midi_port"),
            30,
            "the composer's MIDI port",
        )
        probe = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="kt-probe")
        try:
            assert actor["telemetry"]["midi_port"] in probe.get_ports()
        finally:
            probe.delete()
        assert perf.stop() == 0
