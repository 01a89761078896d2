"""Emotion model: PAD points, the 72-emotion thesaurus, text analysis, intent."""

from kelly_actors.composer.emotion.intent import Strategy, Trajectory, plan
from kelly_actors.composer.emotion.pad import NEUTRAL, PAD, blend, quadrant
from kelly_actors.composer.emotion.text import TextEmotion, analyse
from kelly_actors.composer.emotion.thesaurus import Emotion, all_emotions, get, lookup, nearest

__all__ = [
    "NEUTRAL",
    "PAD",
    "Emotion",
    "Strategy",
    "TextEmotion",
    "Trajectory",
    "all_emotions",
    "analyse",
    "blend",
    "get",
    "lookup",
    "nearest",
    "plan",
    "quadrant",
]
