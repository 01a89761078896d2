"""Rendering half of :class:`~kelly_actors.synth.voices.Synth`: events due in a block, then
the sounding voices summed in a fixed order, all with numpy on the slot arrays.

A mixin: it uses the synth's voice slots (:class:`~kelly_actors.synth.slots.VoiceSlots`),
event queue, glides and work buffers. Nothing here allocates a Python object per block
beyond numpy temporaries, logs, locks or waits.
"""

from __future__ import annotations

import numpy as np

from kelly_actors.synth import ddsp, envelope
from kelly_actors.synth.noise import hash_uniform
from kelly_actors.synth.replay import CARRIER_ONE

__all__ = ["BlockRendering"]

_TWO_PI = 2.0 * np.pi


class BlockRendering:
    """``render`` and the per-block DSP of the synth (see the module docstring)."""

    def render(self, n_frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """Render the next ``n_frames`` samples.

        Args:
            n_frames: number of frames (any positive size; cut into ``max_block`` pieces).
            out: optional float32 ``(n_frames, channels)`` array to write into (e.g. a ring
                slot); a new array is returned when None.

        Returns:
            float32 ``(n_frames, channels)`` in [−1, 1].
        """
        if out is None:
            out = np.empty((n_frames, self.channels), dtype=np.float32)
        done = 0
        while done < n_frames:
            n = min(self.max_block, n_frames - done)
            self._render_block(n, out[done : done + n])
            done += n
        return out

    def _render_block(self, n: int, out: np.ndarray) -> None:
        """``n ≤ max_block`` samples into float32 ``out (n, channels)``, cut at each event."""
        t0 = self._time
        mix = self._mix[:n]
        mix[:] = 0.0
        pos = 0
        queue = self._queue
        while queue.first_before(t0 + n):
            ev = queue.pop()
            offset = int(ev["sample_time"]) - t0
            if offset < 0:
                self.stats["late_events"] += 1
                offset = 0
            if offset > pos:
                self._render_piece(t0 + pos, offset - pos, mix[pos:offset])
                pos = offset
            self._apply(ev, t0 + pos)
        if pos < n:
            self._render_piece(t0 + pos, n - pos, mix[pos:n])
        np.clip(mix, -1.0, 1.0, out=mix)
        out[:] = mix
        self._time = t0 + n
        self.stats["rendered"] += n

    def _render_piece(self, t: int, n: int, mix: np.ndarray) -> None:
        """Voices and output gain for ``[t, t + n)`` (between two events: the gain glide
        applies per piece, so an emotion change mid-block takes effect at its sample)."""
        self._render_voices(t, n, mix)
        mix *= self._gain.fill(t, self._ramp[:n], self._buf[:n])[:, None]

    def _render_voices(self, t: int, n: int, mix: np.ndarray) -> None:
        """Add voices for samples ``[t, t + n)`` into ``mix`` (float64 ``(n, channels)``)."""
        slots = self.slots
        idx = slots.sounding()
        if idx.size == 0:
            return
        ramp = self._ramp[:n]
        tau = (t - slots.start[idx]).astype(np.float64)[:, None] + ramp
        env = slots.envelopes(idx, t, tau, ramp)
        neural = slots.bank[idx] >= 0
        if neural.any():
            harm = np.empty((idx.size, n))
            if not neural.all():
                p = ~neural
                harm[p] = self._preset_audio(idx[p], t, n, env[p], tau[p], ramp)
            f0 = self._fm_f0(idx, t, tau, ramp)
            self._neural_audio(idx, neural, t, f0, harm)
        else:
            harm = self._preset_audio(idx, t, n, env, tau, ramp)
        if t < self._fading_until:
            age = (t + 1 - slots.fade_start[idx]).astype(np.float64)[:, None] + ramp
            harm *= envelope.fade_in_gain(age, slots.fade_len[idx, None])
        self._mix_into(harm, slots.channel[idx], mix)
        slots.retire(idx, t + n)

    def _mix_into(self, harm: np.ndarray, chans: np.ndarray, mix: np.ndarray) -> None:
        """Sum voices ``harm (v, n)`` (in row order, one after another) into ``mix (n, c)``.

        A running sum (``cumsum``) fixes the order of the additions whatever the shapes; a
        plain ``sum`` or a matrix product may group them differently (pairwise summation,
        BLAS blocking) when the number of voices or samples changes, and a voice that is
        silent would then still change the low bits of the others.
        """
        if self.channels == 1:
            mix[:, 0] += np.cumsum(harm, axis=0)[-1]
            return
        panned = harm[:, :, None] * self._pan[chans][:, None, :]
        np.cumsum(panned, axis=0, out=panned)
        mix += panned[-1]

    def _fm_f0(self, idx, t, tau, ramp) -> np.ndarray:
        """Per-sample f0 (Hz) ``(v, n)`` for the neural decoders: base ×
        ``2^((bend + vibrato) / 12)``, vibrato ``depth · sin(2π·rate·τ)`` fading in."""
        slots = self.slots
        semis = np.sin(_TWO_PI * slots.vibrato_rate[idx, None] * tau)
        semis *= slots.vibrato_depth[idx, None] * np.clip(
            tau / slots.vibrato_delay[idx, None], 0.0, 1.0
        )
        chans = slots.channel[idx]
        for ch in np.unique(chans):
            bend = self._bend[int(ch)]
            if bend.nonzero:
                semis[chans == ch] += bend.fill(t, ramp, self._buf[: ramp.size])
        return slots.f0[idx, None] * np.exp2(semis / 12.0)

    def _carrier_inc(self, f0: np.ndarray, bend: np.ndarray | None, out: np.ndarray) -> np.ndarray:
        """Phase accumulator steps ``rint(f0 · 2^(bend/12) · 2³²/sr)``, exact integers in
        float64, into ``out (r, m)``; ``f0 (r,)`` Hz, ``bend (m,)`` semitones or None (no bend).

        The one expression rendering and :meth:`seek` both use, so their sums agree exactly.
        """
        if bend is None:
            np.multiply(f0[:, None], self._inc_scale, out=out)
        else:
            np.multiply(f0[:, None], np.exp2(bend / 12.0)[None, :], out=out)
            out *= self._inc_scale
        return np.rint(out, out=out)

    def _preset_phase(self, idx: np.ndarray, t: int, n: int, tau: np.ndarray) -> np.ndarray:
        """Fundamental phase (radians) ``(v, n)`` of preset voices ``idx`` at ``[t, t + n)``;
        advances their accumulators.

        Carrier: the accumulator (integers: any grouping of the sums gives the same value) as
        a fraction of a cycle. Vibrato: ``A · g(τ) · (1 − cos(2π·rate·τ))`` cycles, ``g`` the
        fade-in — a closed form of the time since the note began, so no state.
        """
        slots = self.slots
        inc = self._inc[: idx.size, :n]
        self._carrier_inc(slots.f0[idx], None, inc)
        chans = slots.channel[idx]
        for ch in np.unique(chans):
            bend = self._bend[int(ch)]
            if bend.nonzero:
                rows = np.flatnonzero(chans == ch)
                values = bend.fill(t, self._ramp[:n], self._buf[:n])
                inc[rows] = self._carrier_inc(slots.f0[idx[rows]], values,
                                              np.empty((rows.size, n)))  # fmt: skip
        inc[:, 0] += slots.carrier[idx]
        np.cumsum(inc, axis=1, out=inc)
        cycles = inc * (1.0 / CARRIER_ONE)  # exact: a power of two
        cycles -= np.floor(cycles)
        slots.carrier[idx] = cycles[:, -1] * CARRIER_ONE
        swing = slots.vibrato_swing[idx]
        if swing.any():
            vib = 1.0 - np.cos(_TWO_PI * slots.vibrato_rate[idx, None] * tau)
            vib *= swing[:, None] * np.clip(tau / slots.vibrato_delay[idx, None], 0.0, 1.0)
            cycles += vib
        cycles *= _TWO_PI
        return cycles

    def _neural_audio(self, idx, neural, t, f0, harm) -> None:
        """Neural voices (rows ``neural`` of ``idx``) into ``harm``, grouped by timbre bank."""
        slots_of = self.slots
        n = harm.shape[1]
        for key in np.unique(slots_of.bank[idx[neural]]):
            rows = np.flatnonzero(slots_of.bank[idx] == key)
            slots = idx[rows]
            white = hash_uniform(slots_of.noise.keys[slots], t, self._white[: slots.size, :n],
                                 self._white_work)  # fmt: skip
            audio, phase = self._banks[int(key)].render(
                slots, t, f0[rows], white, slots_of.phase[slots], slots_of.ceiling[slots],
                self._loudness_at,
            )  # fmt: skip
            slots_of.phase[slots] = phase
            # The decoder follows the envelope through its loudness input; after a note-off
            # (or a steal or crossfade) the release ramp itself also scales the voice, so it
            # ends in silence exactly when its release does, like a preset voice.
            released = slots_of.released[slots]
            if released.any():
                r = np.flatnonzero(released)
                audio[r] *= slots_of.release_gains(slots[r], t, self._ramp[:n])
            harm[rows] = audio

    def _preset_audio(self, idx, t, n, env, tau, ramp) -> np.ndarray:
        """Preset (additive) voices ``idx``: harmonic part plus filtered noise, ``(v, n)``."""
        slots = self.slots
        sr = self.sample_rate
        amp = env * slots.amp[idx, None]
        phase = self._preset_phase(idx, t, n, tau)
        ceiling = slots.ceiling[idx]
        harm = ddsp.harmonic_series(phase, amp, slots.harmonics[idx], sr, ceiling)
        w_tilt = self._tilt.fill(t, ramp, self._buf2[:n])
        if w_tilt[0] < 1.0:
            old = ddsp.harmonic_series(phase, amp, slots.harmonics_old[idx], sr, ceiling)
            # new·w + old·(1 − w): exactly the new sound once w reaches 1.
            harm *= w_tilt
            old *= 1.0 - w_tilt
            harm += old

        noisy = np.flatnonzero(slots.noise_gain[idx] > 0.0)
        if noisy.size:
            vi = idx[noisy]
            noise = slots.noise.render(vi, t, self._white[: vi.size, :n])
            noise *= env[noisy] * slots.noise_gain[vi, None]
            noise *= self._noise_level.fill(t, ramp, self._buf[:n])
            harm[noisy] += noise
        return harm
