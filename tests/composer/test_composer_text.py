"""Text → emotion: a table of sentences, negation, intensity, mixtures, desires, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.pad import NEUTRAL, quadrant
from kelly_actors.composer.emotion.text import MAX_TEXT_CHARS, analyse

# (sentence, expected quadrant of what is felt now, or "family:<name>" for the nearest family)
SENTENCES: list[tuple[str, str]] = [
    # plain statements
    ("I am so happy today", "positive-high"),
    ("I feel joyful", "family:joy"),
    ("I'm grieving for my father", "family:sadness"),
    ("I am furious with them", "family:anger"),
    ("I'm terrified of tomorrow", "family:fear"),
    ("Such a peaceful evening", "family:peace"),
    ("I feel calm and relaxed", "family:peace"),
    ("I feel lonely", "family:sadness"),
    ("I'm anxious about the exam", "negative-high"),
    ("I am exhausted", "negative-low"),
    ("I'm bored out of my mind", "negative-low"),
    ("I'm in awe of the mountains", "family:wonder"),
    ("I feel grateful for my friends", "family:love"),
    ("I'm so excited for the show", "positive-high"),
    ("I feel confident and strong", "family:strength"),
    ("I'm ashamed of what I did", "family:shame"),
    ("That is disgusting", "family:disgust"),
    ("I feel numb and empty", "family:weariness"),
    ("I feel a deep sense of longing", "family:sadness"),
    ("I am heartbroken", "family:sadness"),
    ("I'm nostalgic about summer", "negative-low"),
    ("Feeling serene by the lake", "family:peace"),
    ("I'm so proud of you", "positive-high"),
    ("I'm feeling down", "family:sadness"),
    # inflections and phrases
    ("Her happiness filled the room", "positive-high"),
    ("He smiled sadly", "family:sadness"),
    ("I'm fed up with all of this", "family:anger"),
    ("I'm on edge tonight", "family:fear"),
    ("I'm worn out", "family:weariness"),
    ("I am at peace", "family:peace"),
    ("I'm freaked out", "family:fear"),
    # negation
    ("I am not happy", "negative-low"),
    ("I'm not sad", "positive-high"),
    ("I don't feel calm at all", "negative-high"),
    ("I'm not angry anymore", "positive-low"),
    ("I never feel safe", "negative-high"),
    ("I'm not afraid", "positive-low"),
    ("I'm not bored", "positive-high"),
    ("I can't stop worrying", "family:fear"),
    # intensifiers and softeners
    ("I'm extremely angry", "family:anger"),
    ("I'm a little sad", "negative-low"),
    ("I'm slightly nervous", "negative-high"),
    ("I'm very very happy", "family:joy"),
    ("I'm kind of worried", "negative-high"),
    ("I'm deeply grateful", "positive-high"),
    ("I am incredibly lonely", "negative-low"),
    # mixtures
    ("I'm happy but also a bit nervous", "positive-high"),
    ("I feel sad and angry", "negative-high"),
    ("I feel angry and scared", "negative-high"),
    ("Calm, content and grateful", "positive-low"),
    ("Grief and exhaustion", "negative-low"),
    ("Excited and a little anxious", "positive-high"),
    ("Lonely, tired and sad", "negative-low"),
    ("I'm hopeful and curious", "family:wonder"),
    # desires (what is felt now still has its own quadrant)
    ("I feel grief but I want to find peace", "family:sadness"),
    ("I'm anxious and I want to feel calm", "negative-high"),
    ("I'm furious but I wish I could be at peace", "family:anger"),
    ("I feel empty, I need to feel joy", "family:weariness"),
    ("Scared now, but I hope to feel brave and confident", "family:fear"),
    ("I'm so tired, I want to feel energized", "family:weariness"),
]

# (sentence, family of the stated desire)
DESIRES: list[tuple[str, str]] = [
    ("I feel grief but I want to find peace", "peace"),
    ("I'm anxious and I want to feel calm", "peace"),
    ("I'm furious but I wish I could be at peace", "peace"),
    ("I feel empty, I need to feel joy", "joy"),
    ("Scared now, but I hope to feel brave and confident", "strength"),
    ("I'm so tired, I want to feel energized", "joy"),
    ("I want to be happy but I feel sad", "joy"),
]

NONSENSE = [
    "",
    "   ",
    "asdf qwer zxcv",
    "the table is brown",
    "12345 67890",
    "🫠🫥",
    "\u0000\u0001\u200b\ufeff",
    "\ud800\udfff the chair",
    "ﷺ ﷽ ꧁꧂",
]


def _holds(sentence: str, expected: str) -> bool:
    result = analyse(sentence)
    if expected.startswith("family:"):
        family = expected.split(":", 1)[1]
        return thesaurus.get(result.nearest[0]).family == family
    return quadrant(result.pad) == expected


def test_the_sentence_table_has_at_least_sixty_entries():
    assert len(SENTENCES) >= 60


@pytest.mark.parametrize(("sentence", "expected"), SENTENCES)
def test_sentence_lands_in_the_expected_region(sentence, expected):
    result = analyse(sentence)
    assert _holds(sentence, expected), (sentence, result.pad, result.nearest)
    assert result.confidence > 0


@pytest.mark.parametrize(("sentence", "family"), DESIRES)
def test_a_stated_desire_is_returned_separately(sentence, family):
    result = analyse(sentence)
    assert result.desired is not None
    assert thesaurus.get(result.desired_nearest[0]).family == family


def test_grief_to_peace_keeps_the_present_and_the_goal_apart():
    result = analyse("I feel grief but I want to find peace")
    assert result.nearest[0] == "grief"
    assert result.desired_nearest[0] == "peace"
    assert result.pad.valence < 0 < result.desired.valence


@pytest.mark.parametrize("text", NONSENSE)
def test_nonsense_gives_neutral_with_zero_confidence_and_a_reason(text):
    result = analyse(text)
    assert result.pad == NEUTRAL
    assert result.confidence == 0.0
    assert result.reason


def test_negation_moves_valence_to_the_other_side():
    assert analyse("happy").pad.valence > 0 > analyse("not happy").pad.valence
    assert analyse("sad").pad.valence < 0 < analyse("not sad").pad.valence


def test_negated_emotion_is_milder_than_its_opposite():
    assert abs(analyse("not happy").pad.valence) < abs(analyse("happy").pad.valence)


def test_intensifier_pushes_further_from_neutral_than_the_plain_word():
    plain, very = analyse("angry").pad, analyse("very angry").pad
    assert very.distance(NEUTRAL) > plain.distance(NEUTRAL)


def test_softener_pulls_toward_neutral():
    plain, little = analyse("sad").pad, analyse("a little sad").pad
    assert little.distance(NEUTRAL) < plain.distance(NEUTRAL)
    assert little.valence < 0


def test_two_emotions_blend_between_them():
    joy, fear, both = (analyse(t).pad for t in ("joy", "fear", "joy and fear"))
    assert min(joy.valence, fear.valence) < both.valence < max(joy.valence, fear.valence)


def test_intensified_emotion_weighs_more_in_a_mixture():
    even = analyse("happy and sad").pad
    tilted = analyse("extremely happy and sad").pad
    assert tilted.valence > even.valence


def test_agreeing_words_are_more_confident_than_conflicting_ones():
    agree = analyse("sad, lonely and heartbroken").confidence
    conflict = analyse("ecstatic and heartbroken").confidence
    assert agree > conflict


def test_only_a_desire_gives_neutral_now_with_zero_confidence():
    result = analyse("I want to feel calm")
    assert result.pad == NEUTRAL
    assert result.confidence == 0.0
    assert result.desired_nearest[0] == "calm"


def test_fullwidth_and_accented_text_is_normalised():
    assert analyse("ｊｏｙ").nearest[0] == "joy"
    assert analyse("I’m not happy").pad.valence < 0


def test_very_long_text_is_read_up_to_the_limit_and_the_reason_says_so():
    text = "I feel happy " * (100_000 // 13 + 1)
    result = analyse(text)
    assert result.recognised
    assert quadrant(result.pad) == "positive-high"
    assert f"read the first {MAX_TEXT_CHARS} of {len(text)} characters" in result.reason


def test_text_just_under_the_limit_is_read_whole():
    # Its time (and that of 1 MB) is measured by benchmarks/text_emotion.py, not asserted.
    text = ("not very happy, but calm " * MAX_TEXT_CHARS)[: MAX_TEXT_CHARS - 1]
    result = analyse(text)
    assert result.recognised
    assert result.reason == "ok"


def test_non_text_input_is_neutral_not_an_error():
    result = analyse(None)
    assert result.confidence == 0.0
    assert "not text" in result.reason


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=300))
def test_any_unicode_text_gives_a_valid_result(text):
    result = analyse(text)
    assert 0.0 <= result.confidence <= 1.0
    assert result.reason
    assert len(result.nearest) == 3
    assert (result.confidence == 0.0) == (not any(not m.desired for m in result.matches))
