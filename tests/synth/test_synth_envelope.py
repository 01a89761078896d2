"""Envelope shapes (pure functions of time) against their direct piecewise formulas, and the
voice slots' one ``copy`` that stealing relies on."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.synth import envelope
from kelly_actors.synth.slots import VoiceSlots


def _adsr_direct(age: float, a: float, d: float, s: float) -> float:
    """The held level written out segment by segment."""
    if age <= a:
        return age / a  # attack: 1/a on the first sample, 1 at sample a
    if age <= a + d:
        return 1.0 - (1.0 - s) * (age - a) / d  # decay: 1 → s
    return s  # sustain


@pytest.mark.parametrize(("a", "d", "s"), [(1.0, 1.0, 1.0), (480.0, 2400.0, 0.6),
                                           (5.0, 300.0, 0.0), (96.0, 1.0, 0.25)])  # fmt: skip
def test_held_level_is_attack_then_decay_then_sustain(a, d, s) -> None:
    age = np.arange(1.0, a + d + 200.0)
    level = envelope.held_level(age, np.array([a]), np.array([d]), np.array([s]))
    direct = np.array([_adsr_direct(x, a, d, s) for x in age])
    np.testing.assert_allclose(level, direct, rtol=0, atol=1e-12)
    assert level[0] > 0.0  # the note's first sample already sounds
    assert level.max() <= 1.0 and level.min() >= 0.0


def test_release_falls_linearly_from_the_level_at_the_note_off_to_zero() -> None:
    since = np.arange(-5.0, 130.0)
    length, start = np.array([100.0]), np.array([0.7])
    held = np.full(since.shape, 0.9)
    level = envelope.released_level(held, since, length, start)
    direct = np.where(since < 0, 0.9, 0.7 * np.clip(1.0 - since / 100.0, 0.0, 1.0))
    np.testing.assert_allclose(level, direct, rtol=0, atol=1e-15)
    assert level[since == 0][0] == 0.7 and np.all(level[since >= 100] == 0.0)
    gain = envelope.release_gain(since, length)
    assert np.all(gain[since <= 0] == 1.0) and np.all(gain[since >= 100] == 0.0)
    over = envelope.release_over(since.astype(np.int64), length)
    np.testing.assert_array_equal(over, since >= 100)


def test_a_pluck_is_over_when_its_decay_reaches_a_sustain_of_zero() -> None:
    elapsed = np.array([0, 99, 100, 101])
    over = envelope.decay_over(elapsed, np.array([40.0]), np.array([60.0]), np.array([0.0]))
    np.testing.assert_array_equal(over, [False, False, True, True])
    held = envelope.decay_over(elapsed, np.array([40.0]), np.array([60.0]), np.array([0.5]))
    assert not held.any()


def test_fade_in_reaches_one_after_its_length() -> None:
    age = np.arange(0.0, 12.0)
    np.testing.assert_array_equal(envelope.fade_in_gain(age, np.array([10.0])),
                                  np.minimum(age / 10.0, 1.0))  # fmt: skip


def test_one_slot_and_a_whole_block_get_the_same_level() -> None:
    """Stealing evaluates the level of one slot at one sample; rendering the whole block:
    the two must agree bit for bit (a ghost fades out from exactly the level it had)."""
    slots = VoiceSlots(3, 1, 4, 8)
    slots.active[:3] = True
    slots.start[:3] = (0, 100, 250)
    slots.attack[:3] = (30.0, 7.0, 1.0)
    slots.decay[:3] = (90.0, 3.0, 1.0)
    slots.sustain[:3] = (0.3, 0.8, 1.0)
    slots.start_release(1, 180, 77.0)
    idx = np.arange(3)
    t, n = 170, 64
    ramp = np.arange(n, dtype=np.float64)
    tau = (t - slots.start[idx]).astype(np.float64)[:, None] + ramp
    block = slots.envelopes(idx, t, tau, ramp)
    for k in range(n):
        np.testing.assert_array_equal(slots.levels_at(idx, t + k), block[:, k])


def test_glide_is_linear_from_where_it_was_and_ends_exactly_on_its_target() -> None:
    glide = envelope.Glide(0.0, 10.0)
    glide.set(100, 2.0)
    glide.set(104, -1.0)  # mid-glide: from 0.8, the value at sample 104
    ramp = np.arange(40, dtype=np.float64)
    block = glide.fill(95, ramp, np.empty(40))
    t = 95 + ramp
    # The glide holds its latest segment only: 0.8 until sample 104, then linear to −1.
    direct = 0.8 + (-1.0 - 0.8) * np.clip((t - 104) / 10.0, 0.0, 1.0)
    np.testing.assert_allclose(block, direct, rtol=0, atol=1e-12)
    settled = glide.settled_from() - 95
    assert np.all(block[settled:] == -1.0) and glide.at(glide.settled_from()) == -1.0
    assert glide.nonzero
    assert not envelope.Glide(0.0, 10.0).nonzero


def test_copy_moves_every_per_voice_array() -> None:
    """Every array that has a row per slot is declared through ``per_voice`` and so copied:
    a quantity added later cannot be forgotten by voice stealing."""
    slots = VoiceSlots(4, 2, 8, 16)
    per_slot = {
        name: value
        for name, value in vars(slots).items()
        if isinstance(value, np.ndarray) and value.shape[:1] == (slots.n_slots,)
    }
    rng = np.random.default_rng(0)
    for array in per_slot.values():
        array[2] = rng.integers(1, 100, array[2].shape).astype(array.dtype)
    slots.noise.keys[2] = 12345
    slots.copy(2, 5)
    for name, array in per_slot.items():
        np.testing.assert_array_equal(array[5], array[2], err_msg=name)
    assert slots.noise.keys[5] == 12345
    assert len(per_slot) == len(slots._arrays)
