"""Neural timbres in :class:`~kelly_actors.synth.voices.Synth`: switching every voice to a
decoder (or back to the preset voice) on a given sample, with a crossfade.

A mixin: it uses the synth's voice slots and event queue. A slot's ``bank`` is the timbre it
sounds with (−1: the preset voice); each switch makes a new :class:`NeuralBank` (decoder
state per slot), and during a crossfade the old and new banks sound side by side: the old
sound of every held note moves to a ghost slot and fades out while the note starts afresh in
its own slot with the new timbre, fading in.
"""

from __future__ import annotations

import numpy as np

from kelly_actors.bus.note_events import EventKind
from kelly_actors.synth.neural import NeuralBank, NeuralTimbre

__all__ = ["TimbreSwitching"]


class TimbreSwitching:
    """Neural timbre state and switches of the synth (see the module docstring)."""

    def _init_timbre(self) -> None:
        self._timbre: NeuralTimbre | None = None
        self._banks: dict[int, NeuralBank] = {}
        self._bank_id = -1
        self._fading_until = 0  # sample up to which some voice is still fading in
        self._switches: dict[int, tuple[NeuralTimbre | None, float]] = {}
        self._switch_key = 0

    @property
    def timbre(self) -> NeuralTimbre | None:
        """The neural timbre new notes use (None: the preset voice)."""
        return self._timbre

    @property
    def neural_voices(self) -> int:
        """Sounding voices driven by a neural decoder (crossfade ghosts included)."""
        return int(np.count_nonzero(self.slots.active & (self.slots.bank >= 0)))

    @property
    def timbre_error(self) -> str | None:
        """Why a neural decoder failed while rendering (None when all work)."""
        return next((b.broken for b in self._banks.values() if b.broken is not None), None)

    def set_timbre(
        self, timbre: NeuralTimbre | None, sample_time: int | None = None, fade_s: float = 0.1
    ) -> None:
        """Switch every voice to ``timbre`` (None: back to the preset voice) at
        ``sample_time`` (default: the next rendered sample), crossfading sounding notes over
        ``fade_s`` seconds: each keeps playing, the old sound fading out linearly while the
        new one fades in, so the switch never clicks."""
        if timbre is not None and timbre.runtime.sample_rate != self.sample_rate:
            raise ValueError(f"timbre {timbre.name} is for {timbre.runtime.sample_rate} Hz, "
                             f"the synth runs at {self.sample_rate} Hz")  # fmt: skip
        self._switch_key = (self._switch_key + 1) % 256
        self._switches[self._switch_key] = (timbre, float(fade_s))
        t = self._time if sample_time is None else max(self._time, int(sample_time))
        self.schedule(t, EventKind.TIMBRE, self._switch_key)

    def set_neural_emotion(self, valence: float, arousal: float) -> None:
        """Emotion for the decoder's conditioning (dominance stays neutral: the output stage
        applies it to every voice, neural or not)."""
        for bank in self._banks.values():
            bank.emotion = (float(valence), float(arousal), 0.5)

    def _switch_timbre(self, t: int, timbre: NeuralTimbre | None, fade_s: float) -> None:
        """The ``TIMBRE`` event: switch at sample ``t``, crossfading over ``fade_s`` s."""
        slots = self.slots
        fade = max(1.0, fade_s * self.sample_rate)
        if timbre is None:
            self._timbre, self._bank_id = None, -1
        else:
            self._bank_id = 1 + max(self._banks, default=-1)
            bank = NeuralBank(timbre, slots.n_slots, self.sample_rate)
            bank.emotion = (self._valence, self._arousal, 0.5)
            self._banks[self._bank_id] = bank
            self._timbre = timbre
        ghosts = slots.ghosts()
        held = slots.active[: self.n_voices] & ~slots.released[: self.n_voices]
        for slot in np.flatnonzero(held):
            free = ghosts[~slots.active[ghosts]]
            if free.size == 0:
                break  # no room to fade the old sound out: this voice switches at its next note
            self._fade_into_ghost(int(slot), int(free[0]), t, fade)
            slots.bank[slot] = -1
            slots.phase[slot] = 0.0
            slots.carrier[slot] = 0.0
            slots.fade_start[slot] = t
            slots.fade_len[slot] = fade
            if self._timbre is not None:
                self._start_neural(int(slot), t)
        self._fading_until = max(self._fading_until, t + int(fade))
        used = {int(b) for b in slots.bank[slots.active]} | {self._bank_id}
        for key in [k for k in self._banks if k not in used]:
            del self._banks[key]

    def _start_neural(self, slot: int, t: int, bank_id: int | None = None) -> None:
        """Make ``slot`` a voice of the neural timbre ``bank_id`` (default: the current one)
        from sample ``t``: fresh decoder state."""
        bank_id = self._bank_id if bank_id is None else bank_id
        bank = self._banks[bank_id]
        slots = self.slots
        slots.bank[slot] = bank_id
        loud = self._loudness_at(np.array([slot]), t + bank.hop)[0]
        bank.start(slot, t, float(slots.f0[slot]), float(loud), float(slots.ceiling[slot]))

    def _loudness_at(self, slots: np.ndarray, t: int) -> np.ndarray:
        """Decoder loudness (dBFS, float64 ``(v,)``) of neural ``slots`` (one bank) at
        absolute time ``t``: the velocity and the envelope level."""
        level = self.slots.levels_at(slots, t)
        timbre = self._banks[int(self.slots.bank[slots[0]])].timbre
        return timbre.note_loudness_db(self.slots.velocity[slots], level)
