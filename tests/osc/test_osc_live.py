"""The OSC actor in real runs: a performance driven over OSC with its telemetry coming back,
the allow-list, a port in use, and a restart that keeps subscribers and port."""

from __future__ import annotations

import itertools
import statistics
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from osc_support import OscPeer, build, default_with_osc, tone_meter_with_osc
from performance import Performance

from kelly_actors.osc.wire import NTP_UNIX_OFFSET

pytestmark = pytest.mark.slow

STATES = {"starting", "ready", "degraded", "restarting", "stopping", "stopped", "failed"}


def osc_port(perf: Performance, timeout: float = 60) -> int:
    """The port the OSC actor listens on, once it does."""
    actor = perf.wait_actor(
        "osc", lambda a: a["telemetry"].get("listening"), timeout, "the OSC actor to listen"
    )
    return actor["telemetry"]["port"]


def ok(peer: OscPeer, address: str, *args: Any) -> str:
    """Send one command; the JSON of its ``/kelly/ok`` answer (fails on ``/kelly/error``)."""
    peer.send(address, *args)
    kind, answer = peer.answer(address)
    assert kind == "/kelly/ok", answer
    return answer[1]


def close(values: tuple, expected: tuple, tolerance: float = 1e-3) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(values, expected, strict=False))


def test_a_performance_driven_entirely_over_osc_plays_and_sends_its_telemetry(
    run_dir: Path,
) -> None:
    with Performance(run_dir, default_with_osc(port=0)) as perf:
        port = osc_port(perf)
        with OscPeer(port) as peer:
            assert '"subscribed"' in ok(peer, "/kelly/subscribe")
            assert '"pong": true' in ok(peer, "/kelly/ping")

            feel = ok(peer, "/kelly/feel", "I feel grief, but I want to get to acceptance")
            assert '"nearest": ["grief"' in feel

            ok(peer, "/kelly/emotion", 0.6, 0.8, 0.7)
            peer.wait_for(
                lambda m: m[0] == "/kelly/bar/emotion" and close(m[1][:3], (0.6, 0.8, 0.7)),
                30,
                "showing the emotion set over OSC in a bar",
            )
            assert '"locks": {"arousal": 0.8}' in ok(peer, "/kelly/lock", "arousal")
            ok(peer, "/kelly/emotion", 0.1, 0.2, 0.3)
            _, held = peer.wait_for(
                lambda m: m[0] == "/kelly/bar/emotion" and close(m[1][:1], (0.1,)),
                30,
                "showing the next emotion in a bar",
            )
            assert close(held[:3], (0.1, 0.8, 0.3)), "arousal is held by the lock"
            assert '"locks": {}' in ok(peer, "/kelly/unlock", "arousal")
            peer.send("/kelly/lock", "tempo")
            kind, (_, code, reason) = peer.answer("/kelly/lock")
            assert (kind, code) == ("/kelly/error", "refused") and "tempo" in reason

            _, (bar_at_panic,) = peer.wait_for(lambda m: m[0] == "/kelly/bar", 10, "a bar")
            assert '"ring": true' in ok(peer, "/kelly/panic")
            peer.wait_for(
                lambda m: m[0] == "/kelly/bar" and m[1][0] > bar_at_panic,
                30,
                "the music going on after panic",
            )
            peer.collect()

        # Each actor's state and restarts, as the supervisor reports them (restarts only grow,
        # so the status read after the last message has at least as many).
        actors = {a["name"]: a for a in perf.status()["actors"]}
        assert {"audio", "composer", "inference", "osc"} <= actors.keys()
        for name, actor in actors.items():
            state, restarts = peer.messages(f"/kelly/actor/{name}")[-1][1]
            assert state in STATES and 0 <= restarts <= actor["restarts"], name
        assert peer.messages("/kelly/xruns")[-1][1] == (0,)
        assert isinstance(peer.messages("/kelly/key")[-1][1][0], str)
        assert peer.messages("/kelly/tempo")[-1][1][0] > 0
        beats = [args[0] for _, args in peer.messages("/kelly/beat")]
        assert beats and all(0 <= b < 4 for b in beats)
        listener = [t for t, _ in peer.messages("/kelly/listener")]
        assert len(listener) > 20
        # The listener's emotion reaches a subscriber at 10 Hz or more (the median gap:
        # a moment's stall of a loaded machine does not move it).
        assert statistics.median(b - a for a, b in itertools.pairwise(listener)) <= 0.1
        assert all(len(args) == 4 for _, args in peer.messages("/kelly/listener"))

        osc = perf.actor("osc")
        assert osc["restarts"] == 0 and osc["telemetry"]["refused_total"] == 0
        assert osc["telemetry"]["accepted"] == 9  # subscribe, ping and the seven commands
        assert perf.stop() == 0


