"""The key on every bar line, with the shipped model: scale decoding writes its own key,
free decoding lets the model choose it from the valence, and history bars that arrive
without a key cost one model call each for the model's reading of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_actors.music.notes import Note
from kelly_actors.music.theory import Key
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.generate import Generator, decoding_config
from kelly_actors.transformer.session import StepSession
from kelly_actors.transformer.tokens import SPECIAL, Bar, encode, quantize_bar

MODEL = Path(__file__).resolve().parents[2] / "models" / "transformer.onnx"


@pytest.fixture(scope="module")
def session() -> StepSession:
    return StepSession(MODEL)


def counted(generator: Generator) -> list[int]:
    """Records the number of tokens of every model call ``generator`` makes."""
    calls: list[int] = []
    run = generator.session.run
    generator.session.run = lambda *a: calls.append(a[0].shape[1]) or run(*a)
    return calls


def minor_probability(session: StepSession, valence: float) -> float:
    """The guided probability that the first bar line of a piece is in a minor key."""
    generator = Generator(session, decoding_config("free"))
    bos = np.asarray(SPECIAL[V.BOS], np.int64)
    emotion = np.asarray([[valence, 0.5]], np.float32)
    logits, _ = generator._run(bos, emotion, generator._empty())
    keys = logits[V.KEY][0, -1, 1:].astype(np.float64)
    p = np.exp(keys - keys.max())
    p /= p.sum()
    return float(p[1::2].sum())


def test_the_model_chooses_a_minor_key_at_negative_valence_and_a_major_one_at_positive(
    session: StepSession,
) -> None:
    """Free decoding's first choice, read from the model's own key logits (no sampling)."""
    sad, happy = minor_probability(session, -0.8), minor_probability(session, 0.8)
    assert sad > 0.8 and happy < 0.2, (sad, happy)


def test_scale_decoding_writes_its_key_on_every_bar_line(session: StepSession) -> None:
    key = Key(2, "aeolian")
    tokens = Generator(session).piece(-0.5, 0.5, 3, np.random.default_rng(4), key=key)
    lines = tokens[tokens[:, V.TYPE] == V.BAR]
    assert len(lines) == 3
    assert set(lines[:, V.KEY] - 1) == {V.key_index(2, "minor")}


HISTORY = [
    quantize_bar(Bar(96.0, (Note("bass", 45, 80, 0.0, 4.0), Note("melody", 69 + i, 80, 0.0, 2.0))))
    for i in (0, 3, 7)
]
GIVEN = Bar(96.0, (Note("bass", 45, 80, 0.0, 4.0),))


def calls_for(session: StepSession, decoding: str, bars: list[Bar]) -> int:
    """Model calls of one melody bar after ``bars``, not counting one per sampled note."""
    generator = Generator(session, decoding_config(decoding))
    calls = counted(generator)
    notes = generator.bar(bars, GIVEN, ("melody",), -0.5, 0.5, np.random.default_rng(1))
    return len(calls) - len(notes)


def test_unkeyed_history_takes_the_scale_decodings_key_at_no_cost(session: StepSession) -> None:
    keyed = [b.with_key(V.key_index(9, "minor")) for b in HISTORY]
    assert calls_for(session, "scale", HISTORY) == calls_for(session, "scale", keyed) == 1


def test_free_decoding_reads_each_unkeyed_history_bar_in_one_batched_call(
    session: StepSession,
) -> None:
    keyed = [b.with_key(V.key_index(9, "minor")) for b in HISTORY]
    assert calls_for(session, "free", keyed) == 2  # the history, then the bar line + notes
    assert calls_for(session, "free", HISTORY) == 2 + len(HISTORY)


def _reference_reading(generator: Generator, bar: Bar, emotion: np.ndarray) -> int:
    """The best key for ``bar`` after BOS among the sampler's top-k keys at the bar line,
    each scored by its own model run."""
    prior, _ = generator._run(np.asarray([SPECIAL[V.BOS]]), emotion, generator._empty())
    keys = np.argsort(-prior[V.KEY][0, -1, 1:], kind="stable")[: generator.config.sampling.top_k]
    scores = []
    for key in keys:
        rows = np.concatenate([[SPECIAL[V.BOS]], encode([bar.with_key(key)], bos=False, eos=False)])
        logits, _ = generator._run(rows, emotion, generator._empty())
        total = 0.0
        for j in range(1, len(rows)):
            for f in (V.TYPE, *V.FIELDS_OF_TYPE[int(rows[j, V.TYPE])]):
                x = logits[f][0, j - 1].astype(np.float64)
                total += x[rows[j, f]] - x.max() - np.log(np.exp(x - x.max()).sum())
        scores.append(total)
    return int(keys[int(np.argmax(scores))])


@pytest.mark.parametrize("decoding", ["free", "scale"])
def test_the_batched_key_reading_agrees_with_scoring_each_key_alone(
    session: StepSession, decoding: str
) -> None:
    generator = Generator(session, decoding_config(decoding))
    emotion = np.asarray([[-0.6, 0.4]], np.float32)
    bos = [np.asarray(SPECIAL[V.BOS], np.int64)]
    for bar in HISTORY:
        value, _, _ = generator._read_key(bos, generator._empty(), None, bar, emotion)
        assert value - 1 == _reference_reading(generator, bar, emotion)
