"""The live audio path with real processes: JACK, crashes in the graph, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from audio_support import cents, live_graph_toml, peak_frequency
from performance import Performance, kelly, wait_until

from kelly_actors.audio import wav
from kelly_actors.bus.namespace import runtime_dir

A4 = 440.0


#: Our client may miss at most this many cycles more than the compiled reference client
#: beside it in the same run: 1.5× its count plus 5 (the graph is re-sorted while the
#: performance's client activates and connects, and a reordered cycle can be lost).
MISS_RATIO_TOLERANCE = 1.5
MISS_SLACK = 5


def _start_reference(seconds: float) -> subprocess.Popen:
    """The compiled reference client, its output where ours goes (system:playback_1)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelly_actors.audio.native.reference", "--seconds", str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _reference_figures(proc: subprocess.Popen) -> dict:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_twenty_seconds_through_jack_miss_no_more_cycles_than_a_compiled_client_beside_them(
    jack, run_dir
) -> None:
    record = run_dir / "rec"
    config = live_graph_toml(
        audio={"backend": "jack"},
        synth={"preset": "sine"},
        notes={"key": 69, "seconds": 0.0},
        record_dir=str(record),
    )
    reference = _start_reference(120)
    try:
        with Performance(run_dir, config, ["--duration", "20"]) as perf:
            perf.wait_ready()
            wait_until(
                lambda: perf.actor("audio")["telemetry"].get("callbacks", 0) > 10, 10, "callbacks"
            )
            assert perf.actor("audio")["telemetry"]["callback"].startswith("compiled")
            assert perf.proc.wait(60) == 0
    finally:
        machine = _reference_figures(reference)
    summary = json.loads((record / "run.json").read_text())
    ours = summary["audio"]
    assert ours["own_overruns"] == 0, ours
    assert ours["missed_cycles"] <= MISS_RATIO_TOLERANCE * machine["missed_cycles"] + MISS_SLACK, (
        ours,
        machine,
    )
    assert ours["callback_p99_ms"] <= 0.1 * ours["period_ms"], (ours, machine)
    samples, info = wav.read(record / "output.wav")
    assert info.sample_rate == 48_000
    held = samples[info.sample_rate * 5 : info.sample_rate * 15, 0]
    assert np.sqrt(np.mean(held**2)) > 1e-3, "the output is silent"
    assert abs(cents(peak_frequency(held, info.sample_rate), A4)) <= 5.0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_jack_client_runs_the_python_callback_when_told_and_says_so(jack, run_dir) -> None:
    record = run_dir / "rec"
    config = live_graph_toml(
        audio={"backend": "jack", "jack": {"compiled_callback": False}},
        synth={"preset": "sine"},
        notes={"key": 69, "seconds": 0.0},
        record_dir=str(record),
    )
    with Performance(run_dir, config, ["--duration", "5"]) as perf:
        perf.wait_ready()
        wait_until(
            lambda: perf.actor("audio")["telemetry"].get("callbacks", 0) > 10, 10, "callbacks"
        )
        telemetry = perf.actor("audio")["telemetry"]
        assert telemetry["callback"] == "python (configured: compiled_callback = false)"
        assert "own_overruns" not in telemetry  # only the compiled callback classes its cycles
        assert perf.proc.wait(60) == 0
    samples, info = wav.read(record / "output.wav")
    held = samples[info.sample_rate * 1 : info.sample_rate * 4, 0]
    assert abs(cents(peak_frequency(held, info.sample_rate), A4)) <= 5.0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_portaudio_device_through_jack_plays_in_tune_with_the_python_callback(
    jack, run_dir
) -> None:
    record = run_dir / "rec"
    config = live_graph_toml(
        audio={"backend": "sounddevice", "host_api": "JACK", "device": "system"},
        synth={"preset": "sine"},
        notes={"key": 69, "seconds": 0.0},
        record_dir=str(record),
    )
    with Performance(run_dir, config, ["--duration", "6"]) as perf:
        perf.wait_ready()
        wait_until(
            lambda: perf.actor("audio")["telemetry"].get("callbacks", 0) > 10, 10, "callbacks"
        )
        telemetry = perf.actor("audio")["telemetry"]
        assert telemetry["backend"].startswith("sounddevice")
        assert telemetry["callback"] == "python"
        if telemetry["callback_priority"].startswith("SCHED_FIFO"):
            # The thread that shares the callback's GIL runs real-time too, below it.
            assert telemetry["control_priority"] == "SCHED_FIFO 60"
        assert perf.proc.wait(60) == 0
    samples, info = wav.read(record / "output.wav")
    held = samples[info.sample_rate * 2 : info.sample_rate * 5, 0]
    assert np.sqrt(np.mean(held**2)) > 1e-3, "the output is silent"
    assert abs(cents(peak_frequency(held, info.sample_rate), A4)) <= 5.0


