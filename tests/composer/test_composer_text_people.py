"""Text that understands people: the labelled set's floors, events, emoji, emphasis, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.composer.emotion import evaluate
from kelly_actors.composer.emotion.pad import NEUTRAL, quadrant
from kelly_actors.composer.emotion.text import MAX_TEXT_CHARS, analyse

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "text_emotion.tsv"
#: The tuning set's target (issue 12).
TUNE_FLOOR = 0.85
#: The held-out set measured 0.90 (45/50) once, after tuning had ended; the floor is that
#: minus five sentences, about the lower end of its Wilson 95 % interval (0.79).
HELDOUT_FLOOR = 0.80

# The sentences issue 12 found neutral with confidence 0, and where they belong.
ISSUE_SENTENCES = [
    ("We won! This is the best night of my life", "positive-high"),
    ("It's over. I lost the baby", "negative-low"),
    ("Everything feels heavy since my father died", "negative-low"),
    ("I FEEL AMAZING!!!", "positive-high"),
    ("😭😭😭", "negative-low"),
]


@pytest.fixture(scope="module")
def rows() -> list[evaluate.Labelled]:
    return evaluate.load(DATA)


def test_the_labelled_set_has_250_sentences_and_its_split_follows_the_sha256_rule(rows):
    assert len(rows) >= 200
    held = evaluate.heldout_names(r.text for r in rows)
    assert len(held) == evaluate.HELDOUT_SIZE
    assert [r.text for r in rows if r.split == "heldout"] == [
        r.text for r in rows if r.text in held
    ]
    assert {r.split for r in rows} == {"tune", "heldout"}
    assert len({r.text for r in rows}) == len(rows)


def test_the_tuning_set_lands_in_the_right_quadrant_at_least_85_percent(rows):
    score = evaluate.score([r for r in rows if r.split == "tune"], analyse)
    assert score.accuracy >= TUNE_FLOOR, evaluate.confusion_table(score)
    assert score.desire_accuracy >= 0.9


def test_the_held_out_set_keeps_its_measured_floor(rows):
    score = evaluate.score([r for r in rows if r.split == "heldout"], analyse)
    assert score.accuracy >= HELDOUT_FLOOR, evaluate.confusion_table(score)


@pytest.mark.parametrize(("sentence", "expected"), ISSUE_SENTENCES)
def test_what_the_issue_found_neutral_now_lands_in_its_quadrant(sentence, expected):
    result = analyse(sentence)
    assert result.confidence > 0, result
    assert quadrant(result.pad) == expected, result


@pytest.mark.parametrize(
    ("plain", "negated"),
    [
        ("I am happy", "I am not happy"),
        ("I'm sad", "I'm not sad"),
        ("This is good", "This isn't good"),
        ("Everybody loves me", "Nobody loves me"),
        ("I'm afraid of it", "Nothing to be afraid of"),
    ],
)
def test_negation_moves_valence_to_the_other_side(plain, negated):
    a, b = analyse(plain).pad.valence, analyse(negated).pad.valence
    assert a * b < 0, (plain, a, negated, b)


def test_a_wish_is_a_desire_and_what_is_felt_now_stays_apart():
    result = analyse("I'm so stressed. I just want to sleep peacefully")
    assert quadrant(result.pad) == "negative-high"
    assert result.desired is not None and quadrant(result.desired) == "positive-low"
    only = analyse("I want to feel calm")
    assert only.pad == NEUTRAL and only.confidence == 0.0
    assert only.desired is not None and "desired" in only.reason


def test_someone_elses_wish_is_not_the_speakers_desire():
    result = analyse("The doctor wants to see me urgently")
    assert result.desired is None


def test_sarcasm_with_a_bad_event_reads_negative():
    assert analyse("Oh great, another Monday").pad.valence < 0
    assert analyse("Wonderful, the train is late again").pad.valence < 0
    assert analyse("Wonderful, we won the cup!").pad.valence > 0


def test_shouting_and_exclamation_marks_raise_arousal():
    calm, loud = analyse("I am happy").pad, analyse("I AM HAPPY!!!").pad
    assert loud.arousal > calm.arousal
    assert analyse("sigh... whatever...").pad.arousal < 0.5


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Je suis très heureux aujourd'hui", "French"),
        ("Estoy muy triste porque mi perro murió", "Spanish"),
        ("Ich bin so wütend auf meinen Chef", "German"),
        ("Я очень счастлив", "another script"),
    ],
)
def test_another_language_is_neutral_with_a_reason(text, language):
    result = analyse(text)
    assert result.pad == NEUTRAL and result.confidence == 0.0
    assert "not English" in result.reason and language in result.reason


@pytest.mark.parametrize(
    "text",
    [
        "",
        "!!!???...",
        "....",
        "🫠",
        "\x00\x07\x1b[31m",
        "\ufffd\ufffd\ufffd",
        "ＡＢＣ",
        "a" * 50_000,
    ],
)
def test_odd_input_gives_an_answer_or_a_reason(text):
    result = analyse(text)
    assert result.reason
    assert 0.0 <= result.confidence <= 1.0


def test_a_megabyte_is_read_up_to_the_limit_and_the_reason_says_so():
    text = "Everything feels heavy since my father died. " * ((1 << 20) // 45)
    result = analyse(text.encode("utf-8"))
    assert quadrant(result.pad) == "negative-low"
    assert f"read the first {MAX_TEXT_CHARS} of" in result.reason


def _check(result) -> None:
    assert 0.0 <= result.confidence <= 1.0
    assert result.reason
    assert len(result.nearest) == 3
    assert (result.confidence == 0.0) == (not any(not m.desired for m in result.matches))


@settings(max_examples=150, deadline=None, database=None)
@given(st.binary(max_size=400), st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]))
def test_bytes_decoded_any_way_give_a_valid_result(raw, encoding):
    _check(analyse(raw.decode(encoding, errors="replace")))
    _check(analyse(raw))


_PIECES = st.sampled_from(
    [
        "I",
        "not",
        "very",
        "happy",
        "lost",
        "won",
        "!!!",
        "...",
        "but",
        "want",
        "to",
        "feel",
        "calm",
        "😭",
        "🎉",
        "OMG",
        "Oh",
        "great",
        ",",
        "je",
        "suis",
        "\n",
        "\x00",
        "\u200b",
    ]
)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=60))
def test_any_mix_of_words_emoji_controls_and_languages_gives_a_valid_result(pieces):
    _check(analyse(" ".join(pieces)))
