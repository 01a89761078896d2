"""The engines: notes in key, bar counts, ranges, determinism, and what each engine is for."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.composer.bar_composer import BarComposer
from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.engines import ENGINES, drums, dynamics, groove, harmony
from kelly_actors.composer.engines import motif as motifs
from kelly_actors.composer.engines.context import BarContext
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.composer.orchestrator import compose_emotion
from kelly_actors.composer.voice_leading import lead, movement
from kelly_actors.music.notes import BEATS_PER_BAR, RANGES, TRACKS_BY_NAME
from kelly_actors.music.theory import Key, chord

NAMES = ("joy", "grief", "rage", "peace", "fear", "longing", "awe", "boredom", "triumph")


def _pieces():
    for i, name in enumerate(NAMES):
        yield name, compose_emotion(thesaurus.get(name).pad, bars=12, seed=i)
    yield (
        "grief→peace",
        compose_emotion(
            thesaurus.get("grief").pad, thesaurus.get("peace").pad, "transform", 24, seed=7
        ),
    )


PIECES = dict(_pieces())


def test_there_are_at_least_ten_engines_each_its_own_module():
    import importlib

    assert len(ENGINES) >= 10
    for name in ENGINES:
        assert importlib.import_module(f"kelly_actors.composer.engines.{name}").__doc__


@pytest.mark.parametrize("name", list(PIECES))
def test_every_pitched_note_is_in_the_key_of_its_bar(name):
    piece = PIECES[name]
    for n in piece.notes:
        if n.track != "drums":
            key = piece.key_at(n.start_beat - n.start_beat % BEATS_PER_BAR)
            assert key.contains(n.pitch), (n, key.name)


@pytest.mark.parametrize("name", list(PIECES))
def test_every_part_stays_in_its_range(name):
    for n in PIECES[name].notes:
        if n.track == "drums":
            assert 35 <= n.pitch <= 81
        else:
            low, high = RANGES[n.track]
            assert low <= n.pitch <= high, n
        assert 1 <= n.velocity <= 127


@pytest.mark.parametrize("name", list(PIECES))
def test_notes_fill_exactly_the_requested_bars(name):
    piece = PIECES[name]
    total = piece.bars * BEATS_PER_BAR
    assert all(n.start_beat >= 0 and n.end_beat <= total + 1e-9 for n in piece.notes)
    bars_with_melody = {int(n.start_beat // BEATS_PER_BAR) for n in piece.notes_for("melody")}
    assert bars_with_melody == set(range(piece.bars))


def test_the_same_seed_gives_the_same_piece_and_another_seed_another():
    pad = thesaurus.get("longing").pad
    a, b = compose_emotion(pad, bars=8, seed=5), compose_emotion(pad, bars=8, seed=5)
    c = compose_emotion(pad, bars=8, seed=6)
    assert a == b
    assert a.notes != c.notes


def test_drums_play_on_channel_ten_and_rest_when_calm():
    assert TRACKS_BY_NAME["drums"].channel == 9
    assert not PIECES["boredom"].notes_for("drums")
    assert PIECES["rage"].notes_for("drums")


def test_a_phrase_ends_with_a_tom_fill_when_the_kit_plays():
    toms = {drums.HIGH_TOM, drums.MID_TOM, drums.LOW_TOM, drums.FLOOR_TOM}
    fill = [n for n in PIECES["rage"].notes_for("drums") if 3 * 4 + 2 <= n.start_beat < 4 * 4]
    assert toms & {n.pitch for n in fill}


def test_a_calm_section_ends_with_a_rising_pitched_run():
    bar8 = [n for n in PIECES["boredom"].notes_for("arpeggio") if 7 * 4 + 1.9 <= n.start_beat < 32]
    pitches = [n.pitch for n in sorted(bar8, key=lambda n: n.start_beat)]
    assert len(pitches) >= 2
    assert pitches == sorted(pitches)


def test_the_piece_ends_on_the_tonic():
    for piece in PIECES.values():
        last_bar = (piece.bars - 1) * BEATS_PER_BAR
        key = piece.key_at(last_bar)
        final_melody = [n for n in piece.notes_for("melody") if n.start_beat >= last_bar]
        final_bass = [n for n in piece.notes_for("bass") if n.start_beat >= last_bar]
        assert final_melody[-1].pitch % 12 == key.tonic
        assert final_bass[0].pitch % 12 == key.tonic


def test_counter_melody_sits_below_the_melody():
    piece = PIECES["longing"]
    melody = piece.notes_for("melody")
    below = 0
    counter = piece.notes_for("counter")
    for c in counter:
        over = [m for m in melody if m.start_beat <= c.start_beat < m.end_beat + 0.5]
        if over and all(m.pitch > c.pitch for m in over):
            below += 1
    assert counter
    assert below / len(counter) > 0.8


def test_harmony_opens_on_the_tonic_and_avoids_diminished_goals():
    for mode in ("ionian", "aeolian", "phrygian", "lydian", "dorian", "mixolydian"):
        key = Key(0, mode)
        params = map_emotion(PAD(0.0, 0.8, 0.5))
        for seed in range(20):
            bars = harmony.plan_phrase(key, params, random.Random(seed), opening=True)
            assert bars[0][0][0] == 0
            assert len(bars) == 4
            for bar in bars:
                for degree, colour in bar:
                    assert chord(key, degree, colour).quality != "diminished"


def test_voice_leading_moves_less_than_jumping_to_root_position():
    key = Key(0, "ionian")
    previous = lead(None, chord(key, 0).pitch_classes, 48, 74)
    moved = 0
    for degree in (3, 4, 0, 5, 1, 4, 0):
        nxt = lead(previous, chord(key, degree).pitch_classes, 48, 74)
        assert {p % 12 for p in nxt} >= set(chord(key, degree).pitch_classes)
        moved += movement(previous, nxt)
        previous = nxt
    assert moved / 7 <= 8


def test_motif_development_keeps_rhythm_or_contour():
    rng = random.Random(3)
    m = motifs.generate(rng, 2.0, 0.5)
    assert sum(m.durations) == pytest.approx(2.0)
    assert motifs.invert(m).steps == tuple(-s for s in m.steps)
    assert motifs.retrograde(m).durations == m.durations[::-1]
    assert sum(motifs.fragment(m).durations) == pytest.approx(2.0)


@settings(deadline=None, database=None)
@given(st.integers(0, 10_000), st.floats(0.5, 4.0), st.floats(0.5, 4.0))
def test_motif_fitted_to_any_density_still_fills_half_a_bar(seed, first, later):
    m = motifs.generate(random.Random(seed), first, 0.0)
    fitted = motifs.fit_density(m, later)
    assert sum(fitted.durations) == pytest.approx(2.0)


def test_swing_delays_the_offbeat_and_keeps_the_beat():
    assert groove.swung(1.0, 1 / 3) == 1.0
    assert groove.swung(1.5, 1 / 3) == pytest.approx(1 + 2 / 3)
    assert groove.swung(2.25, 0.0) == 2.25


def _ctx(bar: int, pad: PAD) -> BarContext:
    key = Key(2, map_emotion(pad).mode)
    return BarContext(0, bar, map_emotion(pad), key, ((0.0, chord(key, 0)),), chord(key, 4))


def test_dynamics_centres_each_bar_on_the_mapped_velocity_with_a_phrase_swell():
    notes, _ = BarComposer(1).compose_bar(1, map_emotion(PAD(0.0, 0.6, 0.5)))
    level = dynamics.level(_ctx(1, PAD(0.0, 0.6, 0.5)))
    assert statistics.mean(n.velocity for n in notes) == pytest.approx(level, abs=1)
    levels = [dynamics.level(_ctx(b, PAD(0.0, 0.6, 0.5))) for b in range(4)]
    assert levels == sorted(levels)


def test_humanization_grows_with_arousal():
    def spread(pad: PAD) -> float:
        notes, _ = BarComposer(2).compose_bar(1, map_emotion(pad))
        return statistics.pstdev(n.velocity for n in notes if n.track == "pad")

    assert spread(PAD(0.0, 0.9, 0.5)) > spread(PAD(0.0, 0.1, 0.5))


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.builds(PAD, st.floats(-1, 1), st.floats(0, 1), st.floats(0, 1)),
    st.integers(0, 2**32),
    st.integers(0, 200),
)
def test_any_bar_is_well_formed(pad, seed, bar):
    notes, state = BarComposer(seed).compose_bar(bar, map_emotion(pad))
    key = state.key
    assert notes
    for n in notes:
        assert 0 <= n.start_beat < BEATS_PER_BAR
        assert n.end_beat <= BEATS_PER_BAR + 1e-9
        assert 1 <= n.velocity <= 127
        assert n.track == "drums" or key.contains(n.pitch)