def _max_step(x: np.ndarray) -> float:
    return float(np.max(np.abs(np.diff(x))))


@pytest.mark.slow
def test_killing_the_synth_never_stops_the_output_and_makes_no_click(run_dir) -> None:
    record = run_dir / "rec"
    config = live_graph_toml(synth={"preset": "sine"}, notes={"key": 69}, record_dir=str(record))
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        wait_until(
            lambda: perf.actor("synth")["telemetry"].get("active_voices") == 1, 10, "the note"
        )
        time.sleep(1.0)  # a stretch of steady tone to compare against; not a wait for a condition
        for _ in range(2):
            old = perf.actor("synth")["pid"]
            before = perf.actor("audio")["telemetry"]["callbacks"]
            os.kill(old, signal.SIGKILL)
            perf.wait_actor(
                "synth",
                lambda a, old=old: a["pid"] not in (None, old) and a["state"] == "ready",
                15,
                "a new synth",
            )
            wait_until(
                lambda b=before: perf.actor("audio")["telemetry"]["callbacks"] > b + 200,
                15,
                "more audio",
            )
        audio = perf.actor("audio")
        assert audio["restarts"] == 0
        assert audio["telemetry"]["underruns"] > 0  # the gap was bridged by the fallback
        assert perf.stop() == 0
        underruns = [e for e in perf.events() if e["event"] == "underrun"]
        assert underruns and "audio_out" in underruns[0]["detail"]["blame"]
    samples, _ = wav.read(record / "output.wav")
    mono = samples[:, 0]
    summary = json.loads((record / "run.json").read_text())
    # The output never stopped: every callback produced a block and every block was
    # recorded (the figures are the last heartbeat's, a moment before the stop), and
    # the clock ran on through both kills (callbacks grew after each, above).
    audio_figures = summary["actors"]["audio"]
    assert audio_figures["recording_dropped_frames"] == 0
    assert mono.size >= audio_figures["callbacks"] * 256
    tone_step = _max_step(mono[np.flatnonzero(np.abs(mono) > 0)[0] + 4800 :][:4800])
    # Stated click level: no sample-to-sample step larger than the steady tone's own
    # largest step plus 1 % of full scale, anywhere in the recording.
    assert _max_step(mono) <= tone_step + 0.01


def test_killing_the_features_actor_leaves_the_rest_playing(run_dir) -> None:
    config = live_graph_toml(notes={"key": 60})
    with Performance(run_dir, config) as perf:
        before = {a["name"]: a["pid"] for a in perf.wait_ready()["actors"]}
        calls = perf.actor("audio")["telemetry"]["callbacks"]
        os.kill(before["features"], signal.SIGKILL)
        perf.wait_actor(
            "features",
            lambda a: a["pid"] != before["features"] and a["state"] == "ready",
            15,
            "features back",
        )
        wait_until(
            lambda: perf.actor("features")["telemetry"].get("hops", 0) > 10, 15, "new frames"
        )
        after = {a["name"]: a for a in perf.status()["actors"]}
        for name in ("audio", "synth", "notes"):
            assert after[name]["pid"] == before[name] and after[name]["restarts"] == 0
        assert after["audio"]["telemetry"]["callbacks"] > calls
        assert perf.stop() == 0


