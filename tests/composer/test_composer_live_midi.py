"""Live MIDI through python-rtmidi on JACK (``output = "rtmidi"``): another process
receives the composer's notes on time.

The receiver (tests/support/composer_support.py, python-rtmidi on JACK) is
started first; the composer connects to it. The notes ring's log says what
was meant when (sample times); the receiver says when each message arrived
(``time.monotonic()`` in its JACK callback) and maps samples to time from the
transport on its own, following every change of that map (a stalled clock moves
it). Error = arrival − intended time. The receiver also sends reference notes of
its own through the same path, so the bound on the error is the reference's,
measured in the same run, plus the composer's share.
"""

from __future__ import annotations

import itertools
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
    REFERENCE_CHANNEL,
    REFERENCE_KEY,
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
from kelly_actors.bus.clock import SampleTimeline

pytestmark = [pytest.mark.jack, pytest.mark.slow]
#: What the composer may add to the 99th percentile of the reference sender's timing
#: error: a clock block (5.3 ms at 256 frames / 48 kHz, by which two readers' sample →
#: time estimates can differ) plus a wake-up in whole milliseconds, with room to spare.
SLACK_MS = 8.0
#: The sample → time estimate's window (s): it has forgotten a stall this long after it.
TIMELINE_WINDOW_S = SampleTimeline(SAMPLE_RATE).window_s
#: A rise of the receiver's map (s) that says the clock stood still or skipped.
RISE_S = 0.002
#: How far a note may arrive from its time (s) where the two maps may disagree, beyond
#: the rise that unsettled them: the first downbeat's chord came 8-11 ms late, once
#: over 50 ms, by the receiver's map here.
UNSETTLED_S = 0.3
#: Notes away from every unsettled span that the timing judgement needs (about a tenth
#: of a run's: each rise of the clock map takes about two seconds of notes out).
MIN_SETTLED = 30


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


def stall(pid: int, seconds: float) -> None:
    """Stops process ``pid`` for ``seconds`` (SIGSTOP, then SIGCONT)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)  # the stall itself, not a wait for something
    finally:
        os.kill(pid, signal.SIGCONT)


def _sent_at(history: list[list[float]], sample: float) -> float:
    """Monotonic s at which a sender holding the receiver's sample → time estimate sends
    ``sample``: the first moment ``t`` with ``t ≥ offset(t) + sample / rate``, the offset
    being piecewise constant between the estimate's changes (``history``: (t, offset))."""
    for k, (t, offset) in enumerate(history):
        when = max(t, offset + sample / SAMPLE_RATE)
        if k + 1 == len(history) or when < history[k + 1][0]:
            return when
    raise AssertionError("no clock history")


def _unsettled(history: list[list[float]], first: float) -> list[tuple[float, float, float]]:
    """Spans (monotonic s) in which the composer's sample → time map and the receiver's
    may disagree, with how far (s): the first window after the first note (the
    composer's map rests on a handful of readings, taken while every actor starts), and
    around every rise of the receiver's map by more than RISE_S, by up to the rise (the
    clock stood still or skipped: each process follows it from its own readings within
    a window of it, so the composer's map may move up to a window before the receiver's
    or after it)."""
    spans = [(first, first + TIMELINE_WINDOW_S, UNSETTLED_S)]
    reach = TIMELINE_WINDOW_S + 0.1
    for (_, before), (t, after) in itertools.pairwise(history):
        if after - before > RISE_S:
            spans.append((t - reach, t + reach, UNSETTLED_S + after - before))
    return spans


def _match(
    intended: dict, arrived: dict, unsettled: list[tuple[float, float, float]]
) -> tuple[list[tuple[float, float, bool]], list]:
    """Each intended note-on (by (channel, key), in time order) takes the nearest arrival
    within 50 ms, or inside an unsettled span within UNSETTLED_S plus what the maps may
    disagree by there. Returns ((intended time s, error ms, settled) of each match, the
    missing (key, time) pairs)."""
    matched, missing = [], []
    for pair, times in intended.items():
        got = list(arrived.get(pair, []))
        for t in sorted(times):
            spans = [slack for a, b, slack in unsettled if a <= t <= b]
            window = max(spans) if spans else 0.05
            near = [g for g in got if abs(g - t) < window]
            if not near:
                missing.append((pair, round(t, 3)))
                continue
            g = min(near, key=lambda g, t=t: abs(g - t))
            got.remove(g)
            matched.append((t, (g - t) * 1000.0, not spans))
    return matched, missing


