"""What reaches the supervisor from outside: its death, bad messages, bad configs."""

from __future__ import annotations

import itertools
import json
import os

import pytest
import zmq
from performance import Performance, kelly, wait_until
from toml_config import IDLE, performance_toml, tone_meter_toml

from kelly_actors.bus import messages
from kelly_actors.bus.namespace import runtime_dir


@pytest.fixture
def raw_control(run_dir):
    config = performance_toml([{"name": "idle", "target": IDLE}])
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(perf.client().info.control)
        yield perf, sock
        sock.close(linger=0)
        ctx.term()


def _answer(sock: zmq.Socket, frames: list[bytes]) -> dict:
    sock.send_multipart(frames)
    assert sock.poll(10_000), "no reply"
    reply = messages.decode(sock.recv_multipart())
    assert reply.type == "reply"
    return reply.fields


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([b'{"v": 1, "type": "request", "id": "1", "cm'], "malformed"),
        ([json.dumps({"v": 9, "type": "request", "id": "1", "cmd": "status"}).encode()], "version"),
        ([os.urandom(64)], "malformed"),
        ([b"{" + b" " * (messages.MAX_HEADER_BYTES + 10) + b"}"], "oversize"),
        (
            [
                json.dumps(
                    {"v": 1, "type": "heartbeat", "actor": "x", "incarnation": 1, "telemetry": {}}
                ).encode()
            ],
            "invalid",
        ),
        (
            [json.dumps({"v": 1, "type": "request", "id": "1", "cmd": "launch"}).encode()],
            "unknown_command",
        ),
        (
            [
                json.dumps(
                    {"v": 1, "type": "request", "id": "1", "cmd": "restart", "args": {"actor": 5}}
                ).encode()
            ],
            "invalid",
        ),
        (
            [
                json.dumps(
                    {
                        "v": 1,
                        "type": "request",
                        "id": "1",
                        "cmd": "restart",
                        "args": {"actor": "nobody"},
                    }
                ).encode()
            ],
            "not_found",
        ),
    ],
)
def test_a_malformed_control_message_gets_an_error_reply_and_nothing_crashes(
    raw_control, frames, code
):
    perf, sock = raw_control
    reply = _answer(sock, frames)
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]
    snap = perf.status()
    assert snap["actors"][0]["state"] == "ready"
    assert snap["actors"][0]["restarts"] == 0


def test_a_req_style_client_with_an_empty_delimiter_is_answered_too(raw_control) -> None:
    _, sock = raw_control
    request = messages.encode(messages.make("request", id="r", cmd="ping", args={}))
    sock.send_multipart([b"", *request])
    assert sock.poll(10_000), "no reply"
    delimiter, *frames = sock.recv_multipart()
    assert delimiter == b""
    reply = messages.decode(frames)
    assert reply["ok"] and reply["result"]["pong"]


_kelly = kelly


ACTOR_A = "[[actors]]\nname = 'a'\ntarget = 'kelly_actors.demo.idle:IdleActor'\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[supervisor]\nstratgy = 'one_for_one'\n", "unknown key(s) stratgy"),
        (
            "[[actors]]\nname = 'a'\ntarget = 'nowhere:Nothing'\n",
            "cannot import actor module 'nowhere'",
        ),
        (
            f"{ACTOR_A}restart = 'sometimes'\n",
            "restart must be one of",
        ),
        (
            f"{ACTOR_A}depends_on = ['b']\n",
            "no actor named 'b'",
        ),
        (
            f"{ACTOR_A.replace('idle:IdleActor', 'tone:ToneActor')}"
            "[actors.options]\nfrequency = 'high'\n",
            "frequency: expected a number",
        ),
        ("this is = not toml [", "not valid TOML"),
    ],
)
def test_a_wrong_config_is_refused_at_start_with_a_clear_error_and_nothing_is_left_running(
    run_dir, text: str, message: str
) -> None:
    config = run_dir / "bad.toml"
    config.write_text(text)
    before = {p.name for p in runtime_dir().glob("kelly-*")}
    done = _kelly("run", str(config), "--duration", "5", run_dir=run_dir)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (run_dir / "supervisor.json").exists()
    assert {p.name for p in runtime_dir().glob("kelly-*")} <= before  # nothing new left


