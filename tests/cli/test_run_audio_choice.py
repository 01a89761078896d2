"""The built-in performance without ``--audio-device``: heard through a running JACK server,
and where there is no device, silent, saying so, with ``scripts/run`` keeping a take."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from jack_server import jack_env, jack_server
from performance import REPO, env_with_support, kelly
from run_output import Output
from test_run_console import START_S, stop_run

from kelly_actors.audio import wav
from kelly_actors.audio.backends.choice import AudioChoice
from kelly_actors.cli.run import _record_dir, audio_choice, choose_audio
from kelly_actors.config import performance

TAKE_NAME = re.compile(r"^\d{4}-\d\d-\d\d-\d{6}$")


def _jack_ports(server: str) -> str:
    """``jack_lsp -c`` on ``server``: every port, each followed by its connections."""
    done = subprocess.run(
        ["jack_lsp", "-c"], env=jack_env(server), capture_output=True, text=True, timeout=10
    )
    return done.stdout


@pytest.mark.jack
@pytest.mark.slow
def test_kelly_run_without_audio_device_plays_through_a_running_jack_server(
    jack, run_dir: Path
) -> None:
    take = run_dir / "takes" / "unused"
    with jack_server(48_000, 256) as server:
        env = {**env_with_support(), "JACK_DEFAULT_SERVER": server}
        proc = subprocess.Popen(
            [sys.executable, "-m", "kelly_actors.cli", "run", "--duration", "60",
             "--record-if-silent", str(take), "--run-dir", str(run_dir)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        out = Output(proc)
        try:
            out.wait_for('feel "I feel calm', START_S)  # the last of the start lines
            ports = _jack_ports(server)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 0
            text = out.pump()
        finally:
            stop_run(proc)
            assert proc.stdout is not None
            proc.stdout.close()
    line = next(line for line in text.splitlines() if line.startswith("audio "))
    assert line.startswith("audio      jack: kelly (48000 Hz, 256 frames) — chosen automatically:")
    assert f"JACK server {server!r} is running (48000 Hz, 256 frames)" in line
    # The client is on that server, its outputs connected to the (dummy) playback ports.
    assert re.search(r"^kelly:out_1\n\s+system:playback_1$", ports, re.MULTILINE), ports
    assert not take.exists(), "a take was recorded although the music was heard"


def test_scripts_run_on_a_machine_without_a_device_says_so_and_keeps_a_take(
    run_dir: Path,
) -> None:
    takes = run_dir / "takes"
    repo_takes = sorted((REPO / "takes").glob("*")) if (REPO / "takes").exists() else None
    env = {**env_with_support(), "JACK_DEFAULT_SERVER": f"kelly-absent-{run_dir.name}",
           "KELLY_SKIP_SETUP": "1", "KELLY_TAKES_DIR": str(takes)}  # fmt: skip
    done = subprocess.run(
        [str(REPO / "scripts" / "run"), "--duration", "10", "--run-dir", str(run_dir / "run")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    if "no audio device" not in done.stdout:
        pytest.skip("this machine has a PortAudio output device: the music was heard")
    (take,) = takes.iterdir()
    assert TAKE_NAME.match(take.name), take.name
    audio = next(line for line in done.stdout.splitlines() if line.startswith("audio "))
    assert (
        "null (silence on a clock: nothing is heard) — no audio device: playing silently; "
        "the take is recorded to listen to afterwards" in audio
    )
    assert f"recording  {take} (audio, MIDI and run.json)" in done.stdout
    listen = f"listen     nothing was heard (no audio device); the music is in {take}/output.wav"
    assert listen in done.stdout
    samples, _ = wav.read(take / "output.wav")
    assert float(np.sqrt(np.mean(samples**2))) > 1e-3, "the take is silent"
    assert (take / "run.json").exists()
    after = sorted((REPO / "takes").glob("*")) if (REPO / "takes").exists() else None
    assert after == repo_takes, "the test wrote into the repository's takes/"


@pytest.mark.parametrize(("record", "silent", "wanted"), [
    ("mine", True, "mine"),    # an explicit --record wins
    (None, True, "take"),      # nothing heard: the take
    (None, False, None),       # heard: nothing recorded unless asked
])  # fmt: skip
def test_an_explicit_record_wins_and_a_take_is_kept_only_when_nothing_is_heard(
    record: str | None, silent: bool, wanted: str | None
) -> None:
    args = argparse.Namespace(
        record=None if record is None else Path(record), record_if_silent=Path("take")
    )
    backend = "null" if silent else "jack"
    choice = AudioChoice(backend, (("backend", backend),), "none", "probed")
    assert _record_dir(args, choice) == (None if wanted is None else Path(wanted))


@pytest.mark.jack
def test_audio_device_null_keeps_the_silent_clock_and_auto_asks_for_the_choice(jack) -> None:
    built_in = performance.load()
    null = argparse.Namespace(audio_device="null", config=None)
    config, choice = choose_audio(built_in, null)
    assert choice is None and config.actor("audio").options["backend"] == "null"
    assert audio_choice(config, null, choice) == "chosen with --audio-device null"
    auto = argparse.Namespace(audio_device="auto", config=None)
    config, choice = choose_audio(built_in, auto)
    assert choice is not None and config.actor("audio").options["backend"] == choice.backend
    assert audio_choice(config, auto, choice).startswith("--audio-device auto: JACK server")


@pytest.mark.jack
@pytest.mark.slow
def test_kelly_doctor_reports_what_the_automatic_choice_would_pick(jack, tmp_path: Path) -> None:
    done = kelly("doctor", "--models", str(tmp_path), "--max-load", "1.0", timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    choice = next(line for line in done.stdout.splitlines() if "audio choice" in line)
    assert choice.startswith("✓ audio choice   kelly run would play through JACK server")
    assert "JACK server 'default' is running (48000 Hz, 256 frames)" in choice
    assert "✓ audio device   JACK client kelly-doctor" in done.stdout
