"""Text → emotion (the original's "wound" processing).

Three readings of the same words, combined:

* the word pass (:mod:`~kelly_actors.composer.emotion.scan`): thesaurus emotion
  words and norms words for events and scenes ("lost the baby", "we won"),
  with negation, intensifiers and softeners, and the split between what the
  person feels now and what they want to feel ("I feel grief but I want to
  find peace");
* emoji (:func:`~kelly_actors.composer.emotion.norms.emoji`), each a PAD point;
* how it is written (:mod:`~kelly_actors.composer.emotion.cues`): VADER's
  valence for the present part (caps, "!!!", negation, "but", slang) blended
  into the words' valence, and emphasis cues that raise arousal.

:func:`analyse` never raises: bad input gives the neutral point with
confidence 0 and a ``reason``; text in another language is neutral with a
reason; text longer than :data:`MAX_TEXT_CHARS` is read up to that length and
the reason says so. Time is bounded by that length (a few ms per kB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kelly_actors.composer.emotion import cues, norms, scan, thesaurus
from kelly_actors.composer.emotion.pad import NEUTRAL, PAD
from kelly_actors.composer.emotion.scan import Match, tokenize

__all__ = ["MAX_TEXT_CHARS", "Match", "TextEmotion", "analyse", "tokenize"]

#: Longer texts are read up to here (bounded time on stage); 20 kB is a long letter.
MAX_TEXT_CHARS = 20_000
#: One emoji counts this much against a thesaurus emotion word; repeats of one count thrice at most.
EMOJI_WEIGHT = 0.8
EMOJI_REPEATS = 3
#: VADER's compound score counts as this much evidence of valence, against the words' weight.
SENTIMENT_WEIGHT = 0.5
#: A compound of at least this size counts fully; smaller ones proportionally less.
SENTIMENT_FULL = 0.5
#: The words' valence weight is capped here, so a long list of words still hears VADER.
WORDS_WEIGHT_CAP = 2.0
#: A compound score below this size is no sentiment at all (VADER's own neutral band).
SENTIMENT_FLOOR = 0.05
#: With sentiment alone (no word, no emoji): arousal before emphasis, and the dominance.
SENTIMENT_AROUSAL = 0.45
SENTIMENT_DOMINANCE = 0.5
#: Confidence of a reading from sentiment alone, per unit of |compound|.
SENTIMENT_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class TextEmotion:
    """The result of :func:`analyse`.

    ``pad`` is what the person feels now (neutral when not stated), ``nearest``
    the closest named emotions (closest first), ``confidence`` 0…1, and
    ``desired`` the emotion they want to reach, when they said so. ``matches``
    is the evidence; ``reason`` is "ok", or why nothing (or not all) was read.
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


def analyse(text: object) -> TextEmotion:
    """Infer the emotion in ``text`` (str, or UTF-8 bytes); never raises."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text[: 4 * MAX_TEXT_CHARS]).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return _neutral(f"not text ({type(text).__name__})")
    note = ""
    if len(text) > MAX_TEXT_CHARS:
        note = f"read the first {MAX_TEXT_CHARS} of {len(text)} characters"
        text = text[:MAX_TEXT_CHARS]
    if not text.strip():
        return _neutral("empty text")
    words = scan.scan(text)
    foreign = cues.foreign(words.cleaned, list(words.tokens))
    if foreign is not None:
        return _neutral(_joined(foreign, note))
    matches = [*words.matches, *_emoji(words)]
    unheard = tuple(sorted(words.desired_spans + words.sarcastic_spans))
    present_text = _outside(words.cleaned, unheard)
    desired_text = " ".join(words.cleaned[a:b] for a, b in words.desired_spans)
    return _result(matches, present_text, desired_text, words, note)


def _joined(reason: str, note: str) -> str:
    return f"{reason}; {note}" if note else reason


def _outside(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``text`` with the desired spans blanked out (what is felt now)."""
    out, at = [], 0
    for a, b in spans:
        out.append(text[at:a])
        at = b
    out.append(text[at:])
    return " ".join(out)


def _inside(spans: tuple[tuple[int, int], ...], at: int) -> bool:
    return any(a <= at < b for a, b in spans)


def _emoji(words: scan.Scanned) -> list[Match]:
    """One match per emoji in the norms table (at most EMOJI_REPEATS of each)."""
    table = norms.emoji()
    seen: dict[str, int] = {}
    out: list[Match] = []
    for at, ch in enumerate(words.cleaned):
        entry = table.get(ch)
        if entry is None or seen.get(ch, 0) >= EMOJI_REPEATS:
            continue
        seen[ch] = seen.get(ch, 0) + 1
        point = PAD(entry.valence or 0.0, entry.arousal, entry.dominance)
        name = scan.nearest_name(point)
        desired = _inside(words.desired_spans, at)
        out.append(Match(ch, name, point, EMOJI_WEIGHT, False, desired, "emoji"))
    return out


