"""The listener's training takes: the stage they are heard on (room, noise floor) and the
ensemble split, checked against what each function promises."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from kelly_actors.composer.emotion.pad import PAD
from training.emotion.augment import (
    SAMPLE_RATE,
    Stage,
    add_noise,
    on_stage,
    pink_noise,
    reverberate,
    room_impulse,
)
from training.emotion.dataset import (
    EXTRA_COMPOSER_SEED,
    TRAIN_INSTRUMENTS,
    DataConfig,
    plan_clips,
)
from training.emotion.performances import composed, split_tracks, split_voices


def _tone(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def test_a_room_impulse_has_unit_energy_and_falls_60_db_by_its_rt60() -> None:
    rng = np.random.default_rng(0)
    ir = room_impulse(0.5, rng)
    assert abs(float(np.sum(ir**2)) - 1.0) < 1e-9
    window = int(0.02 * SAMPLE_RATE)
    start = np.sqrt(np.mean(ir[:window] ** 2))
    at_rt60 = np.sqrt(np.mean(ir[int(0.5 * SAMPLE_RATE) - window // 2 :][:window] ** 2))
    assert -64.0 < 20 * np.log10(at_rt60 / start) < -56.0


def test_a_dry_stage_leaves_the_signal_as_it_was() -> None:
    signal = _tone()
    out = on_stage(signal, Stage(), np.random.default_rng(0))
    assert np.array_equal(out, signal) and out is not signal


def test_reverberation_keeps_the_length_and_adds_a_tail_after_the_note_stops() -> None:
    signal = np.concatenate([_tone(0.5), np.zeros(SAMPLE_RATE // 2, np.float32)])
    wet = reverberate(signal, 1.0, 0.5, np.random.default_rng(1))
    assert wet.shape == signal.shape and wet.dtype == signal.dtype
    assert np.sqrt(np.mean(wet[-SAMPLE_RATE // 4 :] ** 2)) > 1e-3


def test_noise_sits_the_asked_number_of_decibels_below_the_signal() -> None:
    signal = _tone(2.0)
    noisy = add_noise(signal, 20.0, np.random.default_rng(2))
    noise = noisy.astype(np.float64) - signal
    ratio = 20 * np.log10(np.sqrt(np.mean(signal.astype(np.float64) ** 2)) / np.std(noise))
    assert abs(ratio - 20.0) < 0.1


def test_pink_noise_has_3_db_less_power_per_octave_up() -> None:
    noise = pink_noise(1 << 18, np.random.default_rng(3))
    power = np.abs(np.fft.rfft(noise)) ** 2
    low, high = power[1000:2000].mean(), power[2000:4000].mean()
    assert abs(10 * np.log10(low / high) - 3.0) < 0.5


def test_silence_gets_no_noise_floor() -> None:
    silence = np.zeros(SAMPLE_RATE, np.float32)
    assert not add_noise(silence, 10.0, np.random.default_rng(4)).any()


def test_an_ensemble_split_keeps_every_note_once_high_part_at_or_above_low() -> None:
    perf = composed(PAD(0.4, 0.6, 0.5), seed=3, seconds=4.0)
    high, low = split_voices(perf)
    assert len(high.notes) + len(low.notes) == len(perf.notes)
    assert min(n.pitch for n in high.notes) > max(n.pitch for n in low.notes)
    assert high.target == low.target == perf.target


def test_a_track_split_gives_each_track_to_one_player_and_keeps_every_note() -> None:
    perf = composed(PAD(0.6, 0.8, 0.5), seed=3, seconds=4.0)
    tracks = {n.track for n in perf.notes}
    parts = split_tracks(perf, 3, random.Random(0))
    assert len(parts) == 3 and all(p.notes for p in parts)
    assert Counter(n for p in parts for n in p.notes) == Counter(perf.notes)
    owners = [{n.track for n in p.notes} for p in parts]
    assert set().union(*owners) == tracks and sum(map(len, owners)) == len(tracks)
    assert all(p.target == perf.target and p.seconds == perf.seconds for p in parts)


def _small(
    extra_composer_pieces: int = 0, track_share: float = 0.0, extra_takes: int = 0
) -> DataConfig:
    return DataConfig(
        corpus_pieces=4,
        composer_pieces=6,
        takes=3,
        seconds=2.0,
        train_instruments=len(TRAIN_INSTRUMENTS),
        extra_composer_pieces=extra_composer_pieces,
        track_share=track_share,
        extra_takes=extra_takes,
        seed=5,
    )


def test_extra_composer_pieces_are_training_takes_added_after_the_clips_they_leave_as_they_were():
    plain, more = plan_clips(_small()), plan_clips(_small(extra_composer_pieces=2))
    assert more[: len(plain)] == plain
    extra = more[len(plain) :]
    assert len(extra) == 2 * 3 and all(c.split == "train" for c in extra)
    seeds = {int(c.performance.piece.rsplit("seed", 1)[1]) for c in extra}
    assert seeds == {EXTRA_COMPOSER_SEED, EXTRA_COMPOSER_SEED + 1}
    assert {c.performance.source for c in extra} == {"composer"}
    assert len({c.performance.target for c in extra}) == len(extra)
    assert all(c.performance.notes for c in extra)


def test_extra_takes_play_every_training_piece_again_and_leave_the_other_clips_as_they_were():
    plain = plan_clips(_small(extra_composer_pieces=1))
    more = plan_clips(_small(extra_composer_pieces=1, extra_takes=2))
    first = [c for c in plain if not c.performance.piece.endswith(f"seed{EXTRA_COMPOSER_SEED}")]
    assert more[: len(first)] == first and more[-3:] == plain[-3:]
    extra = more[len(first) : -3]
    training_pieces = Counter(c.performance.piece for c in first if c.split == "train")
    assert Counter(c.performance.piece for c in extra) == {p: 2 for p in training_pieces}
    assert all(c.split == "train" and c.performance.notes for c in extra)
    assert {c.performance.source for c in extra} == {"music21", "composer"}
    seen = {c.performance.target for c in first}
    assert len({c.performance.target for c in extra} - seen) == len(extra)


def test_composer_takes_spread_over_instruments_by_track_and_the_other_clips_stay() -> None:
    spread, plain = plan_clips(_small(track_share=1.0)), plan_clips(_small())
    composer = [c for c in spread if c.split == "train" and c.performance.source == "composer"]
    assert composer and all(len(c.parts) in (2, 3) for c in composer)
    for clip in composer:
        players = [{n.track for n in part.notes} for _, part in clip.parts]
        assert all(players) and not set.intersection(*players)
        assert len({instrument.name for instrument, _ in clip.parts}) == len(clip.parts)
    others = [c for c in spread if c not in composer]
    assert others == [c for c in plain if c.split != "train" or c.performance.source != "composer"]


def test_training_takes_vary_their_stage_and_held_out_takes_stay_dry() -> None:
    clips = plan_clips(_small(extra_composer_pieces=2))
    train = [c for c in clips if c.split == "train"]
    held = [c for c in clips if c.split != "train"]
    assert all(c.stage == Stage() and c.drums is None for c in held)
    assert any(c.stage.rt60_s > 0 for c in train) and any(c.stage.snr_db for c in train)
    assert any(len(c.parts) == 2 for c in train) and any(len(c.parts) == 1 for c in train)
    assert any(c.drums is not None for c in train)
