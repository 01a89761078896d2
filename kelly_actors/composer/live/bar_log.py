"""One ``bar`` event per scheduled bar: what ``kelly report`` draws the performance from.

The composer's MIDI recording keeps each bar's notes, tempo, key and fused emotion, but
not when the bar sounded, what each emotion source said, or which engine wrote it; the
event log gets those here, one record per bar (about 400 bytes every 1–4 s: under a
megabyte an hour, far inside the log's rotation).

Fields (``docs/protocol.md``): ``bar`` (int), ``sample`` (the bar line, transport
samples), ``at`` (the bar line, Unix seconds), ``tempo`` (bpm), ``key`` ("D dorian"),
``emotion`` (the fused one: valence −1…1, arousal and dominance 0…1, confidence 0…1,
source), ``sources`` (each source's latest word at the bar line: ``text`` and
``performer`` — the override — as the same dict or null; ``listener`` the neural
estimate that counted at the bar line — fresh and above the confidence gate — or null;
``listener_gated`` the estimates the gate refused since the previous bar; ``midi`` the
symbolic listener's reading as it counted at the bar line, or null; ``sensors`` what the
sensors proposed or null; ``locks`` the held axes),
``writer`` ("rules" or "transformer": who wrote the bar's model tracks), ``model``
(the transformer's version, or where it ran, when it wrote them, else null) and
``fallback`` (why the rules played a bar the transformer was asked for, else "").

The last :data:`~kelly_actors.composer.live.agreement.WINDOW_BARS` records stay in
:attr:`BarLog.recent`: the listeners' agreement with the composer is computed from them
(:mod:`~kelly_actors.composer.live.agreement`).
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from kelly_actors.composer.live.agreement import WINDOW_BARS
from kelly_actors.composer.live.fusion import Fused

if TYPE_CHECKING:
    from kelly_actors.composer.actor import ComposerActor
    from kelly_actors.music.theory import Key


class BarLog:
    """Builds each bar's record; remembers the transformer's counts to tell who wrote it."""

    def __init__(self) -> None:
        # A fresh composer (first or restarted) starts a fresh transformer at zero counts.
        self._served = 0
        self._fallbacks = 0
        self._gated = 0
        #: The newest records, oldest first (a replacement composer starts afresh).
        self.recent: deque[dict[str, Any]] = deque(maxlen=WINDOW_BARS)

    def record(
        self, actor: ComposerActor, bar: int, start: int, tempo: float, key: Key, emotion: Fused
    ) -> dict[str, Any]:
        """The ``bar`` event's fields for bar ``bar`` starting at transport sample ``start``."""
        fusion = actor.fusion
        explicit = fusion.explicit
        counts = actor.transformer.counts
        served, fallbacks = counts["bars"], counts["fallbacks"]
        wrote, fell_back = served > self._served, fallbacks > self._fallbacks
        self._served, self._fallbacks = served, fallbacks
        model = actor.transformer.model
        at = time.time()
        if actor.clock is not None and actor.clock.ready:
            at += actor.clock.time_of(start) - time.monotonic()
        listened, heard = fusion.listened, fusion.heard
        gated, self._gated = fusion.gated - self._gated, fusion.gated
        record = {
            "bar": bar,
            "sample": start,
            "at": round(at, 4),
            "tempo": round(tempo, 3),
            "key": key.name,
            "emotion": emotion.to_dict(),
            "sources": {
                "text": _word(explicit, "text"),
                "performer": _word(explicit, "performer"),
                "listener": listened.to_dict() if listened is not None else None,
                "listener_gated": max(0, gated),
                "midi": heard.to_dict() if heard is not None else None,
                "sensors": fusion.body.to_dict() if fusion.body is not None else None,
                "locks": {a: round(v, 4) for a, v in fusion.locks.items()},
            },
            "writer": "transformer" if wrote else "rules",
            "model": _model_name(model) if wrote else None,
            "fallback": actor.problems.get("transformer", "") if fell_back else "",
        }
        self.recent.append(record)
        return record


def _model_name(model: Any) -> str | None:
    """The model's version, or where it ran when the composer does not know the version
    (the inference actor's workers choose it)."""
    if model is None:
        return None
    return str(model.model) if model.model else str(model.where)


def _word(explicit: Fused | None, source: str) -> dict[str, Any] | None:
    return explicit.to_dict() if explicit is not None and explicit.source == source else None
