"""10,000 malformed OSC packets during a real performance: every one refused and counted,
no crash, no restart, and `kelly status` answering throughout."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import osc_fuzz
import pytest
from osc_support import OscPeer, default_with_osc
from performance import Performance, wait_until

from kelly_actors.osc import commands, wire
from kelly_actors.osc.config import OscConfig

PACKETS = 10_000
#: Packets sent between two status requests (and two checks that the actor caught up).
BATCH = 250


def refusal_kind(packet: bytes) -> str:
    """What the OSC actor must count ``packet`` as ("" if it would take it)."""
    try:
        [timed] = wire.decode(packet, time.time(), OscConfig().bundle_horizon_s)
        commands.request_for(timed.message, OscConfig())
    except wire.OscError as exc:
        return exc.kind
    except commands.Refused as exc:
        return exc.kind
    except ValueError:
        return "more than one message"
    return ""


def test_the_fuzz_corpus_holds_only_packets_refused_once_each_of_every_kind() -> None:
    kinds = Counter(refusal_kind(p) for p in osc_fuzz.packets(2000))
    assert "" not in kinds and "more than one message" not in kinds
    assert set(kinds) == {"malformed", "bad_timetag", "wrong_types", "unknown_address", "bad_value"}
    assert any(len(p) == osc_fuzz.MAX_UDP for p in osc_fuzz.packets(PACKETS))


@pytest.mark.slow
def test_ten_thousand_malformed_packets_crash_nothing_restart_nothing_and_status_answers(
    run_dir: Path,
) -> None:
    packets = osc_fuzz.packets(PACKETS)
    with Performance(run_dir, default_with_osc(port=0)) as perf:
        osc = perf.wait_actor(
            "osc", lambda a: a["telemetry"].get("listening"), 60, "the OSC actor to listen"
        )
        port = osc["telemetry"]["port"]
        composer = perf.wait_actor(
            "composer", lambda a: a["telemetry"].get("bars", 0) >= 1, 60, "the first bar"
        )
        sample = perf.status()["transport"]["sample_counter"]
        answers = 0
        with OscPeer(port) as fuzzer:
            for start in range(0, PACKETS, BATCH):
                for packet in packets[start : start + BATCH]:
                    fuzzer.send_raw(packet)
                sent = start + BATCH
                # Status answers while the flood goes on (each within ControlClient's 10 s).
                snapshot = perf.status()
                answers += 1
                assert all(a["restarts"] == 0 for a in snapshot["actors"]), snapshot["actors"]

                def caught_up(sent: int = sent) -> dict | None:
                    t = perf.actor("osc")["telemetry"]
                    return t if t["received"] + (t["kernel_drops"] or 0) >= sent else None

                telemetry = wait_until(caught_up, 30, f"the OSC actor to read {sent} packets")
                fuzzer.collect()  # the error answers: keep the peer's buffer from filling
            assert '"pong": true' in _ping(fuzzer)

        drops = telemetry["kernel_drops"] or 0
        assert telemetry["received"] + drops == PACKETS
        assert telemetry["refused_total"] == telemetry["received"]
        assert telemetry["accepted"] == 0
        if drops == 0:  # every packet read: each counted as the kind it is
            assert telemetry["refused"] == Counter(refusal_kind(p) for p in packets)
        print(
            f"fuzz: sent {PACKETS}, read {telemetry['received']}, kernel drops {drops}, "
            f"refused {telemetry['refused']}, status answers {answers}"
        )
        assert answers == PACKETS // BATCH

        after = perf.status()
        actors = {a["name"]: a for a in after["actors"]}
        assert {name: a["restarts"] for name, a in actors.items()} == dict.fromkeys(actors, 0)
        assert actors["osc"]["incarnation"] == 1 and actors["osc"]["state"] == "ready"
        assert after["transport"]["sample_counter"] > sample, "the clock went on"
        assert actors["composer"]["telemetry"]["bars"] > composer["telemetry"]["bars"]
        events = perf.events()
        assert not [e for e in events if e["event"] in ("crash", "actor_exited")]
        logged = [e["detail"]["kind"] for e in events if e["event"] == "osc_refused"]
        assert sorted(logged) == sorted(telemetry["refused"]), "each kind logged once"
        assert perf.stop() == 0


def _ping(peer: OscPeer) -> str:
    peer.send("/kelly/ping")
    kind, answer = peer.answer("/kelly/ping")
    assert kind == "/kelly/ok", answer
    return answer[1]
