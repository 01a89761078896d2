"""The OSC actor's options (typed, checked before the show) and its bounded bookkeeping:
the allow-list, refusals logged once per sender and kind, subscribers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from osc_support import tone_meter_with_osc
from performance import kelly

from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.osc import peers
from kelly_actors.osc.config import OscConfig


def options(**values: Any) -> OscConfig:
    return from_mapping(OscConfig, values, "actors.osc.options")


def test_the_defaults_listen_on_loopback_port_9000_and_answer_everyone_there() -> None:
    cfg = options()
    assert (cfg.bind, cfg.port, cfg.allow, cfg.subscribers) == ("127.0.0.1", 9000, (), ())
    assert cfg.listener_hz >= 10


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"bind": "0.0.0.0"}, "name the senders in allow"),
        ({"bind": "192.168.1.10"}, "name the senders in allow"),
        ({"bind": "localhost"}, "must be an IP address (no host names)"),
        ({"bind": "0.0.0.0", "allow": ["stage-tablet"]}, "not an IP address or network"),
        ({"bind": "0.0.0.0", "allow": ["::1"]}, "is not IPv4 like bind"),
        ({"subscribers": ["127.0.0.1"]}, "must be HOST:PORT"),
        ({"subscribers": ["127.0.0.1:0"]}, "within 1…65535"),
        ({"subscribers": ["127.0.0.1:x"]}, "not a number"),
        ({"subscribers": ["tablet:9001"]}, "no host names"),
        ({"subscribers": ["192.168.1.5:9001"]}, "cannot be reached from a socket bound to"),
        ({"subscribers": ["[::1]:9001"]}, "is not IPv4 like bind"),
        ({"subscribers": ["127.0.0.1:1", "127.0.0.1:2"], "max_subscribers": 1}, "more subscribers"),
        ({"port": 70000}, "port must be within"),
        ({"listener_hz": 5.0}, "listener_hz must be within 10.0…100.0"),
        ({"port": "9000"}, "expected an integer"),
        ({"allow": "127.0.0.1"}, "expected a list"),
        ({"prot": 9000}, "unknown key(s) prot"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(values: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        options(**values)
    assert message in str(info.value)


def test_listening_beyond_loopback_takes_an_allow_list_and_reachable_subscribers() -> None:
    cfg = options(
        bind="0.0.0.0", allow=["192.168.1.23", "10.0.0.0/24"], subscribers=["192.168.1.23:9001"]
    )
    assert [str(n) for n in cfg.allowed()] == ["192.168.1.23/32", "10.0.0.0/24"]
    assert cfg.subscriber_endpoints() == (("192.168.1.23", 9001),)
    v6 = options(bind="::1", subscribers=["[::1]:9001"])
    assert v6.subscriber_endpoints() == (("::1", 9001),)


def test_kelly_run_refuses_osc_options_that_listen_beyond_loopback_without_an_allow_list(
    run_dir: Path,
) -> None:
    config = run_dir / "open.toml"
    config.write_text(tone_meter_with_osc(bind="0.0.0.0", port=0))
    done = kelly("run", str(config), "--duration", "5", run_dir=run_dir)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "actors.osc.options" in done.stderr and "name the senders in allow" in done.stderr
    assert not (run_dir / "supervisor.json").exists()


def test_the_gate_admits_listed_senders_only_and_ipv4_mapped_ones_as_ipv4() -> None:
    gate = peers.Gate(options(bind="0.0.0.0", allow=["10.0.0.0/24"]).allowed())
    assert gate.admits("10.0.0.7") and gate.admits("::ffff:10.0.0.7")
    assert not gate.admits("10.0.1.7") and not gate.admits("not an address")
    assert peers.Gate(()).admits("127.0.0.1")


def test_each_sender_and_kind_is_logged_once_and_every_refusal_counted() -> None:
    logged: list[tuple[str, dict]] = []
    refusals = peers.Refusals(lambda event, **detail: logged.append((event, detail)))
    for _ in range(3):
        refusals.refuse("127.0.0.1", "malformed", "garbage")
        refusals.refuse("127.0.0.1", "wrong_types", "/kelly/feel takes ,s")
        refusals.refuse("127.0.0.2", "malformed", "garbage")
    assert refusals.counts == {"malformed": 6, "wrong_types": 3} and refusals.total == 9
    assert [(d["sender"], d["kind"]) for _, d in logged] == [
        ("127.0.0.1", "malformed"),
        ("127.0.0.1", "wrong_types"),
        ("127.0.0.2", "malformed"),
    ]


def test_a_flood_of_senders_is_counted_but_logs_a_bounded_number_of_lines() -> None:
    logged: list[str] = []
    refusals = peers.Refusals(lambda event, **detail: logged.append(event))
    for i in range(peers.MAX_LOGGED + 500):
        refusals.refuse(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", "not_allowed", "x")
    assert refusals.total == peers.MAX_LOGGED + 500
    assert logged.count("osc_refused") == peers.MAX_LOGGED
    assert logged[-1] == "osc_refusals_unlogged" and logged.count("osc_refusals_unlogged") == 1


def test_subscribers_are_bounded_and_only_dynamic_ones_can_leave_or_be_restored() -> None:
    subs = peers.Subscribers((("127.0.0.1", 9001),), limit=3)
    assert subs.add(("127.0.0.1", 9001)) and len(subs) == 1
    assert subs.add(("127.0.0.1", 9002)) and subs.add(("127.0.0.1", 9003))
    assert not subs.add(("127.0.0.1", 9004))
    assert not subs.remove(("127.0.0.1", 9001)) and subs.remove(("127.0.0.1", 9002))
    saved = subs.state()
    again = peers.Subscribers((("127.0.0.1", 9001),), limit=3)
    again.restore([*saved, ["x"], [1, 2], ["127.0.0.1", 0], "junk"])
    assert again.all() == (("127.0.0.1", 9001), ("127.0.0.1", 9003))
    again.restore(None)
    assert len(again) == 2
