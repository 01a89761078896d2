"""Bit-identical renders: same events → same samples, whatever the blocks, slots or history.

The groundwork of a warm standby synth (a second synth in lockstep whose blocks the callback
can take): two synths fed the same events must agree bit for bit, and a synth rebuilt in the
middle of a performance (``seek`` / ``resume``) must render what an undisturbed one renders.
"""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.bus.note_events import EventKind
from kelly_actors.synth.events import EVENT_DTYPE
from kelly_actors.synth.noise import FramedNoise, hash_uniform, voice_key
from kelly_actors.synth.voices import Synth

SR = 48_000
BLOCK = 256


def _events(synth: Synth) -> list[tuple]:
    """A busy script: overlapping notes on three channels, bends (with glides), emotion
    changes, a pluck, steals (4 voices), releases across every block boundary."""
    return [
        ("emotion", 0, -0.3, 0.7, 0.6),
        ("on", 300, 60, 100, 0),
        ("on", 1_000, 64, 90, 1),
        ("on", 1_500, 67, 80, 0),
        ("bend", 5_000, 1.0, 0),  # semitones
        ("on", 7_000, 48, 110, 2),
        ("off", 9_000, 60, 0),
        ("emotion", 12_000, 0.8, 0.2, 0.4),
        ("on", 12_000, 72, 127, 1),
        ("on", 12_100, 76, 60, 1),  # a 5th voice: steals
        ("bend", 15_000, -2.0, 1),
        ("off", 20_000, 64, 1),
        ("bend", 21_000, 0.0, 0),
        ("on", 24_000, 69, 100, 2),
        ("off", 30_000, 67, 0),
        ("emotion", 33_333, 0.1, 0.9, 0.8),
        ("off", 40_000, 72, 1),
        ("off", 41_000, 48, 2),
    ]


def _feed(synth: Synth, script: list[tuple]) -> None:
    synth.set_preset("pluck", channel=2)
    for ev in script:
        kind, t = ev[0], ev[1]
        if kind == "on":
            synth.note_on(t, ev[2], ev[3], channel=ev[4])
        elif kind == "off":
            synth.note_off(t, ev[2], channel=ev[3])
        elif kind == "bend":
            synth.pitch_bend(t, ev[2], channel=ev[3])
        else:
            synth.schedule_emotion(t, *ev[2:])


def _synth(**kwargs) -> Synth:
    settings = {"channels": 2, "n_voices": 4, "preset": "strings", "max_block": 2048, "seed": 5}
    return Synth(SR, **{**settings, **kwargs})


