"""`kelly service install|uninstall`: the systemd user unit, read back and verified; its
ExecStart really runs `kelly run`, which talks sd_notify to a socket of the test's own."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from performance import REPO, env_with_support, kelly

from kelly_actors.cli import service
from kelly_actors.config import performance

DEFAULT_TOML = REPO / "kelly_actors" / "config" / "default.toml"


def read_unit(path: Path) -> configparser.RawConfigParser:
    """The unit as sections of settings (names keep their case; a repeated setting keeps
    its last value, as the single-valued ones here do in systemd)."""
    return parse_unit(path.read_text())


def parse_unit(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def exec_start(unit: configparser.RawConfigParser) -> list[str]:
    """ExecStart as argv: systemd's quoting is shell-like here; ``%%`` and ``$$`` are one."""
    words = shlex.split(unit["Service"]["ExecStart"])
    return [w.replace("%%", "%").replace("$$", "$") for w in words]


def install(tmp_path: Path, *argv: str, run_dir: Path | None = None):
    return kelly("service", "install", "--unit-dir", str(tmp_path / "units"), *argv,
                 run_dir=run_dir)  # fmt: skip


def test_install_writes_a_notify_unit_that_runs_kelly_run_on_the_config(tmp_path: Path) -> None:
    config = tmp_path / "perf.toml"
    shutil.copy(DEFAULT_TOML, config)
    done = install(tmp_path, str(config))
    assert done.returncode == 0, done.stderr
    path = tmp_path / "units" / "kelly.service"
    assert f"wrote {path}" in done.stdout
    assert "systemctl --user daemon-reload && systemctl --user enable --now kelly" in done.stdout
    unit = read_unit(path)
    svc = unit["Service"]
    assert svc["Type"] == "notify" and svc["NotifyAccess"] == "main"
    assert svc["WatchdogSec"] == "30" and svc["Restart"] == "on-failure"
    assert svc["KillMode"] == "mixed" and int(svc["RestartSec"]) > 0
    assert svc["LimitRTPRIO"] == "95" and svc["LimitMEMLOCK"] == "infinity"
    loaded = performance.load(config)
    shutdowns = sum(a.shutdown_timeout for a in loaded.actors)
    assert int(svc["TimeoutStopSec"]) >= shutdowns + loaded.supervisor.adoption_grace
    assert unit["Install"]["WantedBy"] == "default.target"
    argv = exec_start(unit)
    assert Path(argv[0]).is_absolute() and os.access(argv[0], os.X_OK)
    assert argv[-2:] == ["run", str(config)]
    # The installed `kelly` script beside this interpreter ([project.scripts]).
    assert argv[0] == str(Path(os.path.abspath(sys.executable)).parent / "kelly")
    assert "LimitRTPRIO" in path.read_text().split("# Real-time limits")[1]


def test_install_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert install(tmp_path).returncode == 0
    path = tmp_path / "units" / "kelly.service"
    path.write_text("# mine\n")
    done = install(tmp_path)
    assert done.returncode == 1
    assert f"{path} exists (--force replaces it)" in done.stderr
    assert path.read_text() == "# mine\n"
    assert install(tmp_path, "--force").returncode == 0
    assert read_unit(path)["Service"]["Type"] == "notify"


@pytest.mark.parametrize(("text", "message"), [
    (None, "cannot read config"),
    ("[actors\n", "not valid TOML"),
    ('[[actors]]\nname = "a"\ntarget = "x:Y"\nrestart = "sometimes"\n', "restart"),
])  # fmt: skip
def test_a_config_that_does_not_load_is_refused_with_exit_1(
    tmp_path: Path, text: str | None, message: str
) -> None:
    config = tmp_path / "bad.toml"
    if text is not None:
        config.write_text(text)
    done = install(tmp_path, str(config))
    assert done.returncode == 1
    assert "kelly service: the config does not load, no unit written:" in done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "units").exists()


def test_print_writes_the_unit_to_stdout_only(tmp_path: Path) -> None:
    done = install(tmp_path, "--print", "--name", "kelly-stage")
    assert done.returncode == 0 and not (tmp_path / "units").exists()
    assert "Type=notify" in done.stdout and "enable --now kelly-stage" in done.stdout
    assert exec_start(parse_unit(done.stdout))[-1] == "run"  # the built-in performance


