"""Scoring text → emotion against a labelled set (``benchmarks/data/text_emotion.tsv``).

The set's format is described in its header. A prediction's class is
``neutral`` when the analyser states nothing felt now (confidence 0) or lands
in the neutral valence band, else the PAD quadrant of what is felt now. The
held-out split is recomputed here from its rule (:func:`heldout_names`), so a
sentence cannot move between the two halves unnoticed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kelly_actors.composer.emotion.pad import quadrant
from kelly_actors.composer.emotion.text import TextEmotion

CLASSES = ("positive-high", "positive-low", "negative-high", "negative-low", "neutral")
HELDOUT_SALT = "kelly-text-heldout-v1\n"
HELDOUT_SIZE = 50
#: 95 % two-sided normal quantile, for the Wilson interval.
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled sentence: what is felt now (quadrant and V/A/D) and any stated wish."""

    split: str
    category: str
    quadrant: str
    valence: float
    arousal: float
    dominance: float
    desired: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Score:
    """Accuracy of one analyser on some sentences.

    ``confusion[label][predicted]`` counts sentences; ``valence_mae`` and
    ``arousal_mae`` are mean absolute errors on the sentences whose label is
    not neutral; ``desire_accuracy`` is over the sentences that state a wish.
    """

    n: int
    correct: int
    confusion: dict[str, dict[str, int]]
    by_category: dict[str, tuple[int, int]]
    valence_mae: float
    arousal_mae: float
    desire_correct: int
    desire_n: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def desire_accuracy(self) -> float:
        return self.desire_correct / self.desire_n if self.desire_n else 0.0

    def interval(self) -> tuple[float, float]:
        """Wilson 95 % interval of the quadrant accuracy (binomial, n sentences)."""
        return wilson(self.correct, self.n)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials (0…1 both ends)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def heldout_names(texts: Iterable[str], size: int = HELDOUT_SIZE) -> frozenset[str]:
    """The held-out sentences by the set's fixed rule: the smallest salted sha256."""

    def key(text: str) -> str:
        return hashlib.sha256((HELDOUT_SALT + text).encode("utf-8")).hexdigest()

    return frozenset(sorted(texts, key=key)[:size])


def load(path: Path) -> list[Labelled]:
    """Read the TSV (comment lines start with ``#``, then a header line); ValueError if bad."""
    rows: list[Labelled] = []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 8:
            raise ValueError(f"{path}: data line {number} has {len(fields)} fields, not 8")
        split, category, quad, v, a, d, desired, text = fields
        if quad not in CLASSES or (desired != "-" and desired not in CLASSES):
            raise ValueError(f"{path}: data line {number}: unknown quadrant")
        rows.append(
            Labelled(split, category, quad, float(v), float(a), float(d), _opt(desired), text)
        )
    return rows


def _opt(value: str) -> str | None:
    return None if value == "-" else value


def predicted_class(result: TextEmotion) -> str:
    """The class a result falls in (see the module docstring)."""
    if result.confidence <= 0:
        return "neutral"
    label = quadrant(result.pad)
    return "neutral" if label.startswith("neutral") else label


def desired_class(result: TextEmotion) -> str | None:
    if result.desired is None:
        return None
    label = quadrant(result.desired)
    return "neutral" if label.startswith("neutral") else label


def score(rows: Iterable[Labelled], analyse: Callable[[str], TextEmotion]) -> Score:
    """Run ``analyse`` on each sentence and count agreement with its labels."""
    confusion = {a: dict.fromkeys(CLASSES, 0) for a in CLASSES}
    by_category: dict[str, tuple[int, int]] = {}
    n = correct = desire_n = desire_correct = 0
    v_err: list[float] = []
    a_err: list[float] = []
    for row in rows:
        result = analyse(row.text)
        got = predicted_class(result)
        confusion[row.quadrant][got] += 1
        hit = got == row.quadrant
        n += 1
        correct += hit
        ok, total = by_category.get(row.category, (0, 0))
        by_category[row.category] = (ok + hit, total + 1)
        if row.quadrant != "neutral":
            v_err.append(abs(result.pad.valence - row.valence))
            a_err.append(abs(result.pad.arousal - row.arousal))
        if row.desired is not None:
            desire_n += 1
            desire_correct += desired_class(result) == row.desired
    return Score(
        n,
        correct,
        confusion,
        dict(sorted(by_category.items())),
        sum(v_err) / len(v_err) if v_err else 0.0,
        sum(a_err) / len(a_err) if a_err else 0.0,
        desire_correct,
        desire_n,
    )


def confusion_table(s: Score) -> str:
    """A Markdown table: rows are labels, columns predictions."""
    head = "| label \\ predicted | " + " | ".join(CLASSES) + " |"
    rule = "|---" * (len(CLASSES) + 1) + "|"
    body = [
        f"| {label} | " + " | ".join(str(s.confusion[label][p]) for p in CLASSES) + " |"
        for label in CLASSES
    ]
    return "\n".join([head, rule, *body])