def _render(synth: Synth, n: int, block: int = BLOCK) -> np.ndarray:
    return np.concatenate([synth.render(block) for _ in range(n // block)])


def test_the_noise_is_a_pure_function_of_key_and_sample_time() -> None:
    keys = np.array([voice_key(1, 480, 0, 60), voice_key(1, 480, 0, 61)], np.uint64)
    whole = hash_uniform(keys, 1000, np.empty((2, 700)), np.empty((2, 700), np.uint64))
    part = hash_uniform(keys[1:], 1300, np.empty((1, 50)), np.empty((4, 64), np.uint64))
    np.testing.assert_array_equal(part[0], whole[1, 300:350])
    assert whole.min() >= -1.0 and whole.max() < 1.0
    np.testing.assert_array_equal(whole, whole.astype(np.float32))  # exact float32 values
    assert abs(whole.mean()) < 0.1 and abs(np.corrcoef(whole)[0, 1]) < 0.1


def test_filtered_noise_does_not_depend_on_the_blocks_or_the_other_voices() -> None:
    ir = np.hanning(128)
    bank = FramedNoise(3, 128)
    for slot, key in enumerate((11, 12, 13)):
        bank.start(slot, key, bank.spectrum_of(ir))
    whole = bank.render(np.array([0, 1]), 5_000, np.empty((2, 2_000)))
    alone = FramedNoise(3, 128)
    alone.start(2, 12, alone.spectrum_of(ir))  # the same stream in another slot
    pieces = [alone.render(np.array([2]), t, np.empty((1, n))) for t, n in
              ((5_000, 1), (5_001, 300), (5_301, 999), (6_300, 700))]  # fmt: skip
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1)[0], whole[1])
    # It is the linear convolution of the stream with the filter.
    white = hash_uniform(np.array([12], np.uint64), 5_000 - 127, np.empty((1, 2_127)),
                         np.empty((1, 2_127), np.uint64))[0]  # fmt: skip
    np.testing.assert_allclose(whole[1], np.convolve(white, ir)[127:2_127], atol=1e-12)


def test_two_synths_fed_the_same_events_render_identical_blocks() -> None:
    a, b = _synth(), _synth()
    _feed(a, _events(a))
    _feed(b, _events(b))
    out_a, out_b = _render(a, 48_000), _render(b, 48_000)
    assert np.abs(out_a).max() > 0.05 and a.stats["stolen"] > 0
    np.testing.assert_array_equal(out_a, out_b)


def test_any_block_sizes_give_bit_identical_samples() -> None:
    whole = _synth()
    _feed(whole, _events(whole))
    reference = whole.render(48_000)
    rng = np.random.default_rng(3)
    chunked = _synth()
    _feed(chunked, _events(chunked))
    pieces, done = [], 0
    while done < 48_000:
        n = min(int(rng.integers(1, 2_049)), 48_000 - done)
        pieces.append(chunked.render(n))
        done += n
    np.testing.assert_array_equal(np.concatenate(pieces), reference)


def test_the_slot_a_note_lands_in_does_not_change_its_samples() -> None:
    plain, crowded = _synth(n_voices=8), _synth(n_voices=8)
    for synth in (plain, crowded):
        synth.set_pan(0, -0.5)
        synth.set_pan(1, 0.7)
    # Extra notes in `crowded` occupy slots first and end before the comparison: its two
    # shared notes land in slots 2 and 0 (in `plain`: 0 and 1), summed in another slot order.
    crowded.note_on(0, 50, 100)
    crowded.note_on(100, 52, 100, channel=1)
    crowded.note_off(150, 50)
    for synth in (plain, crowded):
        synth.note_on(300, 60, 100)
        synth.note_on(20_000, 67, 90, channel=1)
    crowded.note_off(350, 52, channel=1)
    a, b = _render(plain, 48_000), _render(crowded, 48_000)
    assert sorted(np.flatnonzero(crowded.slots.active).tolist()) == [0, 2]
    np.testing.assert_array_equal(a[30_000:], b[30_000:])
    assert np.abs(a[30_000:]).max() > 0.05


@pytest.mark.parametrize("stall", [(2_560, 7_680), (11_776, 12_032), (20_224, 40_192)])
def test_a_synth_that_skips_blocks_rejoins_bit_identical(stall) -> None:
    """``seek`` = rendering the skipped samples and throwing them away."""
    stop, rejoin = stall
    steady, skipping = _synth(), _synth()
    _feed(steady, _events(steady))
    _feed(skipping, _events(skipping))
    reference = _render(steady, 48_000)
    _render(skipping, stop)
    skipping.seek(rejoin)
    after = _render(skipping, 48_000 - rejoin)
    np.testing.assert_array_equal(after, reference[rejoin:])


@pytest.mark.parametrize("now", [256, 1_536, 5_120, 12_032, 21_248, 30_208, 40_960])
def test_a_synth_rebuilt_from_the_event_history_renders_what_an_undisturbed_one_does(now) -> None:
    """The restart case: a fresh synth given every event (past and future) resumes at ``now``
    mid-notes, mid-glides, mid-releases, and matches bit for bit from there."""
    undisturbed, rebuilt = _synth(), _synth()
    _feed(undisturbed, _events(undisturbed))
    reference = _render(undisturbed, 48_000)
    _feed(rebuilt, _events(rebuilt))
    rebuilt.resume(now)
    assert rebuilt.sample_time == now
    after = _render(rebuilt, 48_000 - now)
    np.testing.assert_array_equal(after, reference[now:])
    assert np.abs(reference[now:]).max() > 0.0


def test_resume_skips_notes_that_ended_long_before_and_plays_the_held_ones() -> None:
    undisturbed, rebuilt = _synth(n_voices=8), _synth(n_voices=8)
    script = [(t, 60 + (t // 4_800) % 12) for t in range(0, 480_000, 4_800)]  # 10 s of notes
    for synth in (undisturbed, rebuilt):
        synth.note_on(100, 45, 100, channel=3)  # held throughout
        for t, note in script:
            synth.note_on(t, note, 90)
            synth.note_off(t + 2_400, note)
    now = 470_016
    undisturbed.seek(now - 25_600)  # (seek is exact: rendering all 10 s gives the same)
    _render(undisturbed, 25_600)
    reference_tail = _render(undisturbed, 9_984)
    since = rebuilt.resume(now)
    assert since == 100  # the held note is the oldest that may still sound
    np.testing.assert_array_equal(_render(rebuilt, 9_984), reference_tail)
    assert rebuilt.active_voices == undisturbed.active_voices


def test_a_restored_emotion_applies_when_the_history_holds_none() -> None:
    neutral, restored = _synth(), _synth()
    restored.set_emotion(0.0, 0.5, 1.0)  # what the supervisor hands back
    for synth in (neutral, restored):
        synth.note_on(0, 57, 100)
        synth.resume(24_064)
    a, b = _render(neutral, 4_096), _render(restored, 4_096)
    level = np.sqrt(np.mean(b.astype(np.float64) ** 2) / np.mean(a.astype(np.float64) ** 2))
    assert abs(20 * np.log10(level) - 6.0) < 0.05  # dominance 1.0: +6 dB


def test_emotion_events_take_effect_at_their_sample() -> None:
    synth = _synth(channels=1, preset="organ")
    synth.note_on(0, 57, 100)
    synth.schedule_emotion(10_000, 0.0, 0.5, 1.0)
    out = synth.render(20_000)[:, 0].astype(np.float64)
    before = np.sqrt(np.mean(out[5_000:9_900] ** 2))
    after = np.sqrt(np.mean(out[12_000:19_000] ** 2))
    assert abs(20 * np.log10(after / before) - 6.0) < 0.05
    assert synth.queued_events == 0


def test_schedule_array_keeps_the_order_of_equal_times() -> None:
    one, many = _synth(), _synth()
    events = np.zeros(4, EVENT_DTYPE)
    events["sample_time"] = [500, 100, 100, 300]
    events["kind"] = [EventKind.NOTE_ON, EventKind.NOTE_ON, EventKind.NOTE_OFF, EventKind.NOTE_OFF]
    events["note"] = [60, 62, 62, 60]
    events["velocity"] = [100, 100, 0, 0]
    for ev in events:
        one.schedule(int(ev["sample_time"]), int(ev["kind"]), int(ev["note"]),
                     int(ev["velocity"]))  # fmt: skip
    assert many.schedule_array(events) == 4
    np.testing.assert_array_equal(one._queue.queued, many._queue.queued)