def _combine(evidence: list[Match], compound: float, shift: float) -> PAD:
    """The words' and emoji's weighted point, its valence blended with VADER's compound."""
    valenced = [m for m in evidence if m.valenced]
    total = sum(m.weight for m in evidence)
    arousal = sum(m.point.arousal * m.weight for m in evidence) / total
    dominance = sum(m.point.dominance * m.weight for m in evidence) / total
    words_weight = sum(m.weight for m in valenced)
    # A faint compound ("feeling" alone reads +0.13) weighs less than a clear one.
    sentiment_weight = SENTIMENT_WEIGHT * min(1.0, abs(compound) / SENTIMENT_FULL)
    if abs(compound) < SENTIMENT_FLOOR:
        sentiment_weight = 0.0
    valence_sum = compound * sentiment_weight
    if words_weight > 0:
        words_valence = sum(m.point.valence * m.weight for m in valenced) / words_weight
        if any(m.source == "thesaurus" for m in valenced):
            # The person named the emotion: the name is the better measure ("joyful" is
            # joy, not VADER's +0.6), and the word pass has read its negation ("can't
            # stop worrying", which VADER reads as positive).
            valence_sum = sentiment_weight = 0.0
        capped = min(words_weight, WORDS_WEIGHT_CAP)
        valence_sum += words_valence * capped
        sentiment_weight += capped
    valence = valence_sum / sentiment_weight if sentiment_weight > 0 else 0.0
    return PAD.clamped(valence, arousal + shift, dominance)


def _sentiment_match(compound: float, shift: float, desired: bool) -> Match | None:
    """Evidence from VADER alone (no word or emoji found), or None when it heard nothing."""
    if abs(compound) < SENTIMENT_FLOOR:
        return None
    point = PAD.clamped(compound, SENTIMENT_AROUSAL + shift, SENTIMENT_DOMINANCE)
    name = scan.nearest_name(point)
    return Match("(sentiment)", name, point, 1.0, False, desired, "sentiment")


def _side(evidence: list[Match], span: str, desired: bool) -> tuple[PAD | None, list[Match], float]:
    """The point for one side (now, or wished for), the evidence used, the compound."""
    compound = cues.sentiment(span)
    shift = cues.emphasis(span).arousal
    if evidence:
        return _combine(evidence, compound, shift), evidence, compound
    alone = _sentiment_match(compound, shift, desired)
    if alone is None:
        return None, [], compound
    return alone.point, [alone], compound


def _result(
    matches: list[Match], present_text: str, desired_text: str, words: scan.Scanned, note: str
) -> TextEmotion:
    now, now_evidence, compound = _side([m for m in matches if not m.desired], present_text, False)
    wished = [m for m in matches if m.desired]
    desired, wish_evidence, _ = (
        _side(wished, desired_text, True) if words.desired_spans else (None, [], 0.0)
    )
    desired_names = _names(desired) if desired is not None else ()
    evidence = tuple(now_evidence + wish_evidence)
    if now is None:
        reason = "only a desired emotion was stated" if desired else "no emotion recognised"
        return TextEmotion(
            NEUTRAL, _names(NEUTRAL), 0.0, desired, desired_names, _joined(reason, note), evidence
        )
    confidence = _confidence(
        now_evidence, now, compound, sum(1 for t in words.tokens if t[0].isalpha())
    )
    return TextEmotion(
        now, _names(now), confidence, desired, desired_names, _joined("ok", note), evidence
    )


def _confidence(evidence: list[Match], centre: PAD, compound: float, n_words: int) -> float:
    """0…1: more agreeing evidence → higher; spread, negation and sparse text → lower."""
    if all(m.source == "sentiment" for m in evidence):
        conf = SENTIMENT_CONFIDENCE * abs(compound)
    else:
        strength = sum(m.weight for m in evidence if m.source != "sentiment")
        base = 0.45 + 0.15 * min(strength, 3.0)
        spread = sum(m.point.distance(centre) for m in evidence) / len(evidence)
        conf = base * (1.0 - 0.5 * min(1.0, spread / 0.6))
        if any(m.negated for m in evidence):
            conf *= 0.85
        if n_words > 0 and len(evidence) / n_words < 0.05:
            conf *= 0.8
    if not math.isfinite(conf):
        conf = 0.0
    # Evidence was found, so the reading is never "nothing" (0 means "not stated").
    return round(max(0.01, min(1.0, conf)), 3)
