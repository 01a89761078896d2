"""Polyphonic voice engine: continuity, sample accuracy, stealing, pitch, emotion."""

from dataclasses import replace

import numpy as np
import pytest

from kelly_actors.bus.note_events import EventKind
from kelly_actors.synth import ddsp
from kelly_actors.synth.events import EVENT_DTYPE
from kelly_actors.synth.presets import get_preset
from kelly_actors.synth.voices import Synth


def _script(synth: Synth) -> None:
    synth.note_on(100, 60, 100)
    synth.note_on(1000, 64, 90, channel=1)
    synth.note_on(1500, 67, 80)
    synth.pitch_bend(5000, 1.0, channel=0)  # semitones
    synth.note_off(9000, 60)
    synth.note_on(12000, 72, 127, channel=1)
    synth.note_off(20000, 64, channel=1)
    synth.pitch_bend(22000, -2.0, channel=1)


@pytest.mark.parametrize("sr", [44100, 48000, 96000])
def test_rendering_in_blocks_of_64_to_2048_equals_one_long_render(sr):
    n = 30000
    one = Synth(sr, channels=2, preset="flute", seed=7)  # flute: noise + vibrato
    _script(one)
    whole = one.render(n)
    rng = np.random.default_rng(sr)
    blocks = Synth(sr, channels=2, preset="flute", seed=7)
    _script(blocks)
    pieces, done = [], 0
    while done < n:
        size = min(int(rng.integers(64, 2049)), n - done)
        pieces.append(blocks.render(size))
        done += size
    chunked = np.concatenate(pieces)
    assert chunked.dtype == np.float32 and chunked.shape == (n, 2)
    assert np.abs(whole).max() > 0.05
    np.testing.assert_allclose(chunked, whole, atol=1e-6, rtol=0)


@pytest.mark.parametrize("start", [0, 1, 63, 511, 700, 1999])
def test_a_note_starts_at_exactly_its_sample_time_within_the_block(start):
    synth = Synth(48000, channels=1, preset="organ")
    synth.render(1000)  # the stream is at sample 1000
    synth.note_on(1000 + start, 69, 127)
    out = synth.render(2048)[:, 0]
    nonzero = np.flatnonzero(out != 0.0)
    assert nonzero[0] == start
    assert np.all(out[:start] == 0.0)


def test_late_events_play_at_the_next_block_start_and_are_counted():
    synth = Synth(48000, channels=1, preset="organ")
    synth.render(512)
    synth.note_on(100, 69, 100)  # already past
    out = synth.render(512)[:, 0]
    assert out[0] != 0.0 or out[1] != 0.0
    assert synth.stats["late_events"] == 1


def test_a_full_pool_steals_the_oldest_held_voice():
    synth = Synth(48000, channels=1, n_voices=4, preset="organ")
    for i, note in enumerate((60, 62, 64, 65)):
        synth.note_on(i * 10, note, 100)
    synth.render(256)
    assert synth.active_voices == 4
    synth.note_on(300, 67, 100)
    synth.render(256)
    assert synth.stats["stolen"] == 1
    assert synth.active_voices == 4
    held = set(synth.slots.note[: synth.n_voices][synth.slots.active[: synth.n_voices]].tolist())
    assert held == {62, 64, 65, 67}  # 60 was the oldest


def test_stealing_prefers_the_quietest_released_voice():
    synth = Synth(48000, channels=1, n_voices=3, preset="strings")
    synth.note_on(0, 60, 100)
    synth.note_on(0, 62, 100)
    synth.note_on(0, 64, 100)
    synth.note_off(5000, 62)
    synth.note_off(9000, 64)
    synth.render(10000)
    synth.note_on(10000, 70, 100)
    synth.render(64)
    held = set(synth.slots.note[: synth.n_voices][synth.slots.active[: synth.n_voices]].tolist())
    assert held == {60, 64, 70}  # 62 released earliest, so it was the quietest


def test_a_stolen_voice_fades_out_instead_of_clicking():
    synth = Synth(48000, channels=1, n_voices=1, preset="organ")
    synth.note_on(0, 69, 127)
    synth.render(4800)
    synth.note_on(4800, 81, 127)
    out = synth.render(4800)[:, 0]
    ghost = synth.slots.active[synth.n_voices :]
    fade = int(0.004 * 48000)
    # The largest sample-to-sample step stays that of the tones themselves (no jump to 0).
    step = np.abs(np.diff(out[: fade + 10])).max()
    assert step < 2.5 * np.abs(np.diff(out[2000:3000])).max()
    assert not ghost.any()


