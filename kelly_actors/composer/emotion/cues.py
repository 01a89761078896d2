"""Cues in how something is written: sentiment (VADER), emphasis, language.

* :func:`sentiment` — VADER's compound score (−1…1) for a span of the original
  text. VADER (Hutto & Gilbert 2014, MIT, lexicon shipped in the package) reads
  informal text: caps, "!!!", "sooo", negation, "but", emoji and slang.
* :func:`emphasis` — how worked-up the writing is: exclamation marks, words in
  capitals, stretched letters push arousal up; trailing "..." pulls it down.
  VADER gives valence only, so arousal cues are counted here.
* :func:`foreign` — a reason when the text is not English (the lexicons are
  English only): mostly non-Latin letters, or more function words of another
  language than of English. Guessing at a foreign text would be worse than
  saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

#: VADER's time grows with the square of a sentence's length, so each sentence is cut here.
SENTENCE_MAX_CHARS = 400
#: How many sentences VADER reads at most (the rest adds time, not information).
SENTIMENT_MAX_SENTENCES = 200
#: Arousal added per exclamation mark (at most three count) and for shouting.
AROUSAL_PER_BANG = 0.06
AROUSAL_FOR_CAPS = 0.12
AROUSAL_FOR_STRETCH = 0.05
AROUSAL_FOR_TRAILING_DOTS = -0.08

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_LETTERS = re.compile(r"[^\W\d_]")
_STRETCH = re.compile(r"([a-zA-Z])\1{2,}")
_NOT_SHOUTING = frozenset({"OK", "TV", "UK", "US", "USA", "AM", "PM", "DJ", "ID", "CEO", "NYC"})


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# The commonest function words: a sentence of three or more words in a language
# uses several of them.
_ENGLISH = _words(
    """a about after again all am an and any are as at be because been before being but
    by can can't could did didn't do does doesn't don't for from had has have haven't he
    her here him his how i i'm i've if in into is isn't it it's its just me more my no
    nobody not of off on one only or our out over she so some still than that the their
    them then there they this to too up us very was wasn't we we're were what when where
    which who why will with won't would you your""",
)
_FOREIGN: dict[str, frozenset[str]] = {
    "French": _words(
        """je tu il elle nous vous ils elles suis es est sommes êtes sont le la les un une des
        du de et mais très pas ne mon ma mes ton ta tes son sa ses pour avec dans sur j'ai
        c'est aujourd'hui peur que qui""",
    ),
    "Spanish": _words(
        """yo tú él ella nosotros estoy está estás es soy somos son el la los las un una de del
        y pero muy no mi mis tu tus su sus por para con en que porque tengo tienes""",
    ),
    "German": _words(
        """ich du er sie wir ihr bin bist ist sind der die das den dem ein eine und aber sehr
        nicht mein meine meinen dein deine auf mit für heute dich mich mir""",
    ),
    "Italian": _words(
        """io tu lui lei noi voi sono sei è siamo il lo la gli le un una di del della e ma molto
        non mio mia tuo tua per con che oggi mi ti""",
    ),
    "Portuguese": _words(
        """eu tu ele ela nós estou está estás sou é somos são o a os as um uma de do da e mas
        muito não meu minha teu tua por para com em que hoje""",
    ),
    "Dutch": _words(
        """ik jij je hij zij wij ben bent is zijn de het een en maar zeer heel niet mijn jouw
        op met voor vandaag zo""",
    ),
    "Swedish": _words(
        """jag du han hon vi ni är var en ett och men mycket inte min mitt din ditt på med för
        idag så""",
    ),
}


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment(span: str) -> float:
    """VADER's compound valence of ``span`` (−1…1; 0 when it finds nothing).

    Scored sentence by sentence, as VADER is meant to be used; the result is
    the mean over the sentences where VADER heard anything.
    """
    scores = []
    for sentence in _SENTENCE.split(span)[:SENTIMENT_MAX_SENTENCES]:
        if sentence.strip():
            score = _vader().polarity_scores(sentence[:SENTENCE_MAX_CHARS])["compound"]
            if score:
                scores.append(float(score))
    return sum(scores) / len(scores) if scores else 0.0


@dataclass(frozen=True, slots=True)
class Emphasis:
    """How worked-up the writing is: ``arousal`` shift (−0.1…+0.35), the cues seen."""

    arousal: float
    bangs: int
    shouting: bool
    stretched: bool
    trailing_dots: bool

    @property
    def any(self) -> bool:
        return self.bangs > 0 or self.shouting or self.stretched


def emphasis(span: str) -> Emphasis:
    """Count the emphasis cues in ``span`` (original case and punctuation)."""
    bangs = min(3, span.count("!"))
    caps = [w for w in _CAPS_WORD.findall(span) if w not in _NOT_SHOUTING]
    letters = len(_LETTERS.findall(span))
    shouting = bool(caps) and sum(len(w) for w in caps) >= max(2, 0.25 * letters)
    stretched = _STRETCH.search(span) is not None
    trailing = span.rstrip().endswith(("...", "…"))
    shift = bangs * AROUSAL_PER_BANG
    shift += AROUSAL_FOR_CAPS if shouting else 0.0
    shift += AROUSAL_FOR_STRETCH if stretched else 0.0
    shift += AROUSAL_FOR_TRAILING_DOTS if trailing and not bangs else 0.0
    return Emphasis(shift, bangs, shouting, stretched, trailing)


def foreign(text: str, tokens: list[str]) -> str | None:
    """Why ``text`` is not read (another script or language), or None for English."""
    letters = _LETTERS.findall(text)
    if letters:
        latin = sum(1 for ch in letters if ch < "\u0250")
        if latin / len(letters) < 0.5:
            return "not English (another script); the lexicons read English only"
    words = [t for t in tokens if t[0].isalpha()]
    if len(words) < 3:
        return None
    english = sum(1 for w in words if w in _ENGLISH)
    best, hits = max(
        ((name, sum(1 for w in words if w in vocab)) for name, vocab in _FOREIGN.items()),
        key=lambda pair: pair[1],
    )
    if hits >= 2 and hits > english:
        return f"not English (looks like {best}); the lexicons read English only"
    return None