def test_a_bad_name_is_refused(tmp_path: Path) -> None:
    done = install(tmp_path, "--name", "../evil")
    assert done.returncode == 1 and "letters, digits" in done.stderr


def test_uninstall_removes_the_unit_and_its_enable_link(tmp_path: Path) -> None:
    units = tmp_path / "units"
    assert install(tmp_path, "--name", "stage").returncode == 0
    wants = units / "default.target.wants"
    wants.mkdir()
    (wants / "stage.service").symlink_to(units / "stage.service")  # what `enable` makes
    done = kelly("service", "uninstall", "--name", "stage", "--unit-dir", str(units))
    assert done.returncode == 0, done.stderr
    assert not (units / "stage.service").exists() and not (wants / "stage.service").is_symlink()
    assert "systemctl --user stop stage" in done.stdout
    again = kelly("service", "uninstall", "--name", "stage", "--unit-dir", str(units))
    assert again.returncode == 2 and "no unit" in again.stderr


def test_odd_paths_are_quoted_and_a_missing_script_falls_back_to_the_interpreter(
    tmp_path: Path,
) -> None:
    config_dir = tmp_path / "my shows"
    config_dir.mkdir()
    config = config_dir / 'night "%i" $HOME.toml'
    shutil.copy(DEFAULT_TOML, config)
    python = "/opt/kelly env/bin/python"
    text = service.unit_text(config, performance.load(config), "kelly", tmp_path / "run dir",
                             command=[python, "-m", "kelly_actors.cli"])  # fmt: skip
    unit = parse_unit(text)
    assert exec_start(unit) == [python, "-m", "kelly_actors.cli", "--run-dir",
                                str(tmp_path / "run dir"), "run", str(config)]  # fmt: skip
    assert f"PYTHONPATH={REPO}" in unit["Service"]["Environment"]


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    config_dir = tmp_path / "my shows"
    config_dir.mkdir()
    config = config_dir / "night 100%.toml"
    shutil.copy(DEFAULT_TOML, config)
    assert install(tmp_path, str(config)).returncode == 0
    runtime = tmp_path / "xdg-runtime"  # the user manager's verify needs one
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    unit = tmp_path / "units" / "kelly.service"
    done = subprocess.run([analyze, "--user", "verify", str(unit)], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    # verify exits 0 even after "Failed to parse …, ignoring": any line about the unit fails.
    assert done.returncode == 0 and str(unit) not in done.stderr, done.stderr


def test_the_units_exec_start_tells_systemd_ready_and_beats_the_watchdog(
    tmp_path: Path, run_dir: Path
) -> None:
    """Type=notify as systemd would run it: ExecStart's argv with NOTIFY_SOCKET and
    WATCHDOG_USEC set; READY=1 once the run is up, WATCHDOG=1 while it plays."""
    assert install(tmp_path, run_dir=run_dir).returncode == 0
    argv = exec_start(read_unit(tmp_path / "units" / "kelly.service"))
    assert argv[argv.index("--run-dir") + 1] == str(run_dir)  # not the service's default
    notify_path = run_dir / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify_path))
        sock.settimeout(0.2)
        env = {**env_with_support(), "NOTIFY_SOCKET": str(notify_path),
               "WATCHDOG_USEC": "1000000"}  # fmt: skip
        env.pop("WATCHDOG_PID", None)
        # The null clock: what is tested is systemd's side, not CI's JACK server.
        run = [*argv, "--duration", "4", "--audio-device", "null"]
        proc = subprocess.Popen(run, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        messages: list[str] = []
        deadline = time.monotonic() + 60
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    messages.append(sock.recv(4096).decode())
                except TimeoutError:
                    pass
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err
    ready = [m for m in messages if m.startswith("READY=1")]
    assert len(ready) == 1 and "performing" in ready[0]
    assert messages.count("WATCHDOG=1") >= 2  # every 0.5 s over about 4 s
    assert messages.index(ready[0]) < messages.index("STOPPING=1")
