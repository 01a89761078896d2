"""Grammar-constrained sampling: whatever the logits, every sequence decodes, and the
track restriction and top-k / temperature settings hold."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.music.notes import Note
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.grammar import Grammar
from kelly_actors.transformer.sampler import SamplingConfig, sample_token, sample_value
from kelly_actors.transformer.tokens import SPECIAL, bar_token, decode, note_token


def random_logits(rng: np.random.Generator, scale: float) -> list[np.ndarray]:
    return [rng.normal(0, scale, size) for size in V.FIELD_SIZES]


@pytest.mark.parametrize("seed", range(8))
def test_sampling_from_random_logits_under_the_masks_always_decodes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    grammar = Grammar(pitch_ranges={"melody": (60, 62)})
    config = SamplingConfig(temperature=2.0, top_k=200)
    rows = []
    while not grammar.ended and len(rows) < 400:
        row = sample_token(random_logits(rng, 5.0), grammar, config, rng)
        grammar.feed(row)
        rows.append(row)
    tokens = np.stack(rows)
    bars = decode(tokens)
    assert tokens[0, V.TYPE] == V.BOS
    assert all(n.pitch in (60, 61, 62) for b in bars for n in b.notes if n.track == "melody")


def test_a_crowded_slot_moves_the_next_note_on_rather_than_dead_ending() -> None:
    grammar = Grammar(tracks=frozenset({"melody"}))
    grammar.feed(SPECIAL[V.BOS])
    grammar.feed(bar_token(100.0, V.key_index(9, "minor")))
    # The melody's last note is pitch 127 at the last 16th: no melody note can follow.
    grammar.feed(note_token(Note("melody", 127, 80, 3.75, 0.25), V.key_index(9, "minor")))
    assert not grammar.type_mask()[V.NOTE]
    assert grammar.type_mask()[V.BAR] and grammar.type_mask()[V.EOS]


def test_only_the_requested_tracks_are_sampled() -> None:
    rng = np.random.default_rng(3)
    grammar = Grammar(tracks=frozenset({"counter", "melody"}))
    for row in (SPECIAL[V.BOS], bar_token(100.0, 0)):
        grammar.feed(row)
    logits = random_logits(rng, 1.0)
    logits[V.TYPE][V.NOTE] = 50.0  # the model wants notes
    tracks = []
    for _ in range(30):
        row = sample_token(logits, grammar, SamplingConfig(top_k=64), rng)
        if row[V.TYPE] != V.NOTE:  # the bar is full for these tracks
            break
        tracks.append(V.TRACK_ORDER[row[V.TRACK] - 1])
        grammar.feed(row)
    assert len(tracks) >= 5 and set(tracks) <= {"counter", "melody"}


def test_top_k_of_one_takes_the_best_allowed_value() -> None:
    rng = np.random.default_rng(0)
    logits = np.array([9.0, 1.0, 5.0, 3.0])
    mask = np.array([False, True, True, True])
    picks = {sample_value(logits, mask, SamplingConfig(top_k=1), rng) for _ in range(20)}
    assert picks == {2}


def test_low_temperature_concentrates_and_high_temperature_spreads() -> None:
    logits = np.array([2.0, 1.0, 0.0])
    mask = np.ones(3, bool)

    def share_of_best(temperature: float) -> float:
        rng = np.random.default_rng(1)
        config = SamplingConfig(temperature=temperature, top_k=3)
        return np.mean([sample_value(logits, mask, config, rng) == 0 for _ in range(2000)])

    assert share_of_best(0.2) > 0.95 > share_of_best(1.0) > share_of_best(5.0)


def test_a_key_temperature_sharpens_the_bar_lines_key_and_leaves_the_notes_alone() -> None:
    grammar = Grammar()
    grammar.feed(np.asarray(SPECIAL[V.BOS], np.int64))
    logits = [np.zeros(size) for size in V.FIELD_SIZES]
    logits[V.TYPE][V.BAR] = 50.0  # a bar line, then its key
    logits[V.KEY][1:3] = (1.0, 0.0)  # key 0 (value 1) a little likelier than key 1
    logits[V.TEMPO][1] = 50.0

    def share_of_first_key(config: SamplingConfig) -> float:
        rng = np.random.default_rng(3)
        rows = [sample_token(logits, grammar, config, rng) for _ in range(1000)]
        return float(np.mean([row[V.KEY] == 1 for row in rows]))

    plain, sharp = SamplingConfig(top_k=2), SamplingConfig(top_k=2, key_temperature=0.1)
    assert share_of_first_key(sharp) > 0.99
    assert 0.6 < share_of_first_key(plain) < 0.85  # e / (1 + e) ≈ 0.73
    assert sharp.for_key().temperature == 0.1 and sharp.temperature == 1.0
    assert plain.for_key() is plain


@pytest.mark.parametrize(
    ("temperature", "top_k", "key_temperature"),
    [(0.0, 8, None), (-1.0, 8, None), (1.0, 0, None), (1.0, 8, 0.0), (1.0, 8, -0.5)],
)
def test_bad_sampling_settings_are_refused(
    temperature: float, top_k: int, key_temperature: float | None
) -> None:
    with pytest.raises(ValueError, match="must be"):
        SamplingConfig(temperature=temperature, top_k=top_k, key_temperature=key_temperature)


def test_a_scale_limit_keeps_pitched_tracks_in_the_scale_and_leaves_drums_free() -> None:
    rng = np.random.default_rng(11)
    scale = frozenset({0, 2, 4, 5, 7, 9, 11})
    grammar = Grammar(pitch_classes=scale, emphasis={0: 2.0})
    config = SamplingConfig(temperature=2.0, top_k=200)
    rows = []
    while not grammar.ended and len(rows) < 400:
        row = sample_token(random_logits(rng, 5.0), grammar, config, rng)
        grammar.feed(row)
        rows.append(row)
    notes = [n for b in decode(np.stack(rows)) for n in b.notes]
    assert all(n.pitch % 12 in scale for n in notes if n.track != "drums")
    assert grammar.pitch_bias(V.TRACK_INDEX["drums"] + 1) is None
    melody = V.TRACK_INDEX["melody"]
    bias = grammar.pitch_bias(melody + 1)
    shift = V.pitch_shift(melody, grammar.bar_key)
    assert bias is not None and bias[60 + shift] == 2.0 and bias[62 + shift] == 0.0


@pytest.mark.parametrize("tonic", [0, 2, 11])
def test_pitch_values_count_from_the_bar_tonic_and_drums_keep_their_key(tonic: int) -> None:
    grammar = Grammar(pitch_ranges={"melody": (60, 62), "drums": (36, 36)})
    grammar.feed(SPECIAL[V.BOS])
    grammar.feed(bar_token(100.0, V.key_index(tonic, "major")))
    melody = np.flatnonzero(grammar.pitch_mask(V.TRACK_INDEX["melody"] + 1, 1))
    drums = np.flatnonzero(grammar.pitch_mask(V.TRACK_INDEX["drums"] + 1, 1))
    assert melody.tolist() == [p - tonic + V.PITCH_OFFSET for p in (60, 61, 62)]
    assert drums.tolist() == [37]
