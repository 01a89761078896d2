"""One bar's variation as a self-contained request, so any process can serve it.

The composer sends a :class:`VariationRequest` (the rule composer's bar, the
played history, the conditioning and the seed) to an inference worker and gets
the model's notes for the chosen tracks back. Everything the model needs
travels with the request — workers keep no memory of the stream — and the
answer depends only on the request and the model, so a retry on another worker
gives the same bar.

Bytes on the wire are UTF-8 JSON (nothing is unpickled); a note is
``[track, pitch, velocity, start_beat, duration_beats]`` with beats from its bar line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.music.notes import Note
from kelly_actors.music.theory import MODES, Key
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.generate import Generator, fitting_key
from kelly_actors.transformer.tokens import Bar

#: Most notes one bar may carry on the wire (the grammar closes a bar at 96 per track set).
MAX_NOTES = 512
#: Most history bars a request may carry.
MAX_HISTORY = 16
_FIELDS = {"bar", "seed", "tracks", "valence", "arousal", "mode", "given", "history", "key"}


class RequestError(ValueError):
    """A request or answer that must not be acted on; the message says what is wrong."""


@dataclass(frozen=True)
class VariationRequest:
    """The model's version of ``tracks`` in bar ``bar`` (see the module docstring).

    Attributes:
        bar: bar index (with ``seed`` it seeds the sampler).
        seed: the composer's seed.
        tracks: the tracks the model writes (names from the vocabulary).
        valence, arousal: the conditioning, −1…1 and 0…1.
        mode: the rule mapper's mode for the valence (a :data:`MODES` name).
        given: the rule composer's bar (its tempo and every track's notes).
        history: the bars played before it, oldest first, quantized.
        key: the rule composer's key, or None to take the key ``given`` fits best.
    """

    bar: int
    seed: int
    tracks: tuple[str, ...]
    valence: float
    arousal: float
    mode: str
    given: Bar
    history: tuple[Bar, ...] = ()
    key: Key | None = None

    def to_bytes(self) -> bytes:
        body = {
            "bar": self.bar,
            "seed": self.seed,
            "tracks": list(self.tracks),
            "valence": self.valence,
            "arousal": self.arousal,
            "mode": self.mode,
            "given": _bar_json(self.given),
            "history": [_bar_json(b) for b in self.history],
            "key": None if self.key is None else [self.key.tonic, self.key.mode],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> VariationRequest:
        """Parse and check a request; RequestError names the first thing wrong."""
        body = _json_object(data, "request")
        if set(body) != _FIELDS:
            raise RequestError(f"request fields {sorted(body)}, expected {sorted(_FIELDS)}")
        tracks = body["tracks"]
        known = isinstance(tracks, list) and all(t in V.TRACK_INDEX for t in tracks)
        if not tracks or not known:
            raise RequestError(f"tracks must be a non-empty list of {', '.join(V.TRACK_ORDER)}")
        if body["mode"] not in MODES:
            raise RequestError(f"unknown mode {body['mode']!r}")
        history = body["history"]
        if not isinstance(history, list) or len(history) > MAX_HISTORY:
            raise RequestError(f"history must be a list of at most {MAX_HISTORY} bars")
        return cls(
            bar=_int(body["bar"], "bar", 0, 2**31),
            seed=_int(body["seed"], "seed", -(2**63), 2**63),
            tracks=tuple(tracks),
            valence=_number(body["valence"], "valence", -1.0, 1.0),
            arousal=_number(body["arousal"], "arousal", 0.0, 1.0),
            mode=body["mode"],
            given=_parse_bar(body["given"]),
            history=tuple(_parse_bar(b) for b in history),
            key=_parse_key(body["key"]),
        )


def serve(generator: Generator, request: VariationRequest) -> list[Note]:
    """The model's notes for ``request.tracks`` (beats from the bar line).

    Deterministic in (model, request). Scale-aware decoding keeps them to the
    request's key, else to the key in ``request.mode`` that the bar and its
    history fit best.
    """
    rng = np.random.default_rng([request.seed & 0xFFFFFFFF, request.bar])
    key = request.key
    if key is None and generator.config.scale_aware:
        key = fitting_key([*request.history, request.given], request.mode)
    return generator.bar(
        list(request.history),
        request.given,
        request.tracks,
        request.valence,
        request.arousal,
        rng,
        key=key,
    )


def notes_to_bytes(notes: Sequence[Note]) -> bytes:
    return json.dumps({"notes": [_note_json(n) for n in notes]}, separators=(",", ":")).encode()


def notes_from_bytes(data: bytes) -> list[Note]:
    """An answer's notes; RequestError when they are not valid notes."""
    body = _json_object(data, "answer")
    if set(body) != {"notes"}:
        raise RequestError("an answer has exactly one field, notes")
    return _parse_notes(body["notes"])


# -- JSON forms --------------------------------------------------------------------


def _note_json(n: Note) -> list[Any]:
    return [n.track, n.pitch, n.velocity, n.start_beat, n.duration_beats]


def _bar_json(bar: Bar) -> dict[str, Any]:
    return {"tempo": bar.tempo_bpm, "notes": [_note_json(n) for n in bar.notes]}


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(bytes(data).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(f"{what} is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise RequestError(f"{what} must be a JSON object")
    return body


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RequestError(f"{name} must be a finite number")
    if not low <= value <= high:
        raise RequestError(f"{name} must be within {low:g}…{high:g}, got {value:g}")
    return float(value)


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise RequestError(f"{name} must be an integer within {low}…{high - 1}")
    return value


def _parse_notes(raw: Any) -> list[Note]:
    if not isinstance(raw, list) or len(raw) > MAX_NOTES:
        raise RequestError(f"notes must be a list of at most {MAX_NOTES}")
    notes = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 5 or item[0] not in V.TRACK_INDEX:
            raise RequestError(f"a note is [track, pitch, velocity, start, duration], got {item!r}")
        notes.append(
            Note(
                item[0],
                _int(item[1], "pitch", 0, 128),
                _int(item[2], "velocity", 1, 128),
                _number(item[3], "start_beat", 0.0, 64.0),
                _number(item[4], "duration_beats", 0.0, 64.0),
            )
        )
    return notes


def _parse_bar(raw: Any) -> Bar:
    if not isinstance(raw, dict) or set(raw) != {"tempo", "notes"}:
        raise RequestError("a bar is {tempo, notes}")
    return Bar(_number(raw["tempo"], "tempo", 20.0, 400.0), tuple(_parse_notes(raw["notes"])))


def _parse_key(raw: Any) -> Key | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2 or raw[1] not in MODES:
        raise RequestError("key must be null or [tonic, mode]")
    return Key(_int(raw[0], "key tonic", 0, 12), raw[1])
