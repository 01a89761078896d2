"""The composer's ``bar`` event says who wrote each bar and what each source said."""

from __future__ import annotations

from types import SimpleNamespace

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.bar_log import BarLog
from kelly_actors.composer.live.fusion import Fused
from kelly_actors.music.theory import Key


def _actor(served: int, fallbacks: int, problem: str = "") -> SimpleNamespace:
    fusion = SimpleNamespace(
        explicit=Fused(PAD.clamped(-0.8, 0.35, 0.2), 0.6, "text"),
        neural=None,
        listened=None,
        heard=None,
        gated=0,
        body=None,
        locks={"arousal": 0.35},
    )
    transformer = SimpleNamespace(
        counts={"bars": served, "fallbacks": fallbacks},
        model=SimpleNamespace(model="transformer-abc", where="composer thread"),
    )
    problems = {"transformer": problem} if problem else {}
    return SimpleNamespace(fusion=fusion, transformer=transformer, problems=problems, clock=None)


def test_each_bar_names_the_engine_that_wrote_it_and_why_the_rules_stood_in() -> None:
    log = BarLog()
    key = Key(2, "dorian")
    fused = Fused(PAD.clamped(-0.8, 0.35, 0.2), 0.6, "text")
    first = log.record(_actor(1, 0), 0, 1000, 120.0, key, fused)
    second = log.record(_actor(1, 1, "transformer late for bar 1"), 1, 97000, 120.0, key, fused)
    assert (first["writer"], first["model"], first["fallback"]) == (
        "transformer", "transformer-abc", ""
    )  # fmt: skip
    assert (second["writer"], second["model"]) == ("rules", None)
    assert second["fallback"] == "transformer late for bar 1"
    assert second["key"] == "D dorian" and second["sample"] == 97000
    sources = second["sources"]
    assert sources["text"]["valence"] == -0.8 and sources["performer"] is None
    assert sources["listener"] is None and sources["locks"] == {"arousal": 0.35}
    assert sources["midi"] is None and sources["listener_gated"] == 0
    assert list(log.recent) == [first, second]
