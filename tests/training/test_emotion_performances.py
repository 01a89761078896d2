"""How the listener's corpus pieces are played as a PAD point: the pace arousal asks for
(formulas 1 and 4 as an onset rate), whatever note values the piece is written in."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kelly_actors.composer import map_emotion
from kelly_actors.composer.emotion.pad import PAD
from training.emotion.clip_level import arousal_of_onset_rate
from training.emotion.performances import (
    Score,
    ScoreNote,
    onset_density,
    onsets_per_second,
    perform,
    written_beat_seconds,
)


def _scale_run(note_beats: float, notes: int = 16) -> Score:
    """C major up and down in notes of ``note_beats`` written beats each."""
    steps = (0, 2, 4, 5, 7, 9, 11, 12)
    pitches = [60 + steps[i % len(steps)] for i in range(notes)]
    score_notes = tuple(
        ScoreNote(i * note_beats, note_beats, pitch) for i, pitch in enumerate(pitches)
    )
    return Score(f"run{note_beats}", "test", score_notes, notes * note_beats, 0, "ionian")


def _onsets_per_second(score: Score, point: PAD, seconds: float, onset_rate: bool) -> float:
    played = perform(score, point, seconds, random.Random(0), onset_rate=onset_rate)
    return len(played.notes) / seconds


def test_onset_density_counts_a_chord_once_per_written_beat() -> None:
    chord = tuple(ScoreNote(float(b), 1.0, p) for b in range(4) for p in (60, 64, 67))
    assert onset_density(Score("chords", "test", chord, 4.0, 0, "ionian")) == 1.0
    assert onset_density(_scale_run(0.5)) == 2.0


@pytest.mark.parametrize(("arousal", "per_second"), [(0.0, 0.5), (0.5, 4.5), (1.0, 12.0)])
def test_the_onset_rate_is_the_composers_melody_density_at_its_tempo(arousal, per_second) -> None:
    assert onsets_per_second(map_emotion(PAD(0.0, arousal, 0.5))) == pytest.approx(per_second)


@pytest.mark.parametrize("arousal", [0.1, 0.5, 0.9])
def test_whole_notes_and_eighth_notes_are_heard_at_the_same_pace(arousal) -> None:
    point = PAD(0.3, arousal, 0.5)
    wanted = onsets_per_second(map_emotion(point))
    for note_beats in (4.0, 0.5):
        heard = _onsets_per_second(_scale_run(note_beats), point, 60.0, onset_rate=True)
        assert heard == pytest.approx(wanted, rel=0.05)


def test_without_the_onset_rate_a_written_quarter_is_the_tempo_formulas_beat() -> None:
    point = PAD(0.3, 0.5, 0.5)
    whole = _onsets_per_second(_scale_run(4.0), point, 60.0, onset_rate=False)
    eighths = _onsets_per_second(_scale_run(0.5), point, 60.0, onset_rate=False)
    assert eighths == pytest.approx(8 * whole, rel=0.1)
    assert written_beat_seconds(_scale_run(4.0), map_emotion(point), False) == 0.5


def test_higher_arousal_plays_the_same_piece_faster() -> None:
    piece = _scale_run(1.0)
    rates = [_onsets_per_second(piece, PAD(0.0, a, 0.5), 30.0, True) for a in (0.1, 0.4, 0.7)]
    assert rates == sorted(rates) and rates[-1] > 3 * rates[0]


def test_humanised_timing_is_in_the_formulas_beat_however_slow_the_written_beat() -> None:
    point = PAD(0.0, 0.2, 0.0)  # the loosest timing: 0.025 beats
    params = map_emotion(point)
    score = _scale_run(4.0, notes=400)
    beat_s = written_beat_seconds(score, params, True)
    played = perform(score, point, 400 * 4.0 * beat_s, random.Random(1))
    grid = np.array([i * 4.0 * beat_s for i in range(len(played.notes))])
    starts = np.array([n.start for n in played.notes])
    wanted = params.timing_jitter * 60.0 / params.tempo_bpm
    assert np.std(starts[1:] - grid[1:]) == pytest.approx(wanted, rel=0.2)


def test_an_empty_score_plays_nothing_and_does_not_fail() -> None:
    empty = Score("empty", "test", (), 0.0, 0, "ionian")
    assert perform(empty, PAD(0.0, 0.5, 0.5), 6.0, random.Random(0)).notes == ()


@pytest.mark.parametrize("arousal", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_the_rule_baseline_inverts_the_onset_rate_the_performances_are_played_at(arousal) -> None:
    rate = onsets_per_second(map_emotion(PAD(0.0, arousal, 0.5)))
    assert arousal_of_onset_rate(rate) == pytest.approx(arousal, abs=1e-9)
    assert arousal_of_onset_rate(0.0) == 0.0 and arousal_of_onset_rate(40.0) == 1.0
