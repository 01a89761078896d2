"""Emotion modulation functions and timbre presets."""

import numpy as np
import pytest

from kelly_actors.synth.emotion import dominance_gain, harmonic_tilt, noise_level
from kelly_actors.synth.presets import N_HARMONICS, PRESETS, get_preset


def test_arousal_scales_noise_from_a_quarter_to_one_and_three_quarters():
    assert noise_level(0.0) == pytest.approx(0.25)
    assert noise_level(0.5) == pytest.approx(1.0)
    assert noise_level(1.0) == pytest.approx(1.75)
    assert noise_level(3.0) == pytest.approx(1.75)  # clipped


def test_negative_valence_tilts_harmonics_darker_and_keeps_the_sum():
    dist = np.full(N_HARMONICS, 1.0 / N_HARMONICS)
    dark, bright = harmonic_tilt(dist, -1.0), harmonic_tilt(dist, 1.0)
    assert dark.sum() == pytest.approx(1.0) and bright.sum() == pytest.approx(1.0)
    # −6 dB per octave: harmonic 2 is half of harmonic 1, harmonic 4 a quarter.
    assert dark[1] / dark[0] == pytest.approx(10 ** (-6 / 20))
    assert dark[3] / dark[0] == pytest.approx(10 ** (-12 / 20))
    assert bright[1] / bright[0] == pytest.approx(10 ** (6 / 20))
    np.testing.assert_allclose(harmonic_tilt(dist, 0.0), dist)


def test_dominance_maps_to_minus_6_to_plus_6_db():
    assert 20 * np.log10(dominance_gain(0.0)) == pytest.approx(-6.0)
    assert dominance_gain(0.5) == pytest.approx(1.0)
    assert 20 * np.log10(dominance_gain(1.0)) == pytest.approx(6.0)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_a_normalised_64_harmonic_distribution(name):
    p = get_preset(name)
    assert p.harmonic_distribution.shape == (N_HARMONICS,)
    assert np.all(p.harmonic_distribution >= 0.0)
    assert p.harmonic_distribution.sum() == pytest.approx(1.0)
    assert 0.0 <= p.sustain <= 1.0 and p.attack_s > 0 and p.release_s > 0


def test_noise_shapes_are_defined_in_hz_so_they_match_across_sample_rates():
    p = get_preset("flute")
    at48 = p.noise_magnitudes(48000, 65)  # bands every 375 Hz
    at96 = p.noise_magnitudes(96000, 129)  # bands every 375 Hz
    np.testing.assert_allclose(at96[:65], at48, rtol=1e-12)


def test_unknown_preset_names_the_available_ones():
    with pytest.raises(KeyError, match="strings"):
        get_preset("theremin")