@pytest.mark.parametrize("stall_s", [0.0, 0.15], ids=["steady-clock", "clock-stalled-150ms"])
def test_a_jack_midi_client_receives_the_notes_on_time(
    run_dir: Path, receiver, stall_s: float
) -> None:
    """With ``stall_s``, the clock (the tone actor) is stopped that long once after two
    bars: it skips ahead, every later sample is that much later by the wall clock, and
    the composer's sample → time map must follow (a map that only creeps up by 200 ppm
    sent every later note 150 ms early)."""
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
        if stall_s:
            perf.wait_actor("composer", lambda a: a["telemetry"].get("bars", 0) >= 2, 40, "bars")
            stall(perf.actor("tone")["pid"], stall_s)
        perf.wait_actor(
            "composer", lambda a: a["telemetry"].get("bars", 0) >= 6, 40, "six bars composed"
        )
        stopped_at = time.monotonic()
        composer = perf.actor("composer")["telemetry"]
        assert perf.stop() == 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert composer["midi_port"].endswith(f"{client}:in")
    result = json.loads(out.read_text())
    history = result["history"]
    assert result["observations"] > 1000

    arrived: dict[tuple[int, int], list[float]] = defaultdict(list)
    for when, message in result["received"]:
        if message[0] & 0xF0 == 0x90 and message[2] > 0:
            arrived[(message[0] & 0x0F, message[1])].append(when)
    reference = {(REFERENCE_CHANNEL, REFERENCE_KEY): result["reference_sent"]}
    ref_matched, ref_missing = _match(reference, arrived, [])

    events = read_note_log(run_dir / "notes.jsonl")
    ons = events[events[:, note_events.KIND] == note_events.EventKind.NOTE_ON]
    assert REFERENCE_CHANNEL not in ons[:, note_events.CHANNEL]
    intended: dict[tuple[int, int], list[float]] = defaultdict(list)
    for event in ons:
        due = _sent_at(history, event[note_events.TIME])
        if due < stopped_at - 0.1:  # the later ones may still have been queued at the stop
            intended[(int(event[note_events.CHANNEL]), int(event[note_events.KEY]))].append(due)
    if stall_s:  # the stall shows in the receiver's map as a rise of about its length
        rise = max(history[k][1] - history[0][1] for k in range(len(history)))
        assert rise > stall_s / 2, (rise, stall_s)
    first = min(min(times) for times in intended.values())
    unsettled = _unsettled(history, first)
    matched, missing = _match(intended, arrived, unsettled)

    # Stated tolerance: python-rtmidi's JACK output (a ring buffer its process thread
    # drains) lost one note-on of 200-odd once in a clean-clone CI run under load; one
    # in a hundred may be missing, beyond what the reference lost in the same run. The
    # frame-exact path (output = "jack", written from the audio actor's compiled
    # callback) loses none: test_composer_live_midi_jack.py.
    total = sum(len(t) for t in intended.values())
    allowed = total // 100 + round(total * len(ref_missing) / max(1, len(result["reference_sent"])))
    assert len(missing) <= allowed, f"{len(missing)} of {total} notes missing: {missing[:10]}"
    # Notes in an unsettled span (the first second: the first downbeat's chord came 8-11
    # ms late, once over 50 ms, by the receiver's map here; a stalled clock) must arrive;
    # their timing is not judged.
    errors = np.array([e for _, e, settled in matched if settled])
    ref = np.array([e for _, e, _ in ref_matched])
    assert len(errors) >= MIN_SETTLED and len(ref) >= 50, (
        f"{len(errors)} notes away from the clock map's {len(unsettled) - 1} rise(s), "
        f"{len(ref)} reference notes: too few to judge timing"
    )
    p50, p99, worst = np.percentile(errors, 50), np.percentile(errors, 99), np.abs(errors).max()
    ref_p99 = np.percentile(ref, 99)
    late_max = composer["midi"]["late_ms_max"]
    print(
        f"\nMIDI timing over JACK: {len(errors)} notes, error p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max |error| {worst:.2f} ms; the composer's own lateness at most "
        f"{late_max:.2f} ms; reference sender ({len(ref)} notes): p50 "
        f"{np.percentile(ref, 50):.2f} ms, p99 {ref_p99:.2f} ms; {len(unsettled) - 1} rise(s) "
        f"of the clock map, {len(missing)} of {total} notes missing (reference "
        f"{len(ref_missing)} of {len(result['reference_sent'])})"
    )
    # As late as the same path is for a sender without a composer (the reference), or as
    # the composer says it woke, plus the composer's share: the two processes' sample →
    # time estimates may differ by a clock block, and its loop wakes in whole ms.
    assert p99 <= max(ref_p99, late_max) + SLACK_MS, (p99, ref_p99, late_max)
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
