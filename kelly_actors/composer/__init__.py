"""The composer library: emotion model, emotion → music mapper, engines, MIDI out.

The live composer actor builds on :class:`BarComposer` (one bar at a time);
offline composition is :func:`compose_emotion` and :mod:`midi_file`.
See docs/emotions.md.
"""

from kelly_actors.composer.bar_composer import BarComposer, ComposerState
from kelly_actors.composer.mapper import MusicalParams, map_emotion, timeline
from kelly_actors.composer.orchestrator import Composition, compose, compose_emotion
from kelly_actors.music.notes import TRACKS, Note, Track

__all__ = [
    "TRACKS",
    "BarComposer",
    "ComposerState",
    "Composition",
    "MusicalParams",
    "Note",
    "Track",
    "compose",
    "compose_emotion",
    "map_emotion",
    "timeline",
]
