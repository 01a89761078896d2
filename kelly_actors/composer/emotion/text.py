"""Text → emotion (the original's "wound" processing).

A lexicon pass over the thesaurus names and synonyms, with negation,
intensifiers and softeners, blending of several emotions, and the split
between what the person feels now and what they want to feel ("I feel grief
but I want to find peace"). :func:`analyse` never raises: bad input gives the
neutral point with confidence 0 and a ``reason``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.pad import NEUTRAL, PAD, blend

#: Longer texts are refused (bounded time on stage); 100 kB pastes are not speech.
MAX_TEXT_CHARS = 20_000
#: How many tokens after "not" / "very" the modifier still reaches.
MODIFIER_REACH = 4
#: Intensity multipliers never go outside this band, however they stack.
INTENSITY_BOUNDS = (0.2, 2.0)
#: How far intensity moves the point: distance from neutral scales by intensity ** this.
#: Below 1 so "very" strengthens an emotion without turning it into a neighbour.
INTENSITY_REACH = 0.6

INTENSIFIERS: dict[str, float] = {
    "very": 1.5,
    "really": 1.3,
    "so": 1.4,
    "too": 1.3,
    "quite": 1.2,
    "truly": 1.4,
    "deeply": 1.6,
    "extremely": 1.8,
    "incredibly": 1.8,
    "utterly": 1.8,
    "totally": 1.6,
    "completely": 1.6,
    "terribly": 1.6,
    "super": 1.5,
    "absolutely": 1.7,
    "profoundly": 1.7,
    "intensely": 1.7,
    "overwhelmingly": 1.8,
    "slightly": 0.5,
    "somewhat": 0.6,
    "mildly": 0.5,
    "barely": 0.3,
    "hardly": 0.3,
    "fairly": 0.8,
    "rather": 0.8,
    "almost": 0.7,
    "kinda": 0.6,
    "sorta": 0.6,
    "less": 0.5,
}
TWO_WORD_MODIFIERS: dict[tuple[str, str], float] = {
    ("a", "little"): 0.5,
    ("a", "bit"): 0.5,
    ("a", "touch"): 0.5,
    ("kind", "of"): 0.6,
    ("sort", "of"): 0.6,
    ("a", "lot"): 1.4,
}
NEGATORS = frozenset({"not", "no", "never", "without", "nor", "stop", "stopped", "neither"})
CONTRASTS = frozenset({"but", "yet", "though", "although", "however", "while", "whereas"})
CLAUSE_END = frozenset(".;!?")
#: Always start the desired part of a clause.
DESIRE_WORDS = frozenset(
    {"want", "wants", "wanted", "wanna", "wish", "wishing", "need", "needs", "toward", "towards"}
)
#: Start the desired part only when followed by "to" / "for" …; alone they are emotions.
DESIRE_IF_FOLLOWED = frozenset({"hope", "hoping", "long", "longing", "yearn", "yearning"})
DESIRE_FOLLOWERS = frozenset({"to", "for", "that", "it", "i", "we"})
DESIRE_TWO_WORD = frozenset({("would", "like"), ("i'd", "like"), ("trying", "to"), ("try", "to")})

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[.,;:!?]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@dataclass(frozen=True, slots=True)
class Match:
    """One recognised emotion word and how the sentence modified it."""

    words: str
    emotion: str
    point: PAD
    weight: float
    negated: bool
    desired: bool


@dataclass(frozen=True, slots=True)
class TextEmotion:
    """The result of :func:`analyse`.

    ``pad`` is what the person feels now (neutral when not stated), ``nearest``
    the closest named emotions (closest first), ``confidence`` 0…1, and
    ``desired`` the emotion they want to reach, when they said so.
    """

    pad: PAD
    nearest: tuple[str, ...]
    confidence: float
    desired: PAD | None
    desired_nearest: tuple[str, ...]
    reason: str
    matches: tuple[Match, ...] = ()

    @property
    def recognised(self) -> bool:
        return bool(self.matches)


def _neutral(reason: str) -> TextEmotion:
    return TextEmotion(NEUTRAL, _names(NEUTRAL), 0.0, None, (), reason)


def _names(point: PAD) -> tuple[str, ...]:
    return tuple(e.name for e, _ in thesaurus.nearest(point, 3))


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens, after Unicode clean-up (NFKC)."""
    cleaned = "".join(" " if unicodedata.category(ch) in _DROPPED_CATEGORIES else ch for ch in text)
    cleaned = unicodedata.normalize("NFKC", cleaned).replace("\u2019", "'").casefold()
    return _TOKEN.findall(cleaned)