def test_pitch_bend_of_one_semitone_raises_the_frequency_by_2_pow_1_12():
    sr = 48000
    synth = Synth(sr, channels=1, preset="sine", bend_range_semitones=2.0)
    synth.note_on(0, 69, 100)
    synth.pitch_bend(0, 1.0)
    out = synth.render(sr)[:, 0]
    seg = out[sr // 4 :] * np.hanning(out.size - sr // 4)
    spec = np.abs(np.fft.rfft(seg, 1 << 20))
    peak = np.argmax(spec) * sr / (1 << 20)
    assert abs(peak - 440.0 * 2 ** (1 / 12)) < 0.5


def test_high_notes_render_no_aliased_partials_even_when_bent_up():
    sr = 44100
    flat = replace(get_preset("organ"), harmonic_distribution=np.full(64, 1 / 64))
    synth = Synth(sr, channels=1, preset="organ", bend_range_semitones=2.0)
    synth.set_preset(flat)
    synth.note_on(0, 100, 127)  # 2637 Hz: harmonics 9..64 are above Nyquist
    synth.pitch_bend(sr // 2, 2.0)  # +2 semitones: 2960 Hz, harmonic 8 = 23.7 kHz
    out = synth.render(sr + sr // 2)[:, 0].astype(np.float64)
    freqs = np.fft.rfftfreq(sr // 4, 1 / sr)
    steady = (
        (out[sr // 4 : sr // 2], ddsp.midi_to_hz(100)),
        (out[sr + sr // 4 :], ddsp.midi_to_hz(102)),
    )
    x = 2 * np.pi * np.arange(sr // 4) / (sr // 4)
    blackman_harris = (
        0.35875 - 0.48829 * np.cos(x) + 0.14128 * np.cos(2 * x) - 0.01168 * np.cos(3 * x)
    )
    for seg, f0 in steady:
        spec = np.abs(np.fft.rfft(seg * blackman_harris))
        allowed = np.zeros(freqs.size, dtype=bool)
        for k in range(1, int(sr / 2 // f0) + 1):
            allowed |= np.abs(freqs - k * f0) < 20.0
        # All harmonics are equally loud, so an aliased one would be near 0 dB; outside
        # ±20 Hz of the true harmonics only window side lobes (Blackman-Harris, < −90 dB)
        # and float32 rounding remain.
        assert spec[~allowed].max() / spec.max() < 1e-3


def test_all_sound_off_silences_every_voice_within_the_fade():
    synth = Synth(48000, channels=2, preset="strings")
    for note in (48, 55, 60, 64):
        synth.note_on(0, note, 100)
    synth.render(4800)
    ev = np.zeros(1, dtype=EVENT_DTYPE)
    ev["sample_time"], ev["kind"] = 4800, EventKind.ALL_SOUND_OFF
    assert synth.schedule_array(ev) == 1
    out = synth.render(4800)
    assert np.all(out[400:] == 0.0)
    assert synth.active_voices == 0


def test_valence_darkens_and_dominance_raises_the_level_of_a_held_note():
    sr = 48000

    def render(valence: float, dominance: float) -> np.ndarray:
        synth = Synth(sr, channels=1, preset="strings")
        synth.set_emotion(valence, 0.5, dominance)
        synth.note_on(0, 57, 100)
        return synth.render(sr)[sr // 2 :, 0].astype(np.float64)

    def centroid(x: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(x))
        return float((np.fft.rfftfreq(x.size, 1 / sr) * spec).sum() / spec.sum())

    dark, neutral, bright = render(-1.0, 0.5), render(0.0, 0.5), render(1.0, 0.5)
    assert centroid(dark) < centroid(neutral) < centroid(bright)
    loud = render(0.0, 1.0)
    ratio = np.sqrt(np.mean(loud**2) / np.mean(neutral**2))
    assert abs(20 * np.log10(ratio) - 6.0) < 0.05


def test_emotion_changes_glide_without_a_step():
    synth = Synth(48000, channels=1, preset="organ")
    synth.note_on(0, 57, 100)
    a = synth.render(4800)[:, 0]
    synth.set_emotion(-1.0, 1.0, 1.0)
    b = synth.render(4800)[:, 0]
    joined = np.concatenate([a, b])
    steps = np.abs(np.diff(joined))
    assert steps[4790:4810].max() < 1.5 * steps[3000:4700].max()


def test_a_full_event_queue_drops_and_counts():
    synth = Synth(48000, event_capacity=4)
    assert all(synth.note_on(i, 60) for i in range(4))
    assert synth.note_on(5, 61) is False
    assert synth.stats["dropped_events"] == 1


def test_render_writes_into_a_caller_buffer():
    synth = Synth(48000, channels=2, preset="pluck")
    synth.note_on(0, 60, 100)
    buf = np.zeros((256, 2), dtype=np.float32)
    result = synth.render(256, out=buf)
    assert result is buf
    assert np.abs(buf).max() > 0.0
