"""Voice allocation of :class:`~kelly_actors.synth.voices.Synth`: a note-on takes a free
slot, or steals one; a stolen sound moves to a ghost slot that fades it out.

A mixin: it uses the synth's voice slots (:class:`~kelly_actors.synth.slots.VoiceSlots`),
channel presets and neural banks. Stealing picks the quietest released voice, or, if none is
released, the oldest; the ghost fades the old sound out in :data:`STEAL_FADE_S` (a cut would
click). A timbre crossfade moves held notes to ghosts the same way.
"""

from __future__ import annotations

import math

import numpy as np

from kelly_actors.synth import ddsp
from kelly_actors.synth.emotion import harmonic_tilt
from kelly_actors.synth.noise import voice_key
from kelly_actors.synth.presets import N_NOISE_BANDS, TimbrePreset

__all__ = ["STEAL_FADE_S", "VoiceAllocation", "velocity_gain"]

#: Seconds a stolen voice (and every voice at ``ALL_SOUND_OFF``) takes to fade out.
STEAL_FADE_S = 0.004
_TWO_PI = 2.0 * np.pi
_LN2_12 = math.log(2.0) / 12.0


def velocity_gain(velocity: int | np.ndarray) -> np.ndarray:
    """Linear amplitude for MIDI velocity 0..127: ``(velocity / 127) ** 2``."""
    return (np.asarray(velocity, dtype=np.float64) / 127.0) ** 2


class VoiceAllocation:
    """Starting notes in slots, stealing and ghost fades (see the module docstring)."""

    def _start_note(self, t: int, note: int, velocity: int, channel: int) -> None:
        """Sound ``note`` from sample ``t`` in a free slot, or a stolen one."""
        slots = self.slots
        free = np.flatnonzero(~slots.active[: self.n_voices])
        slot = int(free[0]) if free.size else self._steal(t)
        p = self._chan_preset[channel]
        sr = self.sample_rate
        slots.active[slot] = True
        slots.released[slot] = False
        slots.note[slot] = note
        slots.channel[slot] = channel
        slots.start[slot] = t
        slots.stamp(slot, allocated=True)
        slots.attack[slot] = max(1.0, p.attack_s * sr)
        slots.decay[slot] = max(1.0, p.decay_s * sr)
        slots.sustain[slot] = p.sustain
        slots.release[slot] = max(1.0, p.release_s * sr)
        slots.vibrato_rate[slot] = p.vibrato_rate_hz / sr
        slots.vibrato_depth[slot] = p.vibrato_depth_cents / 100.0
        slots.vibrato_delay[slot] = max(1.0, p.vibrato_delay_s * sr)
        f0 = float(ddsp.midi_to_hz(note))
        slots.vibrato_swing[slot] = _vibrato_amplitude(f0, p)
        slots.f0[slot] = f0
        slots.ceiling[slot] = f0 * 2.0 ** ((self.bend_range + slots.vibrato_depth[slot]) / 12.0)
        slots.amp[slot] = velocity_gain(velocity)
        slots.phase[slot] = 0.0
        slots.carrier[slot] = 0.0
        slots.harmonics_base[slot] = p.harmonic_distribution
        slots.harmonics[slot] = harmonic_tilt(p.harmonic_distribution, self._valence)
        slots.harmonics_old[slot] = slots.harmonics[slot]
        slots.noise_gain[slot] = p.noise_gain
        key = voice_key(self.seed, t, channel, note)
        slots.noise.start(slot, key, self._noise_spectrum(p))
        slots.velocity[slot] = velocity
        slots.fade_len[slot] = 1.0
        slots.fade_start[slot] = t
        slots.bank[slot] = -1
        if self._timbre is not None:
            self._start_neural(slot, t)

    def _steal(self, t: int) -> int:
        """Free an allocatable slot at sample ``t``: the quietest released voice, else the
        oldest, its sound moved to a ghost that fades it out. Returns the freed slot."""
        slots = self.slots
        pool = slice(0, self.n_voices)
        released = np.flatnonzero(slots.released[pool])
        if released.size:
            victim = int(released[int(np.argmin(slots.levels_at(released, t)))])
        else:
            victim = int(np.argmin(slots.seq[pool]))
        ghosts = slots.ghosts()
        free = ghosts[~slots.active[ghosts]]
        ghost = int(free[0]) if free.size else int(ghosts[np.argmin(slots.seq[ghosts])])
        self._fade_into_ghost(victim, ghost, t, STEAL_FADE_S * self.sample_rate)
        self.stats["stolen"] += 1
        return victim

    def _fade_into_ghost(self, slot: int, ghost: int, t: int, fade: float) -> None:
        """Move the sound of ``slot`` to ``ghost`` and fade it out there over ``fade`` samples
        from sample ``t``, from the level it has then."""
        slots = self.slots
        slots.copy(slot, ghost)
        bank = int(slots.bank[slot])
        if bank >= 0:
            self._banks[bank].copy_slot(slot, ghost)
        slots.stamp(ghost, allocated=False)
        slots.start_release(ghost, t, fade)

    def _noise_spectrum(self, p: TimbrePreset) -> np.ndarray:
        """The noise filter of preset ``p`` (cached per preset object)."""
        cached = self._chan_noise.get(p.name)
        if cached is None or cached[0] is not p:
            mags = p.noise_magnitudes(self.sample_rate, N_NOISE_BANDS)
            ir = ddsp.frequency_impulse_response(mags)
            cached = self._chan_noise[p.name] = (p, self.slots.noise.spectrum_of(ir))
        return cached[1]


def _vibrato_amplitude(f0: float, p: TimbrePreset) -> float:
    """Cycles of phase deviation of a vibrato of ``p``'s depth and rate on pitch ``f0``.

    Pitch ``f0·2^(d·sin(2πrt)/12)`` deviates by ``f0·(ln2/12)·d·sin(2πrt)`` Hz to first
    order; its phase integral is ``A·(1 − cos(2πrt))`` with ``A = f0·d·ln2 / (12·2πr)``.
    """
    if p.vibrato_rate_hz <= 0.0 or p.vibrato_depth_cents == 0.0:
        return 0.0
    depth = p.vibrato_depth_cents / 100.0
    return f0 * depth * _LN2_12 / (_TWO_PI * p.vibrato_rate_hz)
