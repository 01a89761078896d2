"""``kelly top``'s ensemble lines, from the composer's own ensemble status."""

from __future__ import annotations

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.ensemble import EnsembleSettings, Voice, status
from kelly_actors.console.ensemble import ensemble_lines


def snapshot(telemetry: dict) -> dict:
    composer = {"name": "composer", "telemetry": {"emotion": {"valence": 0.0}, **telemetry}}
    return {"actors": [composer]}


def test_each_performer_has_a_line_with_values_share_and_age_and_the_leader_is_marked() -> None:
    settings = EnsembleSettings(
        streams=3, names=("ana", "ben", "cleo"), rule="leader", leader="ana", dropout_s=1.0
    )
    voices = {0: Voice(PAD(0.5, 0.8, 0.7), 0.9, 9.8), 1: Voice(PAD(-0.3, 0.2, 0.3), 0.6, 8.0)}
    lines = ensemble_lines(snapshot({"ensemble": status(settings, voices, 10.0, 0.4)}))
    assert lines == [
        "ENSEMBLE  rule leader (ana), 1/3 live",
        "★ ana   V +0.50  A 0.80  D 0.70  conf 0.90  share 100%  age 0.2 s",
        "  ben   V -0.30  A 0.20  D 0.30  conf 0.60  out (silent)  age 2.0 s",
        "  cleo  not heard yet",
    ]


def test_a_silent_leader_is_named_in_the_heading() -> None:
    settings = EnsembleSettings(streams=2, rule="leader", leader=0, dropout_s=1.0)
    voices = {0: Voice(PAD(0.5, 0.8, 0.7), 0.9, 5.0), 1: Voice(PAD(-0.3, 0.2, 0.3), 0.6, 9.9)}
    head = ensemble_lines(snapshot({"ensemble": status(settings, voices, 10.0, 0.4)}))[0]
    assert (
        head
        == "ENSEMBLE  rule leader (stream 0), 1/2 live — leader stream 0 silent: the others' mean"
    )


def test_a_solo_performance_has_no_ensemble_lines() -> None:
    assert ensemble_lines(snapshot({})) == []
