"""Does the music mean what the emotion says? Joy against grief."""

from __future__ import annotations

import statistics

from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.orchestrator import compose_emotion


def _piece(name):
    return compose_emotion(thesaurus.get(name).pad, bars=8, seed=1)


def test_joy_and_grief_are_in_different_modes():
    joy, grief = _piece("joy"), _piece("grief")
    assert joy.key_changes[0].key.mode != grief.key_changes[0].key.mode
    assert not joy.key_changes[0].key.is_minor
    assert grief.key_changes[0].key.is_minor


def test_joy_is_faster_than_grief():
    assert _piece("joy").tempo_changes[0].bpm > _piece("grief").tempo_changes[0].bpm


def test_joy_is_louder_than_grief():
    def loudness(piece):
        return statistics.mean(n.velocity for n in piece.notes)

    assert loudness(_piece("joy")) > loudness(_piece("grief")) + 10


def test_joy_plays_more_notes_and_higher_than_grief():
    joy, grief = _piece("joy"), _piece("grief")
    assert len(joy.notes_for("melody")) > len(grief.notes_for("melody"))
    mean_pitch = [statistics.mean(n.pitch for n in p.notes_for("melody")) for p in (joy, grief)]
    assert mean_pitch[0] > mean_pitch[1]
