"""Remote consoles over TCP: served only with CurveZMQ keys, refusals logged."""

from __future__ import annotations

import json
import shutil
import socket

from performance import Performance, wait_until
from performance import kelly as _kelly
from toml_config import tone_meter_toml

from kelly_actors.bus import curve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_console_with_the_keys_is_served_over_tcp_and_one_without_is_refused_and_logged(
    run_dir, tmp_path
) -> None:
    keys, other = tmp_path / "keys", tmp_path / "other"
    curve.generate(keys)
    curve.generate(other)
    # A stranger who knows the performance's public key, but whose own key is not accepted.
    shutil.copy(keys / "server.key", other / "server.key")
    control = f"tcp://127.0.0.1:{_free_port()}"
    status = f"tcp://127.0.0.1:{_free_port()}"
    config = tone_meter_toml(remote_control=control, remote_status=status, keys_dir=str(keys))
    elsewhere = tmp_path / "elsewhere"  # no local run here: only TCP can reach it
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        served = _kelly(
            "status", "--json", "--connect", control, "--keys", str(keys), run_dir=elsewhere
        )
        assert served.returncode == 0, served.stderr
        assert {a["name"] for a in json.loads(served.stdout)["actors"]} == {"tone", "meter"}

        top = _kelly("top", "--once", "--connect", control, "--keys", str(keys), run_dir=elsewhere)
        assert top.returncode == 0, top.stderr
        assert "tone" in top.stdout and "meter" in top.stdout

        refused = _kelly(
            "status",
            "--connect",
            control,
            "--keys",
            str(other),
            "--timeout",
            "2",
            run_dir=elsewhere,
        )
        assert refused.returncode == 1
        assert "did not answer" in refused.stderr
        wait_until(
            lambda: any(e["event"] == "remote_refused" for e in perf.events()), 10, "the refusal"
        )
        refusal = next(e for e in perf.events() if e["event"] == "remote_refused")
        assert refusal["detail"]["reason"] == "unknown client key"

        bare = _kelly("status", "--connect", control, run_dir=elsewhere)
        assert bare.returncode == 1
        assert "needs --keys DIR" in bare.stderr
        assert perf.stop() == 0


def test_remote_endpoints_without_keys_are_refused_at_start(run_dir) -> None:
    config = tone_meter_toml(remote_control=f"tcp://127.0.0.1:{_free_port()}")
    path = run_dir / "remote.toml"
    path.write_text(config)
    done = _kelly("run", str(path), "--duration", "5", run_dir=run_dir)
    assert done.returncode == 1
    assert "TCP is never opened without keys" in done.stderr
