"""The composer's answers to supervisor ``call`` requests (``kelly ctl feel`` …).

Each handler takes the actor and the call's arguments and returns the reply; a
refusal is a :class:`~kelly_actors.actor.base.CallError` (or a
:class:`~kelly_actors.composer.live.fusion.FusionError`, which the actor turns
into one). Emotion changes take effect at the next bar composed (``from_bar``).

=============  ==============================================  ==========================
method         arguments                                       reply
=============  ==============================================  ==========================
feel           text                                            nearest, confidence,
                                                               desired, target, from_bar
set_emotion    valence, arousal, dominance (one or more)       the point, nearest, from_bar
estimate       valence, arousal, dominance, confidence, time,  accepted, reason
               stream (0…N−1 of an ensemble; absent = 0)
lock / unlock  axis                                            axis, (value), locks
panic          —                                               sample, ring, midi
=============  ==============================================  ==========================
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kelly_actors.actor.base import CallError
from kelly_actors.composer.emotion.text import MAX_TEXT_CHARS, analyse
from kelly_actors.composer.live.fusion import AXES, axis_name, nearest_name, pad_from
from kelly_actors.composer.live.telemetry import locks, pad_dict

if TYPE_CHECKING:
    from kelly_actors.composer.actor import ComposerActor

Handler = Callable[["ComposerActor", dict[str, Any]], dict[str, Any]]


def feel(actor: ComposerActor, args: dict[str, Any]) -> dict[str, Any]:
    """Text → the emotion now (and maybe a journey towards a desired one)."""
    text = args.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CallError("feel needs a non-empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise CallError(f"text too long ({len(text)} characters, at most {MAX_TEXT_CHARS})")
    result = analyse(text)
    actor.fusion.feel(result)
    target = actor.fusion.target
    return {
        "nearest": list(result.nearest),
        "confidence": round(result.confidence, 4),
        "desired": list(result.desired_nearest),
        "target": pad_dict(target) if target is not None else None,
        "from_bar": actor.grid.next_bar,
    }


def set_emotion(actor: ComposerActor, args: dict[str, Any]) -> dict[str, Any]:
    """The performer's PAD point, confidence 1, no journey. An axis left out keeps its
    value (the performer's last point, else the one playing): a MIDI controller mapped
    to one axis moves that axis alone (docs/midi.md)."""
    if not any(axis in args for axis in AXES):
        raise CallError(f"set_emotion needs at least one of {', '.join(AXES)}")
    fusion = actor.fusion
    explicit = fusion.explicit
    base = explicit if explicit is not None and explicit.source == "performer" else fusion.playing
    point = pad_from({**pad_dict(base.point), **args})
    actor.fusion.set_emotion(point)
    return {**pad_dict(point), "nearest": nearest_name(point), "from_bar": actor.grid.next_bar}


def estimate(actor: ComposerActor, args: dict[str, Any]) -> dict[str, Any]:
    """A neural estimate (``time`` in Unix s); stale or under-confident ones are refused."""
    point = pad_from(args)
    confidence = args.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise CallError(f"confidence must be a number within 0…1, got {confidence!r}")
    stamp = args.get("time", time.time())
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        raise CallError(f"time must be Unix seconds, got {stamp!r}")
    age = max(0.0, time.time() - float(stamp))
    if age > actor.config.fusion.estimate_timeout_s:
        return {"accepted": False, "reason": f"stale ({age:.1f} s old)"}
    stream = args.get("stream", 0)
    if isinstance(stream, bool) or not isinstance(stream, int):
        raise CallError(f"stream must be an integer, got {stream!r}")
    accepted = actor.fusion.estimate(point, float(confidence), time.monotonic() - age, stream)
    return {"accepted": accepted, "reason": "" if accepted else "below the confidence gate"}


def lock(actor: ComposerActor, args: dict[str, Any]) -> dict[str, Any]:
    """Hold one axis at its current value."""
    axis = axis_name(args.get("axis"))
    value = actor.fusion.lock(axis)
    return {"axis": axis, "value": round(value, 4), "locks": locks(actor)}


def unlock(actor: ComposerActor, args: dict[str, Any]) -> dict[str, Any]:
    axis = axis_name(args.get("axis"))
    actor.fusion.unlock(axis)
    return {"axis": axis, "locks": locks(actor)}


def panic(actor: ComposerActor, args: dict[str, Any]) -> dict[str, Any]:
    """All notes off now, on the ring and the MIDI port; the music goes on."""
    sample = round(actor.now_sample)
    written = actor.outputs.all_notes_off(sample)
    return {"sample": sample, "ring": written, "midi": actor.outputs.midi.is_open}


HANDLERS: dict[str, Handler] = {
    "feel": feel,
    "set_emotion": set_emotion,
    "estimate": estimate,
    "lock": lock,
    "unlock": unlock,
    "panic": panic,
}
