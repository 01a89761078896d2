"""The word pass of text → emotion: tokens, clauses, modifiers, desires.

Walks the tokens once, clause by clause. A word found in the thesaurus (a
name, a synonym or a phrase) is an emotion; a word found in the norms
(:mod:`~kelly_actors.composer.emotion.norms`: events, scenes) is weaker
evidence of one. Each is modified by a negation ("not", "-n't") or an
intensifier ("very", "a little") a few tokens before it, and marked desired
when a desire word ("want", "wish", "hope to" …) came before it in its clause.
The character ranges of desired parts are returned so that the sentiment and
emoji passes can keep the present and the wish apart as well.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from kelly_actors.composer.emotion import norms, thesaurus
from kelly_actors.composer.emotion.pad import PAD

#: How many tokens after "not" / "very" the modifier still reaches.
MODIFIER_REACH = 4
#: Intensity multipliers never go outside this band, however they stack.
INTENSITY_BOUNDS = (0.2, 2.0)
#: How far intensity moves the point: distance from neutral scales by intensity ** this.
#: Below 1 so "very" strengthens an emotion without turning it into a neighbour.
INTENSITY_REACH = 0.6
#: A norms word (an event, a scene) counts this much against a thesaurus emotion word.
NORM_WEIGHT = 0.8

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
NEGATORS = frozenset(
    {"not", "no", "never", "without", "nor", "stop", "stopped", "neither", "cannot"}
    | {"nobody", "nothing", "none", "noone"}
)
#: "then": "scared at first, then thrilled" — the later state is the one felt now.
CONTRASTS = frozenset({"but", "yet", "though", "although", "however", "while", "whereas", "then"})
CLAUSE_END = frozenset(".;!?")
#: In a sentence with a contrast ("happy for her but sad she is leaving"), what comes
#: after it weighs this much more, and what came before it this much less (as VADER does).
AFTER_CONTRAST = 1.5
BEFORE_CONTRAST = 0.5
#: A sentence that opens with one of these and a comma or stop ("Oh great, ...",
#: "Wonderful, the train is late again") is read as sarcasm when "oh" leads it or
#: something negative follows: the word becomes irritation and VADER does not hear it.
SARCASM_OPENERS = frozenset(
    {"great", "wonderful", "perfect", "brilliant", "fantastic", "lovely", "terrific"}
    | {"marvellous", "marvelous", "super", "joy", "nice", "awesome"}
)
SARCASM_LEADS = frozenset({"oh", "just", "yeah", "well", "wow"})
#: Always start the desired part of a clause.
#: Only the speaker's own wishes count: "the doctor wants to see me" is no desire.
DESIRE_WORDS = frozenset(
    {"want", "wanted", "wanna", "wish", "wishing", "need", "toward", "towards"}
)
OTHER_PEOPLE = frozenset({"you", "he", "she", "they", "it", "who", "everyone", "somebody"})
#: Start the desired part only when followed by "to" / "for" …; alone they are emotions.
DESIRE_IF_FOLLOWED = frozenset({"hope", "hoping", "long", "longing", "yearn", "yearning"})
DESIRE_FOLLOWERS = frozenset({"to", "for", "that", "it", "i", "we"})
DESIRE_TWO_WORD = frozenset({("would", "like"), ("i'd", "like"), ("trying", "to"), ("try", "to")})

#: Idioms people use instead of the emotion's name (up to three words, like the phrases).
IDIOMS: dict[str, str] = {
    "over the moon": "joy",
    "on cloud nine": "euphoria",
    "walking on air": "elation",
    "pissed off": "anger",
    "scared stiff": "terror",
    "sick and tired": "frustration",
    "chilled out": "calm",
}

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[.,;:!?]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of evidence and how the sentence modified it.

    ``emotion`` is the thesaurus emotion named (or nearest to the evidence);
    ``source`` is "thesaurus", "norms", "emoji" or "sentiment"; ``valenced``
    is False for words that tell arousal and dominance only ("quiet").
    """

    words: str
    emotion: str
    point: PAD
    weight: float
    negated: bool
    desired: bool
    source: str = "thesaurus"
    valenced: bool = True


