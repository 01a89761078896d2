"""``backend = "auto"``: a running JACK server first, then PortAudio's default output, then
the null clock — probed against real JACK servers (the shared one, and servers of this
test's own under other names), with nothing started and nothing printed by the probe."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from jack_server import jack_env, jack_server

from kelly_actors.audio.backends.choice import AUTO, choose, resolve
from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError


def _absent() -> str:
    return f"kelly-absent-{os.getpid()}"


@pytest.mark.jack
def test_the_running_shared_jack_server_is_chosen_first(jack, monkeypatch) -> None:
    monkeypatch.delenv("JACK_DEFAULT_SERVER", raising=False)
    choice = choose(48_000, 256, 1)
    assert choice.backend == "jack" and dict(choice.options) == {"backend": "jack"}
    assert choice.device == "JACK server 'default'"
    assert "JACK server 'default' is running (48000 Hz, 256 frames)" in choice.why


@pytest.mark.jack
def test_the_server_jack_default_server_names_is_the_one_probed(jack, monkeypatch) -> None:
    with jack_server(48_000, 256) as name:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
        choice = choose(48_000, 256, 1)
    assert choice.backend == "jack"
    assert choice.device == f"JACK server {name!r}"


@pytest.mark.jack
def test_a_jack_server_with_another_period_plays_through_portaudios_jack_host_api(
    jack, monkeypatch
) -> None:
    with jack_server(48_000, 512) as name:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
        choice = choose(48_000, 256, 1)
    options = dict(choice.options)
    assert options["backend"] == "sounddevice" and "JACK" in options["host_api"]
    assert options["device"] == "system" and options["input_channels"] == 1
    assert "512-frame period" in choice.why and "re-blocks" in choice.why


@pytest.mark.jack
def test_a_jack_server_at_another_rate_is_passed_over_and_says_why(jack, monkeypatch) -> None:
    with jack_server(44_100, 256) as name:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
        choice = choose(48_000, 256, 1)
    # PortAudio sees only that server's device here (these machines have no sound card),
    # which cannot play 48 kHz either: the null clock, with both reasons.
    assert choice.silent and dict(choice.options) == {"backend": "null"}
    assert f"JACK server {name!r} runs at 44100 Hz, the performance at 48000 Hz" in choice.why
    assert "cannot play 48000 Hz stereo" in choice.why


def test_with_no_server_reachable_portaudio_then_null_is_chosen(monkeypatch) -> None:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", _absent())
    choice = choose(48_000, 256, 1)
    if not choice.silent:
        pytest.skip(f"this machine has a PortAudio output device: {choice.device}")
    assert dict(choice.options) == {"backend": "null"} and choice.device == "none"
    assert choice.why == f"no JACK server {_absent()!r} running; PortAudio has no output device"


def test_probing_an_absent_server_starts_none_and_prints_nothing() -> None:
    code = (
        "from kelly_actors.audio.backends.choice import choose\n"
        "print(choose(48000, 256, 1).backend)\n"
    )
    env = {**os.environ, "JACK_DEFAULT_SERVER": _absent()}
    env.pop("JACK_NO_START_SERVER", None)  # the probe must not rely on it
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() in ("null", "sounddevice")
    check = subprocess.run(
        ["jack_wait", "-c"], env=jack_env(_absent()), capture_output=True, text=True, timeout=10
    )
    assert check.stdout.strip() == "not running"  # no server was started under that name


@pytest.mark.jack
def test_resolve_replaces_auto_once_and_leaves_a_named_backend_alone(jack, monkeypatch) -> None:
    monkeypatch.delenv("JACK_DEFAULT_SERVER", raising=False)
    built_in = performance.load()
    assert built_in.actor("audio").options["backend"] == AUTO
    resolved, choice = resolve(built_in)
    assert choice is not None and choice.backend == "jack"
    assert resolved.actor("audio").options["backend"] == "jack"
    assert resolved.actor("audio").options["standby_ring"] == "audio_out_b"  # the rest kept
    pinned = performance.with_options(built_in, "audio", backend="null")
    assert resolve(pinned) == (pinned, None)


def test_an_unresolved_auto_never_reaches_a_running_audio_actor() -> None:
    from kelly_actors.supervisor.spawner import validate_actors

    with pytest.raises(ConfigError, match="backend 'auto' is resolved by kelly run"):
        validate_actors(performance.load())


def test_a_probe_that_crashes_chooses_silence_and_says_how_it_ended(tmp_path, monkeypatch) -> None:
    crashing = tmp_path / "python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(crashing))
    choice = choose(48_000, 256, 1)
    assert choice.silent and dict(choice.options) == {"backend": "null"}
    assert choice.why.startswith("the audio probe failed (exit -11")


def test_a_probe_that_answers_garbage_chooses_silence_and_says_so(tmp_path, monkeypatch) -> None:
    talking = tmp_path / "python"
    talking.write_text("#!/bin/sh\necho 'ALSA lib: cannot find card'\necho '{\"backend\": 1}'\n")
    talking.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(talking))
    choice = choose(48_000, 256, 1)
    assert choice.silent
    assert choice.why.startswith("the audio probe answered something unreadable")
