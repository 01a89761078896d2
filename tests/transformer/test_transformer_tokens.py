"""Compound-word tokens of the runtime tokenizer: exact round trip on constructed bars and
on the rule composer's music, clear errors for broken sequences. (The music21 corpus and
miditok's CPWord: tests/training/test_transformer_corpus_tokens.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.music.notes import Note
from kelly_actors.music.theory import mode_for
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.tokens import (
    Bar,
    TokenError,
    decode,
    encode,
    quantize,
    quantize_bar,
)
from training.transformer.rules_data import rule_piece


def assert_round_trip(bars: tuple[Bar, ...]) -> None:
    tokens = encode(bars)
    assert decode(tokens) == bars
    assert np.array_equal(encode(decode(tokens)), tokens)


def test_constructed_bars_of_every_track_round_trip_exactly() -> None:
    first = tuple(
        Note(track, 40 + 5 * i, 30 + 12 * i, 0.5 * i, 0.25 + 0.5 * i)
        for i, track in enumerate(V.TRACK_ORDER)
    )
    chord = tuple(Note("chords", pitch, 70, 0.0, 4.0) for pitch in (60, 64, 67))
    bars = quantize(
        [
            Bar(72.0, (*first, Note("melody", 79, 64, 1.5, 0.25)), V.key_index(9, "minor")),
            Bar(180.0, (), V.key_index(0, "major")),  # an empty bar keeps tempo and key
            Bar(
                96.0,
                (*chord, Note("melody", 96, 1, 3.75, 0.25), Note("bass", 28, 127, 0, 1)),
                V.key_index(11, "aeolian"),
            ),
        ]
    )
    assert [len(b.notes) for b in bars] == [len(V.TRACK_ORDER) + 1, 0, 5]
    assert [V.key_of(b.key) for b in bars] == [(9, "minor"), (0, "major"), (11, "minor")]
    assert_round_trip(bars)


def test_a_scale_degree_is_one_pitch_value_in_every_key_and_drums_keep_theirs() -> None:
    def values(tonic: int) -> list[int]:
        notes = (Note("bass", 48 + tonic, 80, 0, 1), Note("melody", 67 + tonic, 80, 0, 1))
        drum = (Note("drums", 36, 80, 0, 1),)
        bar = quantize_bar(Bar(100.0, notes + drum, V.key_index(tonic, "minor")))
        return encode([bar], bos=False, eos=False)[1:, V.PITCH].tolist()

    assert values(0) == [48 + V.PITCH_OFFSET, 37, 67 + V.PITCH_OFFSET]
    assert all(values(t) == values(0) for t in range(12))


def test_a_bar_without_a_key_cannot_be_encoded() -> None:
    bars = quantize([Bar(96.0, (), 0), Bar(96.0, ())])
    with pytest.raises(TokenError, match="bar 1 has no key"):
        encode(bars)


@pytest.mark.parametrize(("tonic", "mode"), [(-1, "major"), (12, "minor")])
def test_a_key_outside_the_twelve_tonics_is_refused(tonic: int, mode: str) -> None:
    with pytest.raises(ValueError, match="pitch class"):
        V.key_index(tonic, mode)


@pytest.mark.parametrize("seed", range(4))
def test_rule_composer_pieces_carry_the_mode_of_their_valence_in_every_bar(seed: int) -> None:
    piece = rule_piece(seed, 6, np.random.default_rng(seed))
    minor = mode_for(piece.valence) in V.MINOR_NAMES
    assert {V.key_of(b.key)[1] for b in piece.bars} == {"minor" if minor else "major"}


@pytest.mark.parametrize("seed", range(6))
def test_rule_composer_pieces_round_trip_exactly(seed: int) -> None:
    piece = rule_piece(seed, 6, np.random.default_rng(seed))
    assert sum(len(b.notes) for b in piece.bars) > 0
    assert_round_trip(piece.bars)


def test_quantizing_twice_changes_nothing_and_keeps_notes_inside_the_bar() -> None:
    bar = Bar(
        131.3,
        (
            Note("melody", 72, 100, 0.1, 0.7),
            Note("melody", 72, 90, 0.12, 0.2),  # same slot: the longer one stays
            Note("bass", 40, 127, 3.9, 3.0),
            Note("drums", 36, 1, 2.0, 0.1),
        ),
    )
    once = quantize_bar(bar)
    assert quantize_bar(once) == once
    assert once.tempo_bpm == 132.0
    assert [n.track for n in once.notes] == ["bass", "drums", "melody"]
    assert all(n.end_beat <= 4.0 for n in once.notes)
    assert once.notes[2] == Note("melody", 72, 102, 0.0, 0.75)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[V.NOTE, 1, 1, 61, 10, 1, 0, 0]], "before the first bar line"),
        ([[V.BAR, 0, 0, 0, 0, 0, 5, 1], [V.NOTE, 1, 16, 61, 10, 4, 0, 0]], "past the bar line"),
        (
            [
                [V.BAR, 0, 0, 0, 0, 0, 5, 1],
                [V.NOTE, 2, 1, 61, 10, 1, 0, 0],
                [V.NOTE, 1, 1, 61, 10, 1, 0, 0],
            ],
            "out of order",
        ),
        ([[V.BAR, 0, 0, 0, 0, 0, 0, 1]], "tempo=0 out of range"),
        ([[V.BAR, 0, 0, 0, 0, 0, 5, 0]], "key=0 out of range"),
        ([[V.BAR, 0, 0, 0, 0, 0, 5, 25]], "key=25 out of range"),
        ([[V.BAR, 0, 0, 5, 0, 0, 3, 1]], "pitch must be 0"),
        ([[V.NOTE, 1, 1, 61, 10, 1, 0, 3]], "key must be 0"),
        ([[V.EOS, 0, 0, 0, 0, 0, 0, 0], [V.BAR, 0, 0, 0, 0, 0, 3, 1]], "after EOS"),
        ([[9, 0, 0, 0, 0, 0, 0, 0]], "bad type"),
        # Pitch 139 is MIDI 127 above a C tonic but MIDI 138 above B; drums have no 129.
        ([[V.BAR, 0, 0, 0, 0, 0, 5, 23], [V.NOTE, 1, 1, 139, 10, 1, 0, 0]], "outside 0..127"),
        ([[V.BAR, 0, 0, 0, 0, 0, 5, 1], [V.NOTE, 5, 1, 130, 10, 1, 0, 0]], "outside 0..127"),
    ],
)
def test_broken_sequences_are_refused_with_the_reason(rows: list, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        decode(np.asarray(rows))


def test_a_token_array_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(TokenError, match="shape"):
        decode(np.zeros((3, 4), np.int64))


def test_unknown_tracks_cannot_be_quantized() -> None:
    with pytest.raises(TokenError, match="unknown track"):
        quantize([Bar(120, (Note("kazoo", 60, 80, 0, 1),))])