def test_status_and_ctl_say_clearly_when_nothing_is_running(run_dir) -> None:
    status = _kelly("status", "--json", run_dir=run_dir)
    assert status.returncode == 1
    assert "no performance is running" in status.stderr
    ctl = _kelly("ctl", "restart", "tone", run_dir=run_dir)
    assert ctl.returncode == 2
    assert "no performance is running" in ctl.stderr


def test_kelly_run_with_a_duration_stops_cleanly_and_status_json_has_actors_and_rings(
    run_dir,
) -> None:
    with Performance(run_dir, tone_meter_toml(), ["--duration", "4"]) as perf:
        perf.wait_ready()
        status = _kelly("status", "--json", run_dir=run_dir)
        assert status.returncode == 0, status.stderr
        snap = json.loads(status.stdout)
        assert {a["name"] for a in snap["actors"]} == {"tone", "meter"}
        assert {"name", "pid", "state", "restarts"} <= set(snap["actors"][0])
        assert {"name", "capacity", "overruns", "underruns"} <= set(snap["rings"][0])
        meter = wait_until(
            lambda: (m := perf.actor("meter"))["telemetry"].get("blocks", 0) > 50 and m,
            10,
            "blocks",
        )
        assert meter["telemetry"]["gaps"] == 0
        assert meter["telemetry"]["rms_db"] == pytest.approx(-16.99, abs=0.1)  # 0.2 amplitude sine
        assert perf.proc.wait(20) == 0
    assert not (run_dir / "supervisor.json").exists()


def test_a_second_performance_in_the_same_run_directory_is_refused(run_dir) -> None:
    with Performance(run_dir, tone_meter_toml()) as perf:
        perf.wait_ready()
        done = _kelly("run", "--duration", "5", "--audio-device", "null", run_dir=run_dir)
        assert done.returncode == 1
        assert "already running" in done.stderr
        assert perf.stop() == 0


def test_ctl_restart_and_stop_act_on_the_running_performance(run_dir) -> None:
    with Performance(run_dir, tone_meter_toml()) as perf:
        old = {a["name"]: a["pid"] for a in perf.wait_ready()["actors"]}
        restart = _kelly("ctl", "restart", "meter", run_dir=run_dir)
        assert restart.returncode == 0, restart.stderr
        perf.wait_actor(
            "meter", lambda a: a["pid"] != old["meter"] and a["state"] == "ready", 15, "meter back"
        )
        refused = _kelly("ctl", "restart", "nobody", run_dir=run_dir)
        assert refused.returncode == 1 and "no actor named 'nobody'" in refused.stderr
        stop = _kelly("ctl", "stop", run_dir=run_dir)
        assert stop.returncode == 0
        assert perf.proc.wait(20) == 0


def test_the_status_pub_publishes_snapshots_at_least_twice_a_second(run_dir) -> None:
    with Performance(run_dir, tone_meter_toml()) as perf:
        perf.wait_ready()
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"status")
        sub.connect(perf.client().info.status)
        try:
            uptimes = []
            while len(uptimes) < 6:
                assert sub.poll(10_000), "no status published"
                topic, *frames = sub.recv_multipart()
                msg = messages.decode(frames)
                assert topic == b"status" and msg.type == "status"
                assert {a["name"] for a in msg["snapshot"]["actors"]} == {"tone", "meter"}
                uptimes.append(msg["snapshot"]["run"]["uptime_s"])
        finally:
            sub.close(linger=0)
            ctx.term()
        gaps = sorted(b - a for a, b in itertools.pairwise(uptimes))
        assert gaps[len(gaps) // 2] <= 0.5  # median interval: the configured 4 Hz, at least 2 Hz
        assert perf.stop() == 0


def test_ctl_status_prints_the_snapshot_and_exits_2_when_nothing_runs(run_dir) -> None:
    nothing = _kelly("ctl", "status", "--json", run_dir=run_dir)
    assert nothing.returncode == 2 and "no performance is running" in nothing.stderr
    with Performance(run_dir, tone_meter_toml()) as perf:
        perf.wait_ready()
        done = _kelly("ctl", "status", "--json", run_dir=run_dir)
        assert done.returncode == 0, done.stderr
        assert {a["name"] for a in json.loads(done.stdout)["actors"]} == {"tone", "meter"}
        assert perf.stop() == 0
