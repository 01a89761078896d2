"""The OSC address space Kelly takes: each address, its arguments and the control request
it becomes (the same request ``kelly ctl`` sends; ``docs/protocol.md``).

An address names a verb; its *signature* lists the argument kinds it takes: ``s`` a string
(OSC ``s`` or ``S``), ``f`` a number (``f``, ``d``, ``i`` or ``h``, finite), ``i`` a whole
number (``i`` or ``h``, or a float with no fraction: TouchOSC sends floats). A verb without
arguments also takes one number, the way a TouchOSC or Open Stage Control button sends
1 on press and 0 on release: it acts on a value other than 0 and ignores 0 (``IGNORED``).

Arguments are checked here for kind, length and finiteness only; what they mean (an
axis name, an emotion in range, a model file) is checked by whoever executes the request,
whose refusal comes back as ``/kelly/error``. Actors cannot import :mod:`kelly_actors.verbs`
(the architecture's rule), so the requests are built here, from the same names.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kelly_actors.osc.config import OscConfig
from kelly_actors.osc.wire import Message

#: Refusal kinds for a well-formed message Kelly does not take.
UNKNOWN_ADDRESS = "unknown_address"
WRONG_TYPES = "wrong_types"
BAD_VALUE = "bad_value"

#: Local verbs: handled by the OSC actor itself, not sent to the supervisor.
SUBSCRIBE, UNSUBSCRIBE = "subscribe", "unsubscribe"
#: Opens a sensor's calibration window (the sensors live in the OSC actor).
CALIBRATE = "calibrate"


class Refused(ValueError):
    """A message refused before it is sent; ``kind`` is counted, the text answered."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Request:
    """What one message asks: a supervisor command (``cmd`` with ``args``, as ``kelly
    ctl`` sends it) or, when ``local`` is set, something the OSC actor does itself."""

    cmd: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    local: str = ""


#: The request a button release (0) makes: nothing.
IGNORED = Request()


@dataclass(frozen=True)
class Verb:
    """One address: ``signatures`` it accepts and ``build(args, config)`` → Request."""

    address: str
    signatures: tuple[str, ...]
    summary: str
    build: Callable[[tuple[Any, ...], OscConfig], Request]


def _call(actor: str, method: str, args: dict[str, Any]) -> Request:
    return Request("call", {"actor": actor, "method": method, "args": args})


def _load_model(args: tuple[Any, ...], cfg: OscConfig) -> Request:
    kind, path = args
    if kind not in ("emotion", "ddsp"):
        raise Refused(BAD_VALUE, f"model kind must be emotion or ddsp, got {kind!r}")
    if path and not posixpath.isabs(path):
        # kelly ctl resolves a relative path in its own directory; an OSC sender's
        # directory is unknown here, and the actor runs in another one.
        raise Refused(BAD_VALUE, f"the model path must be absolute, got {path!r}")
    if kind == "ddsp":
        return _call(cfg.synth, "load_model", {"kind": "ddsp", "path": path})
    if not path:
        raise Refused(BAD_VALUE, "an emotion model needs a path")
    return _call(cfg.inference, "load_model", {"path": path})


#: Deepest nesting of a ``/kelly/call`` JSON argument: every JSON parser on the way (ours,
#: the supervisor's, the actor's) recurses, and a text of 4 KiB could nest 2000 deep.
MAX_JSON_DEPTH = 16


def _generic_call(args: tuple[Any, ...], cfg: OscConfig) -> Request:
    actor, method, *rest = args
    call_args: Any = {}
    if rest:
        text = rest[0]
        if _nesting(text) > MAX_JSON_DEPTH:
            raise Refused(BAD_VALUE, f"the JSON object nests deeper than {MAX_JSON_DEPTH}")
        try:
            call_args = json.loads(text)
        except ValueError:
            raise Refused(BAD_VALUE, "the third argument must be a JSON object") from None
        if not isinstance(call_args, dict):
            raise Refused(BAD_VALUE, "the third argument must be a JSON object")
    return _call(actor, method, call_args)


