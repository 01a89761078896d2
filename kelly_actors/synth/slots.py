"""The synth's voice slots: every per-voice quantity, one preallocated array each.

A struct of arrays indexed by slot, so rendering works on all sounding voices at once with
numpy. Slots ``[0, n_voices)`` are allocatable; the ``n_ghosts`` slots after them only ever
hold the sound of a stolen (or crossfaded) voice while it fades out. Every array is declared
once, in :meth:`VoiceSlots.__init__`, through ``per_voice``: :meth:`VoiceSlots.copy` moves a
voice to another slot by copying all of them, so a quantity added later is never left behind.
"""

from __future__ import annotations

import numpy as np

from kelly_actors.synth import envelope
from kelly_actors.synth.noise import FramedNoise

__all__ = ["VoiceSlots"]


class VoiceSlots:
    """Per-voice state of ``n_voices + n_ghosts`` slots (see the module docstring).

    Times are absolute sample indices (int64), lengths are samples (float64 ≥ 1), levels are
    linear. Attributes, each an array whose first axis is the slot:

    * lifetime: ``active``, ``note`` and ``channel`` (MIDI), ``start`` (the note's first
      sample), ``seq`` (allocation count: the oldest is stolen first), ``order`` (when the
      sound began in this slot: the mixing order);
    * envelope (:mod:`kelly_actors.synth.envelope`): ``attack``, ``decay``, ``sustain``,
      ``release`` (the preset's), and the release under way: ``released``,
      ``release_start``, ``release_from`` (the level then), ``release_len``;
    * pitch: ``f0`` (Hz), ``ceiling`` (the highest f0 bend and vibrato reach, Hz: the
      anti-alias mask), ``vibrato_rate`` (cycles per sample), ``vibrato_depth`` (semitones),
      ``vibrato_delay`` (fade-in, samples), ``vibrato_swing`` (cycles: amplitude of the
      vibrato's phase term), ``carrier`` (phase accumulator, 2⁻³² cycles, an exact integer in
      float64), ``phase`` (radians, neural voices);
    * timbre: ``amp`` (velocity gain), ``harmonics_base`` (the preset's distribution
      ``(n_slots, n_harmonics)``), ``harmonics`` (tilted by valence), ``harmonics_old``
      (the tilt before the last emotion change, while it glides), ``noise_gain``, ``bank``
      (neural timbre bank, −1 = the preset voice), ``velocity``, ``fade_start`` /
      ``fade_len`` (a timbre crossfade's fade-in);
    * ``noise``: the slots' filtered noise streams (:class:`~kelly_actors.synth.noise.FramedNoise`).

    Args:
        n_voices: allocatable slots.
        n_ghosts: fade-out slots after them.
        n_harmonics: columns of the harmonic distributions.
        noise_ir_len: length of the noise filters' impulse responses (samples).
    """

    def __init__(self, n_voices: int, n_ghosts: int, n_harmonics: int, noise_ir_len: int) -> None:
        n_slots = n_voices + n_ghosts
        self.n_voices = n_voices
        self.n_slots = n_slots
        arrays: list[np.ndarray] = []

        def per_voice(fill: float | bool, dtype: type = np.float64, width: int = 0) -> np.ndarray:
            shape = (n_slots, width) if width else (n_slots,)
            array = np.full(shape, fill, dtype)
            arrays.append(array)
            return array

        self.active = per_voice(False, np.bool_)
        self.note = per_voice(0, np.int16)
        self.channel = per_voice(0, np.int16)
        self.start = per_voice(0, np.int64)
        self.seq = per_voice(0, np.int64)
        self.order = per_voice(0, np.int64)
        self.attack = per_voice(1.0)
        self.decay = per_voice(1.0)
        self.sustain = per_voice(1.0)
        self.release = per_voice(1.0)
        self.released = per_voice(False, np.bool_)
        self.release_start = per_voice(0, np.int64)
        self.release_from = per_voice(0.0)
        self.release_len = per_voice(1.0)
        self.f0 = per_voice(440.0)
        self.ceiling = per_voice(440.0)
        self.vibrato_rate = per_voice(0.0)
        self.vibrato_depth = per_voice(0.0)
        self.vibrato_delay = per_voice(1.0)
        self.vibrato_swing = per_voice(0.0)
        self.carrier = per_voice(0.0)
        self.phase = per_voice(0.0)
        self.amp = per_voice(0.0)
        self.harmonics_base = per_voice(0.0, width=n_harmonics)
        self.harmonics = per_voice(0.0, width=n_harmonics)
        self.harmonics_old = per_voice(0.0, width=n_harmonics)
        self.noise_gain = per_voice(0.0)
        self.bank = per_voice(-1, np.int64)
        self.velocity = per_voice(0, np.int64)
        self.fade_start = per_voice(0, np.int64)
        self.fade_len = per_voice(1.0)
        self._arrays = tuple(arrays)
        self.noise = FramedNoise(n_slots, noise_ir_len)
        self._seq_counter = 0
        self._order_counter = 0

    def copy(self, src: int, dst: int) -> None:
        """Put the voice of slot ``src`` in slot ``dst`` too: every array, the noise stream
        and its filter cache (a neural bank's decoder state is the caller's to copy)."""
        for array in self._arrays:
            array[dst] = array[src]
        self.noise.copy(src, dst)

    def stamp(self, slot: int, allocated: bool) -> None:
        """Mark the sound of ``slot`` as beginning now (its place in the mixing order) and,
        when ``allocated`` (a new note rather than a ghost), as the newest allocation."""
        self._order_counter += 1
        self.order[slot] = self._order_counter
        if allocated:
            self._seq_counter += 1
            self.seq[slot] = self._seq_counter

    def ghosts(self) -> np.ndarray:
        """Slot numbers of the ghosts, int64 ``(n_ghosts,)``."""
        return np.arange(self.n_voices, self.n_slots)

    def sounding(self) -> np.ndarray:
        """Active slots in the order their sounds began (the canonical mixing order)."""
        idx = np.flatnonzero(self.active)
        if idx.size > 1:
            idx = idx[np.argsort(self.order[idx], kind="stable")]
        return idx

    # ----------------------------------------------------------------- envelope
    def levels_at(self, slots: np.ndarray, t: int) -> np.ndarray:
        """Envelope level of ``slots`` (int ``(v,)``) at absolute sample ``t``: float64 ``(v,)``."""
        age = (t - self.start[slots]).astype(np.float64) + 1.0
        held = envelope.held_level(age, self.attack[slots], self.decay[slots], self.sustain[slots])
        since = (t - self.release_start[slots]).astype(np.float64)
        level = envelope.released_level(
            held, since, self.release_len[slots], self.release_from[slots]
        )
        return np.where(self.released[slots], level, held)

    def envelopes(self, idx: np.ndarray, t: int, tau: np.ndarray, ramp: np.ndarray) -> np.ndarray:
        """Envelope of voices ``idx`` over a block: float64 ``(v, n)``.

        Args:
            idx: int ``(v,)`` slots.
            t: absolute sample of the block's first column.
            tau: float64 ``(v, n)``, samples since each note began (0 on its first sample).
            ramp: float64 ``(n,)``, ``0, 1, … n − 1``.
        """
        env = envelope.held_level(
            tau + 1.0, self.attack[idx, None], self.decay[idx, None], self.sustain[idx, None]
        )
        released = self.released[idx]
        if released.any():
            r = np.flatnonzero(released)
            slots = idx[r]
            since = (t - self.release_start[slots]).astype(np.float64)[:, None] + ramp
            env[r] = envelope.released_level(
                env[r], since, self.release_len[slots, None], self.release_from[slots, None]
            )
        return env

    def release_gains(self, slots: np.ndarray, t: int, ramp: np.ndarray) -> np.ndarray:
        """The release ramp alone of released ``slots`` over ``t + ramp``: float64 ``(v, n)``,
        1 before their release."""
        since = (t - self.release_start[slots]).astype(np.float64)[:, None] + ramp
        return envelope.release_gain(since, self.release_len[slots, None])

    def start_release(self, slot: int, t: int, length: float) -> None:
        """Release ``slot`` from sample ``t`` over ``length`` samples (at least 1), from the
        level it has then."""
        level = self.levels_at(np.array([slot]), t)[0]
        self.released[slot] = True
        self.release_start[slot] = t
        self.release_from[slot] = level
        self.release_len[slot] = max(1.0, length)

    def retire(self, idx: np.ndarray, t_end: int) -> None:
        """Free the slots among ``idx`` whose sound is over at sample ``t_end``: the release
        ended, or a sustain-0 note decayed to silence."""
        released = self.released[idx]
        done = released & envelope.release_over(t_end - self.release_start[idx],
                                                self.release_len[idx])  # fmt: skip
        done |= envelope.decay_over(
            t_end - self.start[idx], self.attack[idx], self.decay[idx], self.sustain[idx]
        )
        finished = idx[done]
        self.active[finished] = False
        self.released[finished] = False
        self.bank[finished] = -1
