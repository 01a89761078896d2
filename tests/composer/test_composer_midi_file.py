"""Standard MIDI File output: what is written is what is read back."""

from __future__ import annotations

import mido
import pytest

from kelly_actors.composer import midi_file
from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.orchestrator import compose_emotion


@pytest.fixture(scope="module")
def piece():
    return compose_emotion(
        thesaurus.get("grief").pad, thesaurus.get("joy").pad, "transform", 16, seed=9
    )


def _ticks(notes):
    return sorted(
        (
            n.track,
            n.pitch,
            n.velocity,
            midi_file.to_ticks(n.start_beat),
            midi_file.to_ticks(n.end_beat) - midi_file.to_ticks(n.start_beat),
        )
        for n in notes
    )


def test_round_trip_gives_back_the_same_notes(piece, tmp_path):
    path = tmp_path / "piece.mid"
    midi_file.write(piece, path)
    back = midi_file.read(path)
    assert _ticks(back.notes) == _ticks(piece.notes)
    assert back.bars == piece.bars


def test_round_trip_keeps_tempo_map_keys_and_tracks(piece, tmp_path):
    path = tmp_path / "piece.mid"
    midi_file.write(piece, path)
    back = midi_file.read(path)
    assert [t.name for t in back.tracks] == [t.name for t in piece.tracks]
    assert [(c.beat, c.key) for c in back.key_changes] == [
        (c.beat, c.key) for c in piece.key_changes
    ]
    assert len(back.tempo_changes) == len(piece.tempo_changes)
    for a, b in zip(back.tempo_changes, piece.tempo_changes, strict=True):
        assert a.beat == b.beat
        assert a.bpm == pytest.approx(b.bpm, rel=1e-4)


def test_file_is_type_one_with_names_programs_and_signatures(piece, tmp_path):
    path = tmp_path / "piece.mid"
    midi_file.write(piece, path)
    mid = mido.MidiFile(path)
    assert mid.type == 1
    assert len(mid.tracks) == len(piece.tracks) + 1
    conductor_types = {m.type for m in mid.tracks[0]}
    assert {"time_signature", "key_signature", "set_tempo", "track_name"} <= conductor_types
    for track, raw in zip(piece.tracks, mid.tracks[1:], strict=True):
        assert raw.name == track.name
        programs = [m.program for m in raw if m.type == "program_change"]
        channels = {m.channel for m in raw if m.type == "note_on"}
        assert channels == {track.channel}
        assert programs == ([] if track.is_drums else [track.program])


def test_key_signature_carries_the_accidentals_of_the_mode():
    from kelly_actors.music.theory import Key

    assert Key(2, "dorian").signature() == "Am"
    assert Key(7, "mixolydian").signature() == "C"
    assert Key(9, "aeolian").signature() == "Am"
    assert Key(5, "lydian").signature() == "C"
    assert Key(4, "phrygian").signature() == "Am"