def _lemma_candidates(word: str) -> list[str]:
    """Cheap suffix stripping, so "sadly", "happiness", "scared" find their entries."""
    out = []
    for suffix, replacements in (
        ("iness", ("y",)),
        ("ness", ("",)),
        ("ily", ("y",)),
        ("ly", ("",)),
        ("ied", ("y",)),
        ("ed", ("", "e")),
        ("ing", ("", "e")),
        ("es", ("",)),
        ("s", ("",)),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.extend(word[: -len(suffix)] + r for r in replacements)
    return out


def _emotion_at(tokens: list[str], i: int) -> tuple[thesaurus.Emotion, int] | None:
    """The emotion starting at token i and how many tokens it spans."""
    for span in (3, 2):
        if i + span <= len(tokens):
            phrase = " ".join(tokens[i : i + span])
            if phrase in thesaurus.PHRASE_SYNONYMS:
                return thesaurus.lookup(phrase), span
    index = thesaurus.word_index()
    word = tokens[i]
    if word in index:
        return index[word], 1
    for candidate in _lemma_candidates(word):
        if candidate in index:
            return index[candidate], 1
    return None


def _is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


@dataclass
class _Clause:
    """Modifier state while walking a clause (mutable scratch, never returned)."""

    desired: bool = False
    negate_until: int = -1
    intensity: float = 1.0
    intensity_until: int = -1
    marker: tuple[str, thesaurus.Emotion] | None = None
    found_desired: bool = False

    def reset_modifiers(self) -> None:
        self.negate_until = -1
        self.intensity = 1.0
        self.intensity_until = -1


def _desire_marker_span(tokens: list[str], i: int) -> int:
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if word in DESIRE_WORDS:
        return 1
    if word in DESIRE_IF_FOLLOWED and nxt in DESIRE_FOLLOWERS:
        return 1
    if (word, nxt) in DESIRE_TWO_WORD:
        return 2
    return 0


def _modifier(tokens: list[str], i: int) -> tuple[float, int] | None:
    if i + 1 < len(tokens) and (tokens[i], tokens[i + 1]) in TWO_WORD_MODIFIERS:
        return TWO_WORD_MODIFIERS[(tokens[i], tokens[i + 1])], 2
    if tokens[i] in INTENSIFIERS:
        return INTENSIFIERS[tokens[i]], 1
    return None


def _close_clause(clause: _Clause, matches: list[Match]) -> None:
    # "I hope so." / "longing for home": the marker word was the emotion itself.
    if clause.marker is not None and not clause.found_desired:
        words, emotion = clause.marker
        matches.append(Match(words, emotion.name, emotion.pad, 1.0, False, False))


def _scan(tokens: list[str]) -> list[Match]:
    matches: list[Match] = []
    clause = _Clause()
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word in CLAUSE_END or word in CONTRASTS:
            _close_clause(clause, matches)
            clause = _Clause()
            i += 1
            continue
        if word in {",", ":", "and", "or"}:
            clause.reset_modifiers()
            i += 1
            continue
        marker = _desire_marker_span(tokens, i)
        if marker:
            clause.desired = True
            hit = thesaurus.word_index().get(word)
            if hit is not None and clause.marker is None:
                clause.marker = (word, hit)
            i += marker
            continue
        if _is_negator(word):
            # "can't stop worrying": a second negation cancels the first.
            clause.negate_until = -1 if i <= clause.negate_until else i + MODIFIER_REACH
            i += 1
            continue
        modifier = _modifier(tokens, i)
        if modifier is not None:
            factor, span = modifier
            clause.intensity = _bounded(clause.intensity * factor)
            clause.intensity_until = i + span + MODIFIER_REACH
            i += span
            continue
        found = _emotion_at(tokens, i)
        if found is None:
            i += 1
            continue
        emotion, span = found
        matches.append(_match(tokens[i : i + span], emotion, clause, i))
        clause.found_desired = clause.found_desired or clause.desired
        clause.reset_modifiers()
        i += span
    _close_clause(clause, matches)
    return matches


def _bounded(intensity: float) -> float:
    lo, hi = INTENSITY_BOUNDS
    return min(hi, max(lo, intensity))


def _match(words: list[str], emotion: thesaurus.Emotion, clause: _Clause, i: int) -> Match:
    negated = i <= clause.negate_until
    intensity = clause.intensity if i <= clause.intensity_until else 1.0
    point = emotion.pad.negated() if negated else emotion.pad
    point = point.scaled_from_neutral(intensity**INTENSITY_REACH)
    return Match(" ".join(words), emotion.name, point, intensity, negated, clause.desired)


def _confidence(matches: list[Match], centre: PAD, n_words: int) -> float:
    """0…1: more agreeing words → higher; spread, negation and sparse text → lower."""
    base = 0.6 + 0.15 * min(len(matches) - 1, 2)
    spread = sum(m.point.distance(centre) for m in matches) / len(matches)
    conf = base * (1.0 - 0.5 * min(1.0, spread / 0.6))
    if any(m.negated for m in matches):
        conf *= 0.85
    if n_words > 0 and len(matches) / n_words < 0.05:
        conf *= 0.8
    return round(max(0.0, min(1.0, conf)), 3)


def _blend(matches: list[Match]) -> PAD:
    return blend((m.point, m.weight) for m in matches)


def analyse(text: object) -> TextEmotion:
    """Infer the emotion in ``text``; never raises (see the module docstring)."""
    if not isinstance(text, str):
        return _neutral(f"not text ({type(text).__name__})")
    if len(text) > MAX_TEXT_CHARS:
        return _neutral(f"text too long ({len(text)} characters, limit {MAX_TEXT_CHARS})")
    if not text.strip():
        return _neutral("empty text")
    tokens = tokenize(text)
    matches = _scan(tokens)
    if not matches:
        return _neutral("no emotion words recognised")
    return _result(matches, sum(1 for t in tokens if t[0].isalpha()))


def _result(matches: list[Match], n_words: int) -> TextEmotion:
    current = [m for m in matches if not m.desired]
    wanted = [m for m in matches if m.desired]
    desired = _blend(wanted) if wanted else None
    desired_names = _names(desired) if desired is not None else ()
    if not current:
        return TextEmotion(
            NEUTRAL,
            _names(NEUTRAL),
            0.0,
            desired,
            desired_names,
            "only a desired emotion was stated",
            tuple(matches),
        )
    pad = _blend(current)
    confidence = _confidence(current, pad, n_words)
    if not math.isfinite(confidence):
        confidence = 0.0
    return TextEmotion(pad, _names(pad), confidence, desired, desired_names, "ok", tuple(matches))
