"""An ensemble's listeners fused into one: the rules as pure functions, the settings'
errors, and the fusion with per-stream estimates."""

from __future__ import annotations

import pytest

from kelly_actors.composer.config import ComposerConfig
from kelly_actors.composer.emotion.pad import NEUTRAL, PAD
from kelly_actors.composer.live.ensemble import (
    EnsembleSettings,
    Voice,
    fuse,
    rule_weights,
    status,
)
from kelly_actors.composer.live.fusion import EmotionFusion, FusionError, FusionSettings
from kelly_actors.config.typed import ConfigError, from_mapping

BRIGHT = PAD(0.6, 0.8, 0.7)
DARK = PAD(-0.4, 0.2, 0.3)
GATE = 0.4


def settings(**kw: object) -> EnsembleSettings:
    return EnsembleSettings(**{"streams": 3, "names": ("ana", "ben", "cleo"), **kw})


def voices(now: float = 10.0) -> dict[int, Voice]:
    """ana bright and ben dark, both fresh; cleo never heard."""
    return {0: Voice(BRIGHT, 0.8, now), 1: Voice(DARK, 0.6, now)}


def test_the_mean_rule_averages_the_live_streams_and_leaves_out_the_silent_one() -> None:
    view = fuse(settings(rule="mean"), voices(), 10.0, GATE)
    assert view.point.arousal == pytest.approx(0.5)
    assert view.point.valence == pytest.approx(0.1)
    assert view.confidence == pytest.approx(0.7)
    assert [p.share for p in view.parts] == [0.5, 0.5, 0.0]
    assert not view.parts[2].live and view.note == ""


def test_the_weighted_rule_renormalises_its_weights_over_the_live_streams() -> None:
    view = fuse(settings(rule="weighted", weights=(3.0, 1.0, 4.0)), voices(), 10.0, GATE)
    assert [p.share for p in view.parts] == [0.75, 0.25, 0.0]
    assert view.point.arousal == pytest.approx(0.75 * 0.8 + 0.25 * 0.2)


def test_the_leader_rule_follows_the_leader_while_it_plays() -> None:
    view = fuse(settings(rule="leader", leader="ben"), voices(), 10.0, GATE)
    assert view.point == DARK and view.note == ""
    assert [p.leader for p in view.parts] == [False, True, False]


def test_a_silent_leader_hands_over_to_the_others_and_says_so() -> None:
    heard = {0: Voice(BRIGHT, 0.8, 0.0), 1: Voice(DARK, 0.6, 10.0)}  # ana quiet for 10 s
    view = fuse(settings(rule="leader", leader=0, dropout_s=1.0), heard, 10.0, GATE)
    assert view.point == DARK
    assert view.note == "leader ana silent: the others' mean"


def test_a_stream_below_the_gate_or_stale_drops_out_instead_of_pulling_to_neutral() -> None:
    heard = {0: Voice(BRIGHT, 0.8, 10.0), 1: Voice(DARK, 0.1, 10.0), 2: Voice(DARK, 0.9, 7.0)}
    view = fuse(settings(rule="mean", dropout_s=2.0), heard, 10.0, GATE)
    assert view.point == BRIGHT
    assert [p.live for p in view.parts] == [True, False, False]


def test_with_no_stream_live_there_is_no_listener_emotion() -> None:
    view = fuse(settings(), {}, 10.0, GATE)
    assert view.point is None and view.note == "no stream live"
    leader = rule_weights(settings(rule="leader"), [False, False, False])
    assert leader == ([0.0, 0.0, 0.0], "leader ana silent: nobody else plays")


def test_status_lists_every_stream_with_its_values_age_and_share() -> None:
    out = status(settings(rule="leader", leader="ana"), voices(9.5), 10.0, GATE)
    assert out["leader"] == "ana" and out["live"] == 2
    ana, ben, cleo = out["streams"]
    assert (ana["arousal"], ana["confidence"], ana["age_s"], ana["share"]) == (0.8, 0.8, 0.5, 1.0)
    assert ben["share"] == 0.0 and ben["live"]
    assert cleo["valence"] is None and cleo["age_s"] is None and not cleo["live"]
    assert out["fused"] == {"valence": 0.6, "arousal": 0.8, "dominance": 0.7}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"streams": 3, "weights": [1.0, 2.0]}, "ensemble: weights has 2 values for streams = 3"),
        ({"streams": 3, "leader": 3}, "ensemble: leader = 3 is out of range: streams are 0…2"),
        ({"streams": 2, "names": ["a", "b"], "leader": "c"}, "leader = 'c' names no stream"),
        ({"streams": 2, "rule": "loudest"}, "ensemble: rule must be one of mean, leader, weighted"),
        ({"streams": 2, "rule": "weighted"}, "rule = 'weighted' needs weights"),
        ({"streams": 2, "names": ["a"]}, "names has 1 names for streams = 2"),
        ({"streams": 9}, "ensemble: streams"),
    ],
)
def test_a_bad_ensemble_table_is_a_config_error_naming_the_key(table, message) -> None:
    with pytest.raises(ConfigError, match="ensemble") as err:
        from_mapping(ComposerConfig, {"ensemble": table}, "actors.composer.options")
    assert message in str(err.value)


def ensemble_fusion(**kw: object) -> EmotionFusion:
    return EmotionFusion(FusionSettings(deadband=0.0), NEUTRAL, settings(**kw))


def test_the_fusion_smooths_each_stream_apart_and_plays_the_ensembles_rule() -> None:
    f = ensemble_fusion(rule="mean")
    for t in (0.0, 0.1, 0.2):
        assert f.estimate(BRIGHT, 0.8, t, stream=0)
        assert f.estimate(DARK, 0.8, t, stream=1)
    assert not f.estimate(BRIGHT, 0.0, 0.2, stream=2)  # silence: under the gate
    bar = f.next_bar(0.3)
    assert bar.source == "neural"
    assert bar.point.arousal == pytest.approx(0.5)
    assert f.ensemble_view is not None and f.ensemble_view.parts[2].live is False


def test_the_ensembles_emotion_is_weighed_with_the_performers_like_a_solo_listener() -> None:
    f = ensemble_fusion(rule="leader", leader="ana")
    f.set_emotion(PAD(0.0, 0.2, 0.5))
    f.estimate(PAD(0.0, 0.8, 0.5), 1.0, 0.0, stream=0)
    f.estimate(PAD(0.0, 0.0, 0.5), 1.0, 0.0, stream=1)
    bar = f.next_bar(0.1)
    assert bar.source == "performer+neural"
    assert bar.point.arousal == pytest.approx((1.0 * 0.2 + 0.5 * 0.8) / 1.5)


def test_an_estimate_of_a_stream_the_ensemble_does_not_have_is_refused() -> None:
    with pytest.raises(FusionError, match="stream 3 is not one of the ensemble's 3"):
        ensemble_fusion().estimate(BRIGHT, 0.9, 0.0, stream=3)
    with pytest.raises(FusionError, match="stream 1 is not one of the ensemble's 1"):
        EmotionFusion(FusionSettings()).estimate(BRIGHT, 0.9, 0.0, stream=1)