@dataclass(frozen=True, slots=True)
class Scanned:
    """What the word pass found; ``desired_spans`` are (start, end) in ``cleaned``."""

    cleaned: str
    tokens: tuple[str, ...]
    matches: tuple[Match, ...]
    desired_spans: tuple[tuple[int, int], ...]
    sarcastic_spans: tuple[tuple[int, int], ...] = ()


def clean(text: str) -> str:
    """Control and unassigned characters → spaces, NFKC, curly apostrophes straightened."""
    dropped = "".join(" " if unicodedata.category(ch) in _DROPPED_CATEGORIES else ch for ch in text)
    return unicodedata.normalize("NFKC", dropped).replace("\u2019", "'")


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens, after Unicode clean-up (NFKC)."""
    return _TOKEN.findall(clean(text).casefold())


def lemma_candidates(word: str) -> list[str]:
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
    """The thesaurus emotion starting at token i and how many tokens it spans."""
    for span in (3, 2):
        if i + span <= len(tokens):
            phrase = " ".join(tokens[i : i + span])
            if phrase in thesaurus.PHRASE_SYNONYMS:
                return thesaurus.lookup(phrase), span
            if phrase in IDIOMS:
                return thesaurus.get(IDIOMS[phrase]), span
    index = thesaurus.word_index()
    word = tokens[i]
    if word in index:
        return index[word], 1
    for candidate in lemma_candidates(word):
        if candidate in index:
            return index[candidate], 1
    return None


def _norm_at(tokens: list[str], i: int) -> tuple[norms.Norm, int] | None:
    """The norms entry (event, scene) starting at token i and how many tokens it spans."""
    table = norms.phrases()
    for span in (3, 2):
        if i + span <= len(tokens) and tuple(tokens[i : i + span]) in table:
            return table[tuple(tokens[i : i + span])], span
    words = norms.words()
    if tokens[i] in words:
        return words[tokens[i]], 1
    for candidate in lemma_candidates(tokens[i]):
        if candidate in words:
            return words[candidate], 1
    return None


@lru_cache(maxsize=4096)
def nearest_name(point: PAD) -> str:
    """The closest thesaurus emotion's name (cached: the same words recur)."""
    return thesaurus.nearest(point, 1)[0][0].name


def is_negator(word: str) -> bool:
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
    desire_start: int = -1
    boost: float = 1.0

    def reset_modifiers(self) -> None:
        self.negate_until = -1
        self.intensity = 1.0
        self.intensity_until = -1


def _desire_marker_span(tokens: list[str], i: int) -> int:
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if i > 0 and tokens[i - 1] in OTHER_PEOPLE:
        return 0
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


def _close_clause(clause: _Clause, matches: list[Match], end: int) -> list[tuple[int, int]]:
    # "I hope so." / "longing for home": the marker word was the emotion itself.
    if clause.marker is not None and not clause.found_desired:
        words, emotion = clause.marker
        matches.append(Match(words, emotion.name, emotion.pad, 1.0, False, False))
        return []
    return [(clause.desire_start, end)] if clause.desire_start >= 0 else []


def scan(text: str) -> Scanned:
    """The word pass over ``text`` (see the module docstring)."""
    cleaned = clean(text)
    found = [(m.group().casefold(), m.start()) for m in _TOKEN.finditer(cleaned)]
    tokens = [t for t, _ in found]
    matches: list[Match] = []
    spans: list[tuple[int, int]] = []
    openers: list[tuple[int, tuple[int, int], bool]] = []
    clause = _Clause()
    # Per match: its sentence and how many contrasts came before it there.
    sentence, contrasts, seen = 0, {}, []
    i = 0
    while i < len(tokens):
        word, at = found[i]
        if word in CLAUSE_END or word in CONTRASTS:
            spans += _close_clause(clause, matches, at)
            seen += [(sentence, contrasts.get(sentence, 0))] * (len(matches) - len(seen))
            clause = _Clause()
            if word in CONTRASTS:
                contrasts[sentence] = contrasts.get(sentence, 0) + 1
                clause.boost = AFTER_CONTRAST
            else:
                sentence += 1
            i += 1
            continue
        if word in {",", ":", "and", "or"}:
            clause.reset_modifiers()
            i += 1
            continue
        marker = _desire_marker_span(tokens, i)
        if marker:
            if not clause.desired:
                clause.desire_start = at
            clause.desired = True
            hit = thesaurus.word_index().get(word)
            if hit is not None and clause.marker is None:
                clause.marker = (word, hit)
            i += marker
            continue
        if is_negator(word):
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
        lead = _sarcasm_lead(tokens, i)
        span = _evidence(tokens, i, clause, matches)
        seen += [(sentence, contrasts.get(sentence, 0))] * (len(matches) - len(seen))
        if span and lead is not None:
            openers.append((len(matches) - 1, (at, at + len(word)), lead))
        i += span or 1
    spans += _close_clause(clause, matches, len(cleaned))
    seen += [(sentence, contrasts.get(sentence, 0))] * (len(matches) - len(seen))
    for k, (where, before) in enumerate(seen):
        later = contrasts.get(where, 0) - before
        if later:
            matches[k] = replace(matches[k], weight=matches[k].weight * BEFORE_CONTRAST**later)
    sarcastic = _sarcasm(matches, openers)
    return Scanned(cleaned, tuple(tokens), tuple(matches), tuple(spans), sarcastic)