def _nesting(text: str) -> int:
    """How deep brackets nest in ``text`` (an upper bound for JSON: brackets inside
    strings count too), without parsing it."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _emotion(args: tuple[Any, ...], cfg: OscConfig) -> Request:
    v, a, d = args
    return _call(cfg.composer, "set_emotion", {"valence": v, "arousal": a, "dominance": d})


VERBS: dict[str, Verb] = {
    v.address: v
    for v in (
        Verb(
            "/kelly/feel",
            ("s",),
            "tell the composer how you feel, in words",
            lambda a, c: _call(c.composer, "feel", {"text": a[0]}),
        ),
        Verb("/kelly/emotion", ("fff",), "set valence, arousal, dominance", _emotion),
        Verb(
            "/kelly/lock",
            ("s",),
            "hold an emotion axis where it is",
            lambda a, c: _call(c.composer, "lock", {"axis": a[0]}),
        ),
        Verb(
            "/kelly/unlock",
            ("s",),
            "release a held axis",
            lambda a, c: _call(c.composer, "unlock", {"axis": a[0]}),
        ),
        Verb(
            "/kelly/panic",
            ("",),
            "all notes off now (the music goes on)",
            lambda a, c: _call(c.composer, "panic", {}),
        ),
        Verb(
            "/kelly/restart",
            ("s",),
            "restart one actor",
            lambda a, c: Request("restart", {"actor": a[0]}),
        ),
        Verb("/kelly/load_model", ("ss",), "check a model file, then swap it in", _load_model),
        Verb("/kelly/ping", ("",), "is the supervisor there?", lambda a, c: Request("ping")),
        Verb("/kelly/status", ("",), "one status snapshot", lambda a, c: Request("status")),
        Verb("/kelly/call", ("ss", "sss"), "a method of any actor", _generic_call),
        Verb("/kelly/stop", ("",), "end the performance", lambda a, c: Request("stop")),
        Verb(
            "/kelly/subscribe",
            ("", "i"),
            "send telemetry to this sender (at its port, or the one given)",
            lambda a, c: Request(local=SUBSCRIBE, args={"port": a[0] if a else 0}),
        ),
        Verb(
            "/kelly/calibrate",
            ("s", "sf"),
            "calibrate a sensor: the median of the next seconds is its resting baseline",
            lambda a, c: Request(
                local=CALIBRATE, args={"sensor": a[0], "seconds": a[1] if len(a) > 1 else 0.0}
            ),
        ),
        Verb(
            "/kelly/unsubscribe",
            ("", "i"),
            "stop sending telemetry to this sender",
            lambda a, c: Request(local=UNSUBSCRIBE, args={"port": a[0] if a else 0}),
        ),
    )
}

_NUMBER_TAGS = frozenset("fdih")


def request_for(message: Message, cfg: OscConfig) -> Request:
    """The request ``message`` makes; raises :class:`Refused` with the reason."""
    verb = VERBS.get(message.address)
    if verb is None or (verb.address == "/kelly/stop" and not cfg.allow_stop):
        why = "is off (allow_stop = false)" if verb is not None else "is not an address Kelly takes"
        raise Refused(UNKNOWN_ADDRESS, f"{message.address[:64]} {why}")
    for signature in verb.signatures:
        if len(signature) == len(message.tags):
            args = tuple(
                _convert(kind, tag, value, cfg, verb.address)
                for kind, tag, value in zip(signature, message.tags, message.args, strict=True)
            )
            return verb.build(args, cfg)
    if "" in verb.signatures and len(message.tags) == 1 and message.tags in _NUMBER_TAGS:
        value = message.args[0]
        if not math.isfinite(value):
            raise Refused(BAD_VALUE, f"{verb.address}: a button value must be finite")
        return IGNORED if value == 0 else verb.build((), cfg)
    wanted = " or ".join(f"',{s}'" for s in verb.signatures)
    raise Refused(WRONG_TYPES, f"{verb.address} takes {wanted}, got ',{message.tags}'")


def _convert(kind: str, tag: str, value: Any, cfg: OscConfig, address: str) -> Any:
    if kind == "s":
        if tag not in "sS":
            raise Refused(WRONG_TYPES, f"{address}: expected a string, got '{tag}'")
        if len(value.encode()) > cfg.max_text_bytes:
            raise Refused(BAD_VALUE, f"{address}: text longer than {cfg.max_text_bytes} bytes")
        return value
    if tag not in _NUMBER_TAGS:
        raise Refused(WRONG_TYPES, f"{address}: expected a number, got '{tag}'")
    if not math.isfinite(value):
        raise Refused(BAD_VALUE, f"{address}: numbers must be finite, got {value}")
    if kind == "i":
        if value != int(value) or not 0 <= value <= 65535:
            raise Refused(BAD_VALUE, f"{address}: expected a port 0…65535, got {value}")
        return int(value)
    return float(value)