def _kelly_run(run_dir, config_text: str) -> subprocess.CompletedProcess:
    path = run_dir / "bad.toml"
    path.write_text(config_text)
    return kelly("run", str(path), "--duration", "5", run_dir=run_dir)


def _bad_wav(run_dir) -> str:
    path = run_dir / "in44k.wav"
    writer = wav.WavWriter(path, 44_100, 1)
    writer.write(np.zeros((4410, 1), np.float32))
    writer.close()
    return str(path)


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (
            {"backend": "sounddevice", "device": "no-such-device-xyz"},
            "no audio device matching 'no-such-device-xyz'",
        ),
        (
            {"backend": "sounddevice", "host_api": "NoSuchHostAPI"},
            "no host API matching 'NoSuchHostAPI'",
        ),
        ({"sample_rate": 22_050}, "sample_rate must be one of 44100, 48000, 96000, got 22050"),
        ({"block_size": 32}, "block_size must be within 64…2048, got 32"),
        ({"backend": "file", "input_file": "/nonexistent.wav"}, "cannot read"),
        (
            {"backend": "file", "input_file": "BAD_WAV"},
            "recorded at 44100 Hz, the performance runs at 48000 Hz",
        ),
    ],
)
def test_bad_audio_settings_fail_at_start_with_the_reason_and_nothing_half_started(
    run_dir, audio, message
) -> None:
    if audio.get("input_file") == "BAD_WAV":
        audio = {**audio, "input_file": _bad_wav(run_dir)}
    before = {p.name for p in runtime_dir().glob("kelly-*")}
    done = _kelly_run(run_dir, live_graph_toml(audio=audio))
    assert done.returncode == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (run_dir / "supervisor.json").exists()
    assert {p.name for p in runtime_dir().glob("kelly-*")} <= before  # nothing new left


def test_a_ring_of_the_wrong_shape_for_the_audio_block_is_refused_at_start(run_dir) -> None:
    config = live_graph_toml(audio={"block_size": 512})  # rings declared for 256
    done = _kelly_run(run_dir, config.replace("block_size = 512", "block_size = 512", 1))
    assert done.returncode == 1
    assert (
        "ring 'audio_in' carries float32[256, 1], the audio actor needs float32[512, 1]"
        in done.stderr
    )


def _connections(port: str) -> set[str]:
    done = subprocess.run(["jack_lsp", "-c", port], capture_output=True, text=True, timeout=10)
    return {line.strip() for line in done.stdout.splitlines()[1:] if line.startswith(" ")}


def _saved_connections(perf: Performance) -> dict[str, list[str]]:
    return perf.actor("audio")["control_state"].get("jack_connections", {})


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_killed_jack_audio_actor_comes_back_connected_where_its_ports_were(jack, run_dir) -> None:
    config = live_graph_toml(audio={"backend": "jack"}, synth={"preset": "sine"}, notes={"key": 69})
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        wait_until(lambda: _connections("kelly:out_1") == {"system:playback_1"}, 10, "out_1")
        # A performer patches out_1 to a second output by hand.
        subprocess.run(["jack_connect", "kelly:out_1", "system:playback_2"], check=True, timeout=10)
        patched = {"system:playback_1", "system:playback_2"}
        wait_until(
            lambda: set(_saved_connections(perf).get("out_1", [])) == patched,
            10,
            "the patch in the audio actor's saved state",
        )
        old = perf.actor("audio")["pid"]
        os.kill(old, signal.SIGKILL)
        perf.wait_actor(
            "audio", lambda a: a["pid"] not in (None, old) and a["state"] == "ready", 15, "audio"
        )
        wait_until(lambda: _connections("kelly:out_1") == patched, 10, "out_1 reconnected")
        assert _connections("kelly:out_2") == {"system:playback_2"}
        assert perf.stop() == 0