def _sarcasm_lead(tokens: list[str], i: int) -> bool | None:
    """At a sentence-opening SARCASM_OPENERS word followed by punctuation: whether "oh" led."""
    if tokens[i] not in SARCASM_OPENERS or i + 1 >= len(tokens) or tokens[i + 1] not in ",.!":
        return None
    j = i - 1
    while j >= 0 and tokens[j] in SARCASM_LEADS:
        j -= 1
    if j >= 0 and tokens[j] not in CLAUSE_END:
        return None
    return "oh" in tokens[j + 1 : i]


def _sarcasm(
    matches: list[Match], openers: list[tuple[int, tuple[int, int], bool]]
) -> tuple[tuple[int, int], ...]:
    """Turn sarcastic openers into irritation (in place); their character spans."""
    irritation = thesaurus.get("irritation")
    spans = []
    for index, span, led_by_oh in openers:
        later = matches[index + 1 :]
        if led_by_oh or any(m.valenced and m.point.valence < 0 for m in later):
            m = matches[index]
            matches[index] = replace(m, emotion=irritation.name, point=irritation.pad)
            spans.append(span)
    return tuple(spans)


def _evidence(tokens: list[str], i: int, clause: _Clause, matches: list[Match]) -> int:
    """Record the emotion or norms word at token i; how many tokens it took (0: none).

    Longest first: a thesaurus phrase, a norms phrase ("happy birthday" is a
    greeting, "best friend" a person), then single words.
    """
    found = _emotion_at(tokens, i)
    norm = _norm_at(tokens, i)
    if found is not None and not (norm is not None and norm[1] > found[1]):
        emotion, span = found
        words = " ".join(tokens[i : i + span])
        matches.append(_match(words, emotion.pad, clause, i, emotion.name))
    elif norm is not None:
        entry, span = norm
        valenced = entry.valence is not None
        point = PAD(entry.valence if valenced else 0.0, entry.arousal, entry.dominance)
        matches.append(_match(" ".join(tokens[i : i + span]), point, clause, i, None, valenced))
    else:
        return 0
    clause.found_desired = clause.found_desired or clause.desired
    clause.reset_modifiers()
    return span


def _bounded(intensity: float) -> float:
    lo, hi = INTENSITY_BOUNDS
    return min(hi, max(lo, intensity))


def _match(
    words: str, pad: PAD, clause: _Clause, i: int, name: str | None, valenced: bool = True
) -> Match:
    """A thesaurus match (``name`` given) or a norms one, with the clause's modifiers."""
    negated = i <= clause.negate_until
    intensity = clause.intensity if i <= clause.intensity_until else 1.0
    point = pad.negated() if negated else pad
    point = point.scaled_from_neutral(intensity**INTENSITY_REACH)
    if name is not None:
        weight = intensity * clause.boost
        return Match(words, name, point, weight, negated, clause.desired)
    nearest = nearest_name(point)
    weight = NORM_WEIGHT * intensity * clause.boost
    return Match(words, nearest, point, weight, negated, clause.desired, "norms", valenced)
