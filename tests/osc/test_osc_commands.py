"""The OSC address space: each address makes the request `kelly ctl` sends for the same
verb, and messages of the wrong shape are refused with their kind."""

from __future__ import annotations

import argparse
import math
from typing import Any

import pytest

from kelly_actors.cli.ctl import add_actions
from kelly_actors.osc import commands
from kelly_actors.osc.commands import BAD_VALUE, UNKNOWN_ADDRESS, WRONG_TYPES, Refused
from kelly_actors.osc.config import OscConfig
from kelly_actors.osc.wire import Message

CFG = OscConfig()


def ctl(*argv: str) -> tuple[str, dict[str, Any]]:
    """What `kelly ctl ARGV` sends: (cmd, args)."""
    parser = argparse.ArgumentParser(prog="kelly ctl")
    add_actions(parser.add_subparsers(dest="action", required=True))
    args = parser.parse_args(argv)
    request = args.verb.request(args)
    return request.cmd, request.args


def osc(address: str, tags: str = "", *args: Any, cfg: OscConfig = CFG) -> commands.Request:
    return commands.request_for(Message(address, tags, args), cfg)


def sent(request: commands.Request) -> tuple[str, dict[str, Any]]:
    return request.cmd, request.args


@pytest.mark.parametrize(
    ("message", "argv"),
    [
        (("/kelly/feel", "s", "I feel calm"), ("feel", "I feel calm")),
        (("/kelly/emotion", "fff", 0.5, 0.25, 0.75), ("set-emotion", "0.5", "0.25", "0.75")),
        (("/kelly/emotion", "dih", 0.5, 0, 1), ("set-emotion", "0.5", "0", "1")),
        (("/kelly/lock", "s", "arousal"), ("lock", "arousal")),
        (("/kelly/unlock", "S", "arousal"), ("unlock", "arousal")),
        (("/kelly/panic",), ("panic",)),
        (("/kelly/restart", "s", "synth"), ("restart", "synth")),
        (("/kelly/load_model", "ss", "ddsp", ""), ("load-model", "ddsp", "")),
        (("/kelly/ping",), ("ping",)),
        (("/kelly/status",), ("status",)),
        (("/kelly/call", "ss", "tone", "reset"), ("call", "tone", "reset")),
        (
            ("/kelly/call", "sss", "tone", "set_frequency", '{"frequency": 330}'),
            ("call", "tone", "set_frequency", '{"frequency": 330}'),
        ),
    ],
)
def test_each_address_sends_the_request_kelly_ctl_sends(message: tuple, argv: tuple) -> None:
    assert sent(osc(*message)) == ctl(*argv)


def test_load_model_with_an_absolute_path_sends_what_kelly_ctl_sends(tmp_path) -> None:
    model = str(tmp_path / "emotion.onnx")
    assert sent(osc("/kelly/load_model", "ss", "emotion", model)) == ctl(
        "load-model", "emotion", model
    )
    timbre = str(tmp_path / "ddsp-cello.onnx")
    assert sent(osc("/kelly/load_model", "ss", "ddsp", timbre)) == ctl("load-model", "ddsp", timbre)


def test_a_button_press_acts_and_its_release_does_nothing() -> None:
    assert sent(osc("/kelly/panic", "f", 1.0)) == ctl("panic")
    assert sent(osc("/kelly/panic", "i", 1)) == ctl("panic")
    assert osc("/kelly/panic", "f", 0.0) is commands.IGNORED


def test_subscribe_takes_an_optional_port_and_is_handled_by_the_osc_actor_itself() -> None:
    assert osc("/kelly/subscribe") == commands.Request(local="subscribe", args={"port": 0})
    assert osc("/kelly/subscribe", "i", 9001).args == {"port": 9001}
    assert osc("/kelly/subscribe", "f", 9001.0).args == {"port": 9001}  # TouchOSC sends floats
    assert osc("/kelly/unsubscribe").local == "unsubscribe"


def test_stop_is_refused_unless_allow_stop_is_set() -> None:
    with pytest.raises(Refused) as info:
        osc("/kelly/stop")
    assert info.value.kind == UNKNOWN_ADDRESS and "allow_stop" in str(info.value)
    assert sent(osc("/kelly/stop", cfg=OscConfig(allow_stop=True))) == ctl("stop")


def test_scenes_do_not_exist_so_their_address_is_unknown() -> None:
    with pytest.raises(Refused) as info:
        osc("/kelly/scene", "s", "chorus")
    assert info.value.kind == UNKNOWN_ADDRESS


@pytest.mark.parametrize(
    ("message", "kind", "reason"),
    [
        (("/kelly/emotion", "ff", 0.5, 0.5), WRONG_TYPES, "takes ',fff'"),
        (("/kelly/emotion", "sff", "x", 0.5, 0.5), WRONG_TYPES, "expected a number"),
        (("/kelly/emotion", "fff", math.nan, 0.5, 0.5), BAD_VALUE, "finite"),
        (("/kelly/emotion", "fdf", 0.5, math.inf, 0.5), BAD_VALUE, "finite"),
        (("/kelly/feel", "i", 3), WRONG_TYPES, "expected a string"),
        (("/kelly/feel",), WRONG_TYPES, "takes ',s'"),
        (("/kelly/feel", "b", b"calm"), WRONG_TYPES, "expected a string"),
        (("/kelly/feel", "s", "x" * 5000), BAD_VALUE, "longer than 4096 bytes"),
        (("/kelly/lock", "T", True), WRONG_TYPES, "expected a string"),
        (("/kelly/panic", "s", "now"), WRONG_TYPES, "takes ','"),
        (("/kelly/panic", "f", math.nan), BAD_VALUE, "finite"),
        (("/kelly/panic", "ff", 1.0, 1.0), WRONG_TYPES, "takes ','"),
        (("/kelly/load_model", "ss", "emotion", "models/e.onnx"), BAD_VALUE, "absolute"),
        (("/kelly/load_model", "ss", "emotion", ""), BAD_VALUE, "needs a path"),
        (("/kelly/load_model", "ss", "vst", "/a.onnx"), BAD_VALUE, "emotion or ddsp"),
        (("/kelly/call", "sss", "tone", "x", "[1, 2]"), BAD_VALUE, "JSON object"),
        (("/kelly/call", "sss", "tone", "x", "{"), BAD_VALUE, "JSON object"),
        (("/kelly/call", "sss", "tone", "x", "[" * 2000 + "]" * 2000), BAD_VALUE, "nests deeper"),
        (("/kelly/subscribe", "i", 70000), BAD_VALUE, "port"),
        (("/kelly/subscribe", "f", 9001.5), BAD_VALUE, "port"),
        (("/kelly/nothing",), UNKNOWN_ADDRESS, "not an address"),
        (("/kelly/feel/x", "s", "calm"), UNKNOWN_ADDRESS, "not an address"),
    ],
)
def test_messages_of_the_wrong_shape_are_refused_with_their_kind(
    message: tuple, kind: str, reason: str
) -> None:
    with pytest.raises(Refused) as info:
        osc(*message)
    assert info.value.kind == kind and reason in str(info.value)


def test_requests_go_to_the_actors_the_config_names() -> None:
    cfg = OscConfig(composer="composer_2", inference="ears", synth="voice")
    assert osc("/kelly/panic", cfg=cfg).args["actor"] == "composer_2"
    assert osc("/kelly/load_model", "ss", "emotion", "/m.onnx", cfg=cfg).args["actor"] == "ears"
    assert osc("/kelly/load_model", "ss", "ddsp", "", cfg=cfg).args["actor"] == "voice"
