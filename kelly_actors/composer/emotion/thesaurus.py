"""The 72-emotion thesaurus: PAD coordinates, families, intensity tiers, synonyms.

Coordinates use this project's ranges (valence −1…1, arousal and dominance
0…1). Where a published rating exists on Mehrabian's −1…+1 scale for all three
axes, arousal and dominance were converted with (x + 1) / 2. ``source`` says
which: see docs/emotions.md for the references and the reasoning behind the
placed ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from kelly_actors.composer.emotion.pad import PAD, blend

#: Russell & Mehrabian (1977), ratings of emotion terms on −1…+1 axes.
SOURCE_RUSSELL_MEHRABIAN = "russell-mehrabian-1977"
#: ALMA (Gebhard 2005) table of OCC emotions, derived from Mehrabian's ratings.
SOURCE_ALMA = "alma-gebhard-2005"
#: Reasoned placement relative to the rated anchors and their families.
SOURCE_PLACED = "placed"

TIER_NAMES = {1: "mild", 2: "moderate", 3: "intense"}


@dataclass(frozen=True, slots=True)
class Emotion:
    """A named emotion; ``tier`` is 1 (mild), 2 (moderate) or 3 (intense)."""

    name: str
    pad: PAD
    family: str
    tier: int
    synonyms: tuple[str, ...]
    source: str

    @property
    def valence(self) -> float:
        return self.pad.valence

    @property
    def arousal(self) -> float:
        return self.pad.arousal

    @property
    def dominance(self) -> float:
        return self.pad.dominance


_R, _A, _P = SOURCE_RUSSELL_MEHRABIAN, SOURCE_ALMA, SOURCE_PLACED

# name, valence, arousal, dominance, family, tier, source, synonyms
_TABLE: tuple[tuple[str, float, float, float, str, int, str, str], ...] = (
    # joy
    ("joy", 0.85, 0.72, 0.65, "joy", 3, _P, "joyful joyous overjoyed gleeful jubilant"),
    ("happiness", 0.81, 0.755, 0.73, "joy", 2, _R, "happy glad pleased good great wonderful"),
    ("elation", 0.50, 0.71, 0.615, "joy", 3, _R, "elated exhilarated exhilaration"),
    ("euphoria", 0.90, 0.92, 0.72, "joy", 3, _P, "euphoric ecstatic ecstasy bliss blissful"),
    ("delight", 0.75, 0.66, 0.60, "joy", 2, _P, "delighted delightful charmed"),
    (
        "cheerfulness",
        0.68,
        0.60,
        0.58,
        "joy",
        1,
        _P,
        "cheerful upbeat sunny jolly merry amused amusement fun playful",
    ),
    (
        "excitement",
        0.62,
        0.875,
        0.69,
        "joy",
        2,
        _R,
        "excited thrilled pumped hyped energized energetic",
    ),
    ("enthusiasm", 0.66, 0.80, 0.66, "joy", 2, _P, "enthusiastic eager keen zeal"),
    ("triumph", 0.76, 0.82, 0.90, "joy", 3, _P, "triumphant victorious victory unstoppable"),
    ("pride", 0.40, 0.65, 0.65, "joy", 2, _A, "proud dignified"),
    # love
    ("love", 0.80, 0.55, 0.58, "love", 2, _P, "loving loved adore adoration beloved"),
    ("tenderness", 0.65, 0.30, 0.45, "love", 1, _P, "tender gentle gentleness warmth warm"),
    ("affection", 0.70, 0.45, 0.52, "love", 1, _P, "affectionate fond fondness caring"),
    ("compassion", 0.45, 0.35, 0.45, "love", 2, _P, "compassionate empathy sympathy kindness"),
    (
        "gratitude",
        0.40,
        0.60,
        0.35,
        "love",
        2,
        _A,
        "grateful thankful appreciation appreciative blessed",
    ),
    ("passion", 0.70, 0.85, 0.62, "love", 3, _P, "passionate desire lust infatuation"),
    # peace
    ("peace", 0.65, 0.15, 0.55, "peace", 2, _P, "peaceful tranquil tranquility stillness"),
    (
        "calm",
        0.55,
        0.18,
        0.58,
        "peace",
        1,
        _P,
        "calmness relaxed relaxation relax chill settled composed",
    ),
    ("serenity", 0.72, 0.12, 0.60, "peace", 3, _P, "serene harmony equanimity zen"),
    (
        "contentment",
        0.60,
        0.28,
        0.60,
        "peace",
        1,
        _P,
        "content contented fulfilled fulfilment fulfillment",
    ),
    ("relief", 0.20, 0.35, 0.70, "peace", 2, _A, "relieved unburdened"),
    ("acceptance", 0.30, 0.25, 0.50, "peace", 1, _P, "accepting closure okay"),
    ("satisfaction", 0.30, 0.40, 0.70, "peace", 2, _A, "satisfied accomplished accomplishment"),
    (
        "comfort",
        0.55,
        0.25,
        0.50,
        "peace",
        1,
        _P,
        "comforted comfortable cozy cosy safe safety secure soothed",
    ),
    # wonder
    ("awe", 0.45, 0.70, 0.25, "wonder", 3, _P, "awed awestruck majesty sublime reverence"),
    ("wonder", 0.60, 0.60, 0.40, "wonder", 2, _P, "wonderment marvel enchanted magical"),
    (
        "surprise",
        0.30,
        0.82,
        0.45,
        "wonder",
        2,
        _P,
        "surprised astonished astonishment amazed amazement startled",
    ),
    (
        "curiosity",
        0.22,
        0.81,
        0.495,
        "wonder",
        1,
        _R,
        "curious intrigued interested fascinated fascination",
    ),
    ("anticipation", 0.35, 0.65, 0.55, "wonder", 1, _P, "anticipating expectant"),
    ("hope", 0.20, 0.60, 0.45, "wonder", 1, _A, "hopeful optimism optimistic"),
    ("inspiration", 0.70, 0.72, 0.65, "wonder", 2, _P, "inspired motivated uplifted"),
    # sadness
    (
        "sadness",
        -0.62,
        0.30,
        0.32,
        "sadness",
        2,
        _P,
        "sad unhappy gloomy gloom tearful crying tears upset",
    ),
    (
        "grief",
        -0.80,
        0.35,
        0.20,
        "sadness",
        3,
        _P,
        "grieving grieve mourning mourn bereaved bereavement loss",
    ),
    ("sorrow", -0.70, 0.30, 0.28, "sadness", 2, _P, "sorrowful woe mournful hurt hurting pain"),
    (
        "despair",
        -0.85,
        0.45,
        0.12,
        "sadness",
        3,
        _P,
        "despairing hopeless hopelessness desperate devastated misery miserable",
    ),
    (
        "melancholy",
        -0.45,
        0.22,
        0.35,
        "sadness",
        1,
        _P,
        "melancholic wistful pensive somber sombre",
    ),
    (
        "loneliness",
        -0.55,
        0.25,
        0.25,
        "sadness",
        2,
        _P,
        "lonely alone isolated isolation abandoned",
    ),
    ("longing", -0.25, 0.45, 0.30, "sadness", 2, _P, "yearning yearn pining missing homesick"),
    ("nostalgia", -0.05, 0.30, 0.40, "sadness", 1, _P, "nostalgic bittersweet reminiscent"),
    (
        "disappointment",
        -0.30,
        0.55,
        0.30,
        "sadness",
        1,
        _A,
        "disappointed discouraged disheartened",
    ),
    (
        "heartbreak",
        -0.80,
        0.50,
        0.18,
        "sadness",
        3,
        _P,
        "heartbroken heartbreaking anguish crushed shattered",
    ),
    # fear
    ("fear", -0.64, 0.80, 0.285, "fear", 2, _A, "afraid scared frightened fearful fright"),
    ("terror", -0.85, 0.95, 0.12, "fear", 3, _P, "terrified horror horrified petrified"),
    (
        "anxiety",
        -0.50,
        0.75,
        0.30,
        "fear",
        2,
        _P,
        "anxious uneasy unease tense stressed stress distress distressed restless",
    ),
    (
        "worry",
        -0.40,
        0.60,
        0.35,
        "fear",
        1,
        _P,
        "worried concerned troubled apprehensive apprehension",
    ),
    ("nervousness", -0.30, 0.68, 0.38, "fear", 1, _P, "nervous jittery jumpy edgy"),
    ("panic", -0.75, 0.95, 0.15, "fear", 3, _P, "panicked panicking panicky frantic hysterical"),
    ("dread", -0.70, 0.55, 0.20, "fear", 3, _P, "dreading foreboding doom"),
    (
        "overwhelm",
        -0.45,
        0.82,
        0.18,
        "fear",
        2,
        _P,
        "overwhelmed overwhelming helpless vulnerable vulnerability insecure insecurity",
    ),
    # anger
    ("anger", -0.51, 0.795, 0.625, "anger", 2, _R, "angry mad pissed"),
    (
        "rage",
        -0.78,
        0.95,
        0.80,
        "anger",
        3,
        _P,
        "raging enraged fury furious livid seething wrath outraged",
    ),
    ("frustration", -0.50, 0.70, 0.45, "anger", 1, _P, "frustrated stuck exasperated"),
    (
        "irritation",
        -0.35,
        0.62,
        0.55,
        "anger",
        1,
        _P,
        "irritated annoyed annoyance irked grumpy cranky",
    ),
    ("resentment", -0.20, 0.35, 0.40, "anger", 2, _A, "resentful grudge aggrieved"),
    ("bitterness", -0.45, 0.40, 0.45, "anger", 2, _P, "bitter cynical cynicism"),
    ("hatred", -0.60, 0.80, 0.65, "anger", 3, _A, "hate hateful loathing loathe hostile hostility"),
    ("jealousy", -0.45, 0.65, 0.35, "anger", 2, _P, "jealous envy envious"),
    # disgust
    (
        "disgust",
        -0.60,
        0.62,
        0.55,
        "disgust",
        2,
        _P,
        "disgusted disgusting revulsion repulsed nauseated",
    ),
    ("contempt", -0.50, 0.45, 0.72, "disgust", 2, _P, "contemptuous scorn scornful disdain"),
    # shame
    ("shame", -0.30, 0.55, 0.20, "shame", 2, _A, "ashamed shameful disgrace"),
    ("guilt", -0.45, 0.45, 0.25, "shame", 2, _P, "guilty remorse remorseful"),
    ("embarrassment", -0.35, 0.65, 0.25, "shame", 1, _P, "embarrassed awkward sheepish"),
    ("regret", -0.40, 0.35, 0.30, "shame", 1, _P, "regretful regrets sorry"),
    ("humiliation", -0.70, 0.70, 0.10, "shame", 3, _P, "humiliated mortified degraded"),
    # weariness
    ("boredom", -0.65, 0.19, 0.335, "weariness", 1, _R, "bored boring dull tedious meh"),
    (
        "exhaustion",
        -0.40,
        0.08,
        0.25,
        "weariness",
        2,
        _P,
        "exhausted tired weary fatigue fatigued drained sleepy burnout",
    ),
    ("numbness", -0.30, 0.05, 0.30, "weariness", 2, _P, "numb detached"),
    (
        "apathy",
        -0.35,
        0.10,
        0.35,
        "weariness",
        1,
        _P,
        "apathetic indifferent indifference unmotivated listless",
    ),
    ("emptiness", -0.55, 0.12, 0.22, "weariness", 3, _P, "empty hollow void"),
    # strength
    (
        "confidence",
        0.55,
        0.60,
        0.88,
        "strength",
        2,
        _P,
        "confident assured strong strength capable empowered powerful",
    ),
    ("determination", 0.35, 0.72, 0.85, "strength", 2, _P, "determined resolve resolute driven"),
    ("defiance", -0.20, 0.75, 0.82, "strength", 2, _P, "defiant rebellious rebel stubborn"),
)

#: Multi-word synonyms, matched as phrases by the text analyser.
PHRASE_SYNONYMS: dict[str, str] = {
    "at peace": "peace",
    "in love": "love",
    "in awe": "awe",
    "on edge": "nervousness",
    "fed up": "frustration",
    "let down": "disappointment",
    "left out": "loneliness",
    "letting go": "acceptance",
    "let go": "acceptance",
    "broken hearted": "heartbreak",
    "broken heart": "heartbreak",
    "worn out": "exhaustion",
    "burnt out": "exhaustion",
    "burned out": "exhaustion",
    "looking forward": "anticipation",
    "self conscious": "embarrassment",
    "self assured": "confidence",
    "freaked out": "panic",
    "stressed out": "anxiety",
    "feel down": "sadness",
    "feeling down": "sadness",
    "felt down": "sadness",
    "feel blue": "sadness",
    "feeling blue": "sadness",
    "felt blue": "sadness",
}


@cache
def all_emotions() -> tuple[Emotion, ...]:
    """The 72 emotions in thesaurus order (by family)."""
    return tuple(
        Emotion(name, PAD(v, a, d), family, tier, tuple(syn.split()), source)
        for name, v, a, d, family, tier, source, syn in _TABLE
    )


@cache
def _by_name() -> dict[str, Emotion]:
    return {e.name: e for e in all_emotions()}


@cache
def word_index() -> dict[str, Emotion]:
    """Every single word (name or synonym, lower case) → its emotion."""
    index: dict[str, Emotion] = {}
    for emotion in all_emotions():
        for word in (emotion.name, *emotion.synonyms):
            if word in index:
                raise ValueError(f"word {word!r} is listed under two emotions")
            index[word] = emotion
    return index


def families() -> tuple[str, ...]:
    """Family names in thesaurus order."""
    return tuple(dict.fromkeys(e.family for e in all_emotions()))


def get(name: str) -> Emotion:
    """The emotion called ``name`` (case-insensitive); KeyError if unknown."""
    emotion = _by_name().get(name.strip().casefold())
    if emotion is None:
        raise KeyError(name)
    return emotion


def lookup(word: str) -> Emotion | None:
    """The emotion for a name, a synonym or a multi-word phrase, else None."""
    key = " ".join(word.casefold().replace("-", " ").split())
    if key in PHRASE_SYNONYMS:
        return get(PHRASE_SYNONYMS[key])
    return word_index().get(key)


def nearest(point: PAD, k: int = 3) -> tuple[tuple[Emotion, float], ...]:
    """The ``k`` named emotions closest to ``point``, with their distances, closest first."""
    ranked = sorted(((e, point.distance(e.pad)) for e in all_emotions()), key=lambda p: p[1])
    return tuple(ranked[: max(0, k)])


def blend_emotions(weighted: dict[str, float]) -> PAD:
    """The weighted PAD blend of named emotions, e.g. ``{"grief": 2, "hope": 1}``."""
    return blend((get(name).pad, weight) for name, weight in weighted.items())


def by_family(family: str) -> Iterator[Emotion]:
    return (e for e in all_emotions() if e.family == family)
