"""`kelly doctor`: passes on a machine with JACK (dummy driver), fails clearly without."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from performance import REPO, env_with_support, kelly

JACK_CONFIG = REPO / "examples" / "jack.toml"


def doctor(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return kelly("doctor", *argv, env=env, timeout=90)


@pytest.mark.slow
@pytest.mark.jack
def test_doctor_passes_with_jack_running_and_prints_its_figures(jack, tmp_path: Path) -> None:
    # --max-load 1.0: a loaded CI machine must not fail the check; the figure is still printed.
    done = doctor(str(JACK_CONFIG), "--models", str(tmp_path), "--max-load", "1.0")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line[2:16].strip(): line for line in done.stdout.splitlines() if line[:1] in "✓✗–"}
    assert lines["JACK"].startswith("✓") and "48000 Hz" in lines["JACK"]
    assert lines["audio device"].startswith("✓") and "48000 Hz × 256" in lines["audio device"]
    assert "compiled" in lines["audio device"]
    assert lines["machine"].startswith("✓") and "reference client missed" in lines["machine"]
    assert lines["MIDI"].startswith("✓") and "kelly-doctor-" in lines["MIDI"]
    assert lines["models"] == f"✓ models         no models shipped in {tmp_path}"
    assert lines["CPU headroom"].startswith("✓") and "headroom" in lines["CPU headroom"]
    assert lines["round trip"].startswith("✓") and " ms (kelly-doctor-" in lines["round trip"]
    assert done.stdout.rstrip().endswith("ready for the show")


@pytest.mark.slow
def test_doctor_fails_with_a_clear_reason_when_the_jack_server_is_unreachable() -> None:
    env = {**env_with_support(), "JACK_DEFAULT_SERVER": f"kelly-absent-{os.getpid()}"}
    done = doctor(str(JACK_CONFIG), "--max-load", "1.0", env=env)
    assert done.returncode == 1
    server = f"kelly-absent-{os.getpid()}"
    assert (
        f"✗ JACK           the config uses JACK but server '{server}' is not running" in done.stdout
    )
    assert "✗ audio device   no JACK server to connect to" in done.stdout
    failed = next(line for line in done.stdout.splitlines() if line.startswith("FAILED: "))
    # CPU headroom is measured in wall time, so a starved machine may fail it as well.
    assert set(failed[8:].split(", ")) - {"CPU headroom"} == {
        "JACK",
        "audio device",
        "MIDI",
        "round trip",
    }


def test_doctor_on_the_built_in_performance_skips_what_it_does_not_use(tmp_path: Path) -> None:
    # No JACK server reachable and (on these machines) no PortAudio output: the automatic
    # choice is the null clock, and the doctor says so before skipping the device checks.
    env = {**env_with_support(), "JACK_DEFAULT_SERVER": f"kelly-absent-{os.getpid()}"}
    done = doctor("--models", str(tmp_path), "--max-load", "1.0", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    choice = next(line for line in done.stdout.splitlines() if "audio choice" in line)
    if "would play silently" not in choice:
        pytest.skip(f"this machine has a PortAudio output device: {choice}")
    assert choice.startswith("! audio choice   kelly run would play silently: no audio device")
    assert "– JACK           this config does not use JACK" in done.stdout
    assert "– audio device   backend 'null': no sound card to open" in done.stdout
    assert "– MIDI           MIDI out is off in this config" in done.stdout


def test_doctor_fails_on_a_model_that_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "broken.onnx").write_bytes(b"not an onnx model")
    done = doctor("--models", str(tmp_path), "--max-load", "1.0")
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if "model broken" in line)
    assert line.startswith("✗") and f"{tmp_path / 'broken.onnx'}:" in line
    assert "FAILED: model broken" in done.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--max-load", "0"], "--max-load must be within (0, 1]"),
    (["/nonexistent/perf.toml"], "/nonexistent/perf.toml"),
])  # fmt: skip
def test_doctor_refuses_bad_input_with_one_clear_line(argv: list[str], message: str) -> None:
    done = doctor(*argv)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_doctor_warns_on_readable_run_data_and_fails_where_kelly_run_would_refuse(
    tmp_path: Path,
) -> None:
    from kelly_actors.console.doctor.privacy import check_privacy

    run, take = tmp_path / "run", tmp_path / "take"
    run.mkdir(mode=0o700)
    os.chmod(run, 0o700)
    assert check_privacy(run, None).status == "pass"
    take.mkdir()
    os.chmod(take, 0o755)
    warned = check_privacy(run, take)
    assert warned.status == "warn" and "0755" in warned.figure and "chmod 700" in warned.figure
    os.chmod(take, 0o775)
    failed = check_privacy(run, take)
    assert failed.status == "fail" and "kelly run refuses it" in failed.figure