def test_senders_outside_the_allow_list_are_refused_unread_and_logged_once(
    run_dir: Path,
) -> None:
    config = tone_meter_with_osc(port=0, allow=["127.0.0.2"])
    with Performance(run_dir, config) as perf:
        port = osc_port(perf)
        with OscPeer(port) as stranger, OscPeer(port, bind="127.0.0.2") as friend:
            for _ in range(5):
                stranger.send("/kelly/ping")
            assert '"pong": true' in ok(friend, "/kelly/ping")
            osc = perf.wait_actor(
                "osc",
                lambda a: a["telemetry"]["refused"].get("not_allowed") == 5,
                15,
                "five refusals counted",
            )
            stranger.collect()
            assert stranger.received == [], "a refused sender gets no answer"
        assert osc["telemetry"]["accepted"] == 1
        refusals = [e for e in perf.events() if e["event"] == "osc_refused"]
        assert [(e["detail"]["sender"], e["detail"]["kind"]) for e in refusals] == [
            ("127.0.0.1", "not_allowed")
        ]
        assert perf.stop() == 0


def test_a_port_in_use_leaves_the_osc_actor_degraded_and_the_music_playing_until_it_frees(
    run_dir: Path,
) -> None:
    import socket

    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with Performance(run_dir, tone_meter_with_osc(port=port)) as perf:
            osc = perf.wait_actor(
                "osc", lambda a: a["state"] == "degraded", 30, "the OSC actor degraded"
            )
            assert f"UDP 127.0.0.1:{port} in use" in osc["degraded_reason"]
            blocks = perf.wait_actor("meter", lambda a: a["state"] == "ready", 10, "the meter")
            blocks = blocks["telemetry"].get("blocks", 0)
            perf.wait_actor(
                "meter", lambda a: a["telemetry"]["blocks"] > blocks, 10, "the music playing"
            )
            holder.close()
            osc = perf.wait_actor(
                "osc",
                lambda a: a["state"] == "ready" and a["telemetry"]["port"] == port,
                15,
                "the OSC actor to take the port",
            )
            assert osc["restarts"] == 0 and osc["degraded_reason"] == ""
            with OscPeer(port) as peer:
                assert '"pong": true' in ok(peer, "/kelly/ping")
            assert perf.stop() == 0
    finally:
        holder.close()


def test_a_restarted_osc_actor_keeps_its_port_and_subscribers_and_timed_bundles_wait(
    run_dir: Path,
) -> None:
    with Performance(run_dir, tone_meter_with_osc(port=0)) as perf:
        port = osc_port(perf)
        with OscPeer(port) as peer:
            ok(peer, "/kelly/subscribe")
            peer.wait_for(lambda m: m[0] == "/kelly/beat", 10, "telemetry")
            old = perf.actor("osc")["pid"]
            assert perf.request("restart", actor="osc")["restarting"] is True
            perf.wait_actor(
                "osc", lambda a: a["pid"] != old and a["state"] == "ready", 30, "a new OSC actor"
            )
            # Only the new incarnation can report its own restart: the subscription held.
            peer.wait_for(
                lambda m: m == ("/kelly/actor/osc", ("ready", 1)), 15, "telemetry after the restart"
            )

            # The old incarnation is gone: an answer on the same port is the new one's. A
            # bundle timed 1 s ahead is answered no earlier than its time tag.
            at = time.time() + 1.0
            timetag = struct.pack(">II", int(at) + NTP_UNIX_OFFSET, int(at % 1 * 2**32))
            ping = build("/kelly/ping")
            peer.send_raw(b"#bundle\x00" + timetag + struct.pack(">i", len(ping)) + ping)
            kind, _ = peer.answer("/kelly/ping")
            assert kind == "/kelly/ok" and time.time() >= at - 0.01
        osc = perf.actor("osc")
        assert osc["telemetry"]["subscribers"] == [f"127.0.0.1:{peer.port}"]
        assert osc["telemetry"]["port"] == port and osc["restarts"] == 1
        assert perf.stop() == 0
