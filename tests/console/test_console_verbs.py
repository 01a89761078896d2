"""The verb modules: each is whole (request, reply, arguments, rendering, execution or the
actor it names), the actor behind every actor verb answers its method, the command line
maps to the requests the docs show, and docs/protocol.md is generated from them."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from kelly_actors.actor import runtime
from kelly_actors.actor.base import CallError
from kelly_actors.cli.ctl import add_actions
from kelly_actors.config import performance
from kelly_actors.verbs import ACTOR_VERBS, SUPERVISOR_VERBS, VERBS, docs, served
from kelly_actors.verbs.verb import Request


def parse(*argv: str) -> Request:
    parser = argparse.ArgumentParser(prog="kelly ctl")
    add_actions(parser.add_subparsers(dest="action", required=True))
    args = parser.parse_args(argv)
    return args.verb.request(args)


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.NAME)
def test_every_verb_module_is_whole(verb: ModuleType) -> None:
    doc = verb.__doc__ or ""
    assert "Request:" in doc and "Reply:" in doc, "the docstring shows its request and reply"
    assert verb.HELP and callable(verb.add_arguments) and callable(verb.render)
    assert callable(verb.request)
    assert hasattr(verb, "execute") != hasattr(verb, "METHOD"), (
        "executed either by the supervisor or by an actor"
    )


def test_the_supervisor_serves_each_supervisor_verb_by_its_name() -> None:
    assert sorted(served()) == ["call", "ping", "restart", "status", "stop"]
    assert all(served()[name] is verb.execute for name, verb in SUPERVISOR_VERBS.items())


def _actor_class(name: str) -> type:
    spec = next(s for s in performance.load(None).actors if s.name == name)
    return runtime.load_actor_class(spec.target)


def _answers(cls: type, name: str, method: str) -> bool:
    """Whether ``cls.on_call`` takes ``method`` (anything but ``unknown_command``).

    The actor is not started: a handler that gets past its argument checks fails on the
    missing state, which still shows the method was dispatched to it."""
    actor = cls.__new__(cls)
    actor.ctx = SimpleNamespace(name=name)
    actor.config = None
    try:
        actor.on_call(method, {})
    except CallError as exc:
        return exc.code != "unknown_command"
    except Exception:  # the handler ran and needed a started actor
        return True
    return True


@pytest.mark.parametrize(
    ("verb", "actor"),
    [(v, a) for v in ACTOR_VERBS for a in v.ACTORS],
    ids=lambda x: x if isinstance(x, str) else x.NAME,
)
def test_the_actor_behind_each_actor_verb_answers_its_method(verb: ModuleType, actor: str) -> None:
    cls = _actor_class(actor)
    assert not _answers(cls, actor, "no_such_method"), "the probe reaches the dispatch"
    assert _answers(cls, actor, verb.METHOD), f"{cls.__name__}.on_call has no {verb.METHOD!r}"


def call(actor: str, method: str, args: dict[str, Any]) -> Request:
    return Request("call", {"actor": actor, "method": method, "args": args})


def test_command_lines_map_to_requests() -> None:
    assert parse("ping") == Request("ping")
    assert parse("stop") == Request("stop")
    assert parse("status", "--json") == Request("status")
    assert parse("restart", "synth") == Request("restart", {"actor": "synth"})
    assert parse("call", "tone", "set_frequency", '{"frequency": 330}') == call(
        "tone", "set_frequency", {"frequency": 330}
    )
    assert parse("feel", "I feel calm") == call("composer", "feel", {"text": "I feel calm"})
    assert parse("set-emotion", "-0.5", "0.3", "0.4") == call(
        "composer", "set_emotion", {"valence": -0.5, "arousal": 0.3, "dominance": 0.4}
    )
    assert parse("lock", "arousal") == call("composer", "lock", {"axis": "arousal"})
    assert parse("unlock", "valence", "--composer", "c2") == call(
        "c2", "unlock", {"axis": "valence"}
    )
    assert parse("panic") == call("composer", "panic", {})


def test_load_model_goes_to_inference_or_synth_with_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    model = str(tmp_path / "m.onnx")
    assert parse("load-model", "emotion", "m.onnx") == call(
        "inference", "load_model", {"path": model}
    )
    assert parse("load-model", "ddsp", "m.onnx") == call(
        "synth", "load_model", {"kind": "ddsp", "path": model}
    )
    assert parse("load-model", "ddsp", "") == call(
        "synth", "load_model", {"kind": "ddsp", "path": ""}
    )
    assert parse("load-model", "ddsp", "m.onnx", "--actor", "s2").args["actor"] == "s2"


@pytest.mark.parametrize("argv", [["lock", "tempo"], ["set-emotion", "1", "x", "0"], ["feel"]])
def test_bad_arguments_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


def test_docs_protocol_is_generated_from_the_verb_modules() -> None:
    text = docs.PROTOCOL.read_text()
    assert docs.updated(text) == text, "run: python -m kelly_actors.verbs.docs"
    for verb in VERBS:
        assert f"#### `{verb.NAME}`" in text
