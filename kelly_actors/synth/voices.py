"""Polyphonic DDSP voice engine: note events with sample times in, float32 audio out.

A fixed pool of voice slots (struct of arrays, preallocated) renders harmonic-plus-noise
voices with :func:`kelly_actors.synth.ddsp.harmonic_series` and
:class:`kelly_actors.synth.noise.FramedNoise`. Every sample is a pure function of the events
and the absolute sample time:

* envelopes, vibrato, pitch-bend glides and the gain / noise-level / tilt glides are analytic
  functions of the absolute sample time;
* the oscillator phase is an exact integer accumulator (2⁻³² cycles per step; sums of integers
  do not depend on how they are grouped) plus the vibrato's phase term, a closed form of the
  time since the note began;
* noise is a counter-based hash of (seed, note start, channel, note, sample time), filtered on
  absolute frames (:mod:`kelly_actors.synth.noise`);
* voices are summed in the order they started, one after another (never by slot number, never
  by a BLAS reduction whose grouping may vary).

So ``render`` in blocks of any size gives bit-identical samples to one long ``render``; two
synths with the same settings and seed fed the same events render bit-identical blocks, in
whichever slots their notes land; and :meth:`Synth.seek` / :meth:`Synth.resume` can move a
synth to any later sample without rendering, arriving in the state rendering would have left
(see :mod:`kelly_actors.synth.replay`).

Events (:data:`EVENT_DTYPE`, one record each) carry the absolute sample time at which they
take effect; ``render`` splits its block at those times, so a note starts at exactly its
sample. An event whose time is already past is applied at the start of the next block and
counted in ``stats["late_events"]``.

Voice allocation: a free slot if there is one, otherwise a voice is stolen: the quietest of
the released voices, or, if none is released, the oldest. The stolen voice's sound is moved
to a spare "ghost" slot that fades it out in :data:`STEAL_FADE_S`, so stealing does not click.

The render path allocates no Python objects per block beyond numpy temporaries, and never
logs, prints, locks or waits.
"""

from __future__ import annotations

import math

# np.unique loads numpy.ma lazily: load it with this module (the forkserver preloads the actor
# modules), not during a restarted synth's rebuild, where it costs a few ms.
import numpy as np
import numpy.ma

from kelly_actors.synth import ddsp
from kelly_actors.synth.emotion import dominance_gain, harmonic_tilt, noise_level
from kelly_actors.synth.neural import NeuralBank, NeuralTimbre
from kelly_actors.synth.noise import FramedNoise, hash_uniform, voice_key
from kelly_actors.synth.presets import N_HARMONICS, N_NOISE_BANDS, PRESETS, TimbrePreset
from kelly_actors.synth.replay import CARRIER_ONE, Replay

#: One scheduled event. ``sample_time``: absolute sample index (int64) at which it acts.
#: ``kind``: one of the ``EV_*`` constants. ``channel``: MIDI channel 0..15.
#: ``note``: MIDI note 0..127 (for ``EV_PRESET``: index into :data:`PRESET_NAMES`).
#: ``velocity``: MIDI velocity 0..127 (``EV_NOTE_ON`` with velocity 0 is a note-off).
#: ``value``: float32; for ``EV_PITCH_BEND`` the bend normalised to −1…1 (MIDI 14-bit value
#: minus 8192, divided by 8192), scaled by the synth's bend range in semitones.
#: For ``EV_EMOTION``, ``note + 256·velocity`` is the key :meth:`Synth.store_emotion` returned.
EVENT_DTYPE = np.dtype(
    [
        ("sample_time", "<i8"),
        ("kind", "u1"),
        ("channel", "u1"),
        ("note", "u1"),
        ("velocity", "u1"),
        ("value", "<f4"),
    ]
)

EV_NOTE_ON = 1
EV_NOTE_OFF = 2
EV_PITCH_BEND = 3
EV_ALL_NOTES_OFF = 4
EV_ALL_SOUND_OFF = 5
EV_PRESET = 6
EV_TIMBRE = 7  # internal: switch timbre (``note`` = key into the synth's pending switches)
EV_EMOTION = 8  # PAD emotion from this sample on (values in the synth's emotion table)

PRESET_NAMES: tuple[str, ...] = tuple(sorted(PRESETS))

N_CHANNELS_MIDI = 16
STEAL_FADE_S = 0.004
BEND_GLIDE_S = 0.003
GAIN_GLIDE_S = 0.02
_TWO_PI = 2.0 * np.pi
_LN2_12 = math.log(2.0) / 12.0

__all__ = [
    "EVENT_DTYPE",
    "EV_ALL_NOTES_OFF",
    "EV_ALL_SOUND_OFF",
    "EV_EMOTION",
    "EV_NOTE_OFF",
    "EV_NOTE_ON",
    "EV_PITCH_BEND",
    "EV_PRESET",
    "PRESET_NAMES",
    "Synth",
    "velocity_gain",
]


def velocity_gain(velocity: int | np.ndarray) -> np.ndarray:
    """Linear amplitude for MIDI velocity 0..127: ``(velocity / 127) ** 2``."""
    return (np.asarray(velocity, dtype=np.float64) / 127.0) ** 2


class _Glide:
    """A value that moves linearly from ``start`` to ``target`` over ``length`` samples from
    sample ``t0``; evaluable at any absolute sample time (block-independent).

    Evaluated as ``target − (target − start)·(1 − w)``, so once the glide is over the value is
    exactly ``target``, whatever it started from: a synth that only saw the last change of a
    value agrees bit for bit with one that saw them all.
    """

    __slots__ = ("length", "start", "t0", "target")

    def __init__(self, value: float, length: float) -> None:
        self.start = value
        self.target = value
        self.t0 = 0
        self.length = max(1.0, length)

    def at(self, t: int) -> float:
        w = min(1.0, max(0.0, (t - self.t0) / self.length))
        return self.target - (self.target - self.start) * (1.0 - w)

    def set(self, t: int, target: float) -> None:
        self.start = self.at(t)
        self.target = target
        self.t0 = t

    def settled_from(self) -> int:
        """First sample from which :meth:`fill` gives exactly ``target``."""
        return self.t0 + math.ceil(self.length) + 1

    def fill(self, t: int, ramp: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Values at ``t + ramp`` into ``out`` (float64, same length as ``ramp``)."""
        np.subtract(ramp, self.t0 - t, out=out)
        out *= 1.0 / self.length
        np.clip(out, 0.0, 1.0, out=out)
        np.subtract(1.0, out, out=out)
        out *= self.target - self.start
        np.subtract(self.target, out, out=out)
        return out


class Synth(Replay):
    """Polyphonic harmonic-plus-noise synthesizer.

    Args:
        sample_rate: Hz (44 100, 48 000 and 96 000 are tested).
        channels: output channels, 1 (mono) or 2 (constant-power pan per MIDI channel).
        n_voices: allocatable voices (the polyphony).
        preset: timbre preset name for every MIDI channel (see :data:`PRESET_NAMES`).
        max_block: largest internal block; ``render`` of more frames is cut into blocks.
        master_gain: linear output gain before the dominance gain (headroom for polyphony).
        bend_range_semitones: pitch-bend range (``value`` ±1 ↔ ± this many semitones).
        seed: seed of the noise (each note's stream is keyed by the seed and the note's start
            sample, channel and number; see :mod:`kelly_actors.synth.noise`).
        event_capacity: size of the preallocated event queue; a full queue drops events.
    """

    _steal_fade_s = STEAL_FADE_S

    def __init__(
        self,
        sample_rate: int = 48000,
        channels: int = 2,
        n_voices: int = 32,
        preset: str = "strings",
        max_block: int = 2048,
        master_gain: float = 0.25,
        bend_range_semitones: float = 2.0,
        seed: int = 0,
        event_capacity: int = 4096,
    ) -> None:
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if sample_rate <= 0 or n_voices < 1 or max_block < 1:
            raise ValueError("sample_rate, n_voices and max_block must be positive")
        if max_block > 1 << 20:
            raise ValueError("max_block must be at most 2^20 (phase sums stay exact below 2^53)")
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self.n_voices = n_voices
        self.max_block = max_block
        self.bend_range = float(bend_range_semitones)
        self.seed = int(seed)
        self.n_ghosts = max(4, n_voices // 4)
        n_slots = n_voices + self.n_ghosts
        self._n_slots = n_slots
        self._time = 0
        self._init_slots(n_slots)
        self._init_timbre(n_slots)

        # Per MIDI channel.
        self._chan_preset: list[TimbrePreset] = [PRESETS[preset]] * N_CHANNELS_MIDI
        self._chan_noise: dict[str, tuple[TimbrePreset, np.ndarray]] = {}
        self._bend = [_Glide(0.0, BEND_GLIDE_S * self.sample_rate) for _ in range(N_CHANNELS_MIDI)]
        self._pan = np.full((N_CHANNELS_MIDI, 2), np.sqrt(0.5))

        # Emotion.
        self._valence = 0.0
        self._arousal = 0.5
        self._dominance = 0.5
        self._master = float(master_gain)
        self._gain = _Glide(self._master, GAIN_GLIDE_S * self.sample_rate)
        self._noise_level = _Glide(noise_level(0.5), GAIN_GLIDE_S * self.sample_rate)
        self._tilt = _Glide(1.0, GAIN_GLIDE_S * self.sample_rate)

        # Event queue (preallocated, kept sorted by time on insert), and the values of queued
        # emotion events (one entry per event the queue can hold, reused round-robin).
        self._events = np.zeros(event_capacity, dtype=EVENT_DTYPE)
        self._n_events = 0
        self._emotions = np.zeros((min(1 << 16, max(256, event_capacity)), 3))
        self._emotion_key = 0

        # Work buffers.
        self._ramp = np.arange(max_block, dtype=np.float64)
        self._mix = np.zeros((max_block, channels))
        self._buf = np.zeros(max_block)
        self._buf2 = np.zeros(max_block)
        self._inc = np.zeros((n_slots, max_block))
        self._white = np.zeros((n_slots, max_block))
        self._white_work = np.zeros((n_slots, max_block), np.uint64)
        self._inc_scale = CARRIER_ONE / self.sample_rate
        self.stats = {"stolen": 0, "late_events": 0, "dropped_events": 0, "rendered": 0}

    def _init_slots(self, n_slots: int) -> None:
        """Voice slots (struct of arrays). Slots [0, n_voices) are allocatable, the rest are
        ghosts that fade out stolen voices."""
        self._active = np.zeros(n_slots, dtype=bool)
        self._note = np.zeros(n_slots, dtype=np.int16)
        self._chan = np.zeros(n_slots, dtype=np.int16)
        self._start = np.zeros(n_slots, dtype=np.int64)
        self._seq = np.zeros(n_slots, dtype=np.int64)
        self._order = np.zeros(n_slots, dtype=np.int64)  # mixing order: when the sound began
        self._released = np.zeros(n_slots, dtype=bool)
        self._rel_time = np.zeros(n_slots, dtype=np.int64)
        self._rel_level = np.zeros(n_slots)
        self._rel_len = np.ones(n_slots)
        self._attack = np.ones(n_slots)
        self._decay = np.ones(n_slots)
        self._sustain = np.ones(n_slots)
        self._release = np.ones(n_slots)
        self._vib_rate = np.zeros(n_slots)  # cycles per sample
        self._vib_depth = np.zeros(n_slots)  # semitones
        self._vib_delay = np.ones(n_slots)  # samples
        self._vib_amp = np.zeros(n_slots)  # cycles: amplitude of the vibrato's phase term
        self._f0 = np.full(n_slots, 440.0)
        self._ceiling = np.full(n_slots, 440.0)
        self._amp = np.zeros(n_slots)
        self._carrier = np.zeros(n_slots)  # phase accumulator, 2^-32 cycles (exact integer)
        self._phase = np.zeros(n_slots)  # radians, neural voices
        self._base_dist = np.zeros((n_slots, N_HARMONICS))
        self._dist = np.zeros((n_slots, N_HARMONICS))
        self._dist_old = np.zeros((n_slots, N_HARMONICS))
        self._noise_gain = np.zeros(n_slots)
        self._noise = FramedNoise(n_slots, 2 * (N_NOISE_BANDS - 1))
        self._seq_counter = 0
        self._order_counter = 0

    def _init_timbre(self, n_slots: int) -> None:
        """Neural timbre (None = the preset voice). A slot's bank is the timbre it sounds with
        (-1 = preset); during a crossfade old and new banks sound side by side."""
        self._timbre: NeuralTimbre | None = None
        self._banks: dict[int, NeuralBank] = {}
        self._bank_id = -1
        self._slot_bank = np.full(n_slots, -1, dtype=np.int64)
        self._vel = np.zeros(n_slots, dtype=np.int64)
        self._fade_t0 = np.zeros(n_slots, dtype=np.int64)
        self._fade_len = np.ones(n_slots)
        self._fading_until = 0
        self._switches: dict[int, tuple[NeuralTimbre | None, float]] = {}
        self._switch_key = 0

    # ----------------------------------------------------------------- properties
    @property
    def sample_time(self) -> int:
        """Absolute sample time of the next sample ``render`` produces."""
        return self._time

    @property
    def active_voices(self) -> int:
        """Number of sounding allocatable voices (ghost fades not counted)."""
        return int(np.count_nonzero(self._active[: self.n_voices]))

    @property
    def queued_events(self) -> int:
        """Events waiting in the queue."""
        return self._n_events

    # ----------------------------------------------------------------- control
    def schedule(
        self,
        sample_time: int,
        kind: int,
        note: int = 0,
        velocity: int = 0,
        channel: int = 0,
        value: float = 0.0,
    ) -> bool:
        """Queue one event; returns False (and counts it) if the queue is full.

        Events with equal times keep the order they were queued in.
        """
        n = self._n_events
        if n >= self._events.shape[0]:
            self.stats["dropped_events"] += 1
            return False
        times = self._events["sample_time"]
        if n and times[n - 1] > sample_time:
            pos = int(np.searchsorted(times[:n], sample_time, side="right"))
            self._events[pos + 1 : n + 1] = self._events[pos:n]
        else:
            pos = n  # in time order: the common case, no search
        rec = self._events[pos]
        rec["sample_time"] = sample_time
        rec["kind"] = kind
        rec["channel"] = channel
        rec["note"] = note
        rec["velocity"] = velocity
        rec["value"] = value
        self._n_events = n + 1
        return True

    def schedule_array(self, events: np.ndarray) -> int:
        """Queue records of :data:`EVENT_DTYPE` (in their order, as repeated :meth:`schedule`
        calls would); returns how many were queued, the rest dropped and counted."""
        n = self._n_events
        room = self._events.shape[0] - n
        take = np.asarray(events, dtype=EVENT_DTYPE)[:room]
        self.stats["dropped_events"] += len(events) - take.size
        if take.size:
            both = np.concatenate([self._events[:n], take])
            order = np.argsort(both["sample_time"], kind="stable")
            self._events[: both.size] = both[order]
            self._n_events = both.size
        return int(take.size)

    def store_emotion(self, valence: float, arousal: float, dominance: float) -> int:
        """Keep PAD values for an ``EV_EMOTION`` event; returns the key it carries as
        ``note + 256·velocity`` (the table is reused round-robin, one entry per queue slot)."""
        key = self._emotion_key
        self._emotion_key = (key + 1) % self._emotions.shape[0]
        self._emotions[key] = (valence, arousal, dominance)
        return key

    def schedule_emotion(
        self, sample_time: int, valence: float, arousal: float, dominance: float
    ) -> bool:
        """PAD emotion from ``sample_time`` on (as :meth:`set_emotion`, but sample-accurate)."""
        key = self.store_emotion(valence, arousal, dominance)
        return self.schedule(sample_time, EV_EMOTION, key & 0xFF, key >> 8)

    def note_on(self, sample_time: int, note: int, velocity: int = 100, channel: int = 0) -> bool:
        return self.schedule(sample_time, EV_NOTE_ON, note, velocity, channel)

    def note_off(self, sample_time: int, note: int, channel: int = 0) -> bool:
        return self.schedule(sample_time, EV_NOTE_OFF, note, 0, channel)

    def pitch_bend(self, sample_time: int, value: float, channel: int = 0) -> bool:
        """Bend ``channel`` to ``value`` (−1…1 of the bend range) from ``sample_time``."""
        return self.schedule(sample_time, EV_PITCH_BEND, 0, 0, channel, value)

    def set_emotion(self, valence: float, arousal: float, dominance: float) -> None:
        """Apply PAD emotion from the next rendered sample, gliding over ``GAIN_GLIDE_S``.

        arousal → noise level, valence → harmonic tilt, dominance → output gain
        (see :mod:`kelly_actors.synth.emotion`).
        """
        self._emotion_at(self._time, valence, arousal, dominance)

    @property
    def emotion(self) -> tuple[float, float, float]:
        """The last PAD emotion applied (valence, arousal, dominance)."""
        return self._valence, self._arousal, self._dominance

    def _emotion_at(self, t: int, valence: float, arousal: float, dominance: float) -> None:
        self._dominance = float(dominance)
        self._gain.set(t, self._master * dominance_gain(dominance))
        self._noise_level.set(t, noise_level(arousal))
        self._arousal = float(arousal)
        self.set_neural_emotion(valence, arousal)
        w = self._tilt.at(t)
        if w >= 1.0:  # the last change is over: start from exactly where it ended
            self._dist_old[:] = self._dist
        else:
            self._dist_old[:] = self._dist_old + w * (self._dist - self._dist_old)
        self._valence = float(valence)
        self._dist[:] = harmonic_tilt(self._base_dist, self._valence)
        self._tilt.start, self._tilt.target, self._tilt.t0 = 0.0, 1.0, t

    def set_preset(self, preset: str | TimbrePreset, channel: int | None = None) -> None:
        """Timbre for new notes on ``channel`` (all channels when None)."""
        p = PRESETS[preset] if isinstance(preset, str) else preset
        for ch in range(N_CHANNELS_MIDI) if channel is None else (channel,):
            self._chan_preset[ch] = p

    def set_pan(self, channel: int, pan: float) -> None:
        """Constant-power pan of a MIDI channel: −1 left … 0 centre … +1 right."""
        angle = (float(np.clip(pan, -1.0, 1.0)) + 1.0) * np.pi / 4.0
        self._pan[channel] = (np.cos(angle), np.sin(angle))

    @property
    def timbre(self) -> NeuralTimbre | None:
        """The neural timbre new notes use (None: the preset voice)."""
        return self._timbre

    @property
    def neural_voices(self) -> int:
        """Sounding voices driven by a neural decoder (crossfade ghosts included)."""
        return int(np.count_nonzero(self._active & (self._slot_bank >= 0)))

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
        self.schedule(t, EV_TIMBRE, self._switch_key)

    def set_neural_emotion(self, valence: float, arousal: float) -> None:
        """Emotion for the decoder's conditioning (dominance stays neutral: the output stage
        applies it to every voice, neural or not)."""
        for bank in self._banks.values():
            bank.emotion = (float(valence), float(arousal), 0.5)

    def _switch_timbre(self, t: int, timbre: NeuralTimbre | None, fade_s: float) -> None:
        fade = max(1.0, fade_s * self.sample_rate)
        if timbre is None:
            self._timbre, self._bank_id = None, -1
        else:
            self._bank_id = 1 + max(self._banks, default=-1)
            bank = NeuralBank(timbre, self._n_slots, self.sample_rate)
            bank.emotion = (self._valence, self._arousal, 0.5)
            self._banks[self._bank_id] = bank
            self._timbre = timbre
        ghosts = np.arange(self.n_voices, self._n_slots)
        held = self._active[: self.n_voices] & ~self._released[: self.n_voices]
        for slot in np.flatnonzero(held):
            free = ghosts[~self._active[ghosts]]
            if free.size == 0:
                break  # no room to fade the old sound out: this voice switches at its next note
            ghost = int(free[0])
            self._steal_into(int(slot), ghost, t, fade)
            self._slot_bank[slot] = -1
            self._phase[slot] = 0.0
            self._carrier[slot] = 0.0
            self._fade_t0[slot] = t
            self._fade_len[slot] = fade
            if self._timbre is not None:
                self._start_neural(int(slot), t)
        self._fading_until = max(self._fading_until, t + int(fade))
        used = {int(b) for b in self._slot_bank[self._active]} | {self._bank_id}
        for key in [k for k in self._banks if k not in used]:
            del self._banks[key]

    def _steal_into(self, victim: int, ghost: int, t: int, fade: float) -> None:
        """Copy ``victim``'s sound into ``ghost`` and fade it out over ``fade`` samples."""
        level = self._env_at(victim, t)
        for arr in (
            self._active, self._note, self._chan, self._start, self._seq, self._attack,
            self._decay, self._sustain, self._release, self._vib_rate, self._vib_depth,
            self._vib_delay, self._vib_amp, self._f0, self._ceiling, self._amp, self._carrier,
            self._phase, self._base_dist, self._dist, self._dist_old, self._noise_gain,
            self._slot_bank, self._vel, self._fade_t0, self._fade_len,
        ):  # fmt: skip
            arr[ghost] = arr[victim]
        self._noise.copy(victim, ghost)
        if self._slot_bank[victim] >= 0:
            self._banks[int(self._slot_bank[victim])].copy_slot(victim, ghost)
        self._order_counter += 1
        self._order[ghost] = self._order_counter
        self._released[ghost] = True
        self._rel_time[ghost] = t
        self._rel_level[ghost] = level
        self._rel_len[ghost] = fade

    # ----------------------------------------------------------------- voices
    def _env_at(self, slot: int, t: int) -> float:
        tau = float(t - self._start[slot]) + 1.0  # samples of the note so far, this one included
        a, d, s = self._attack[slot], self._decay[slot], self._sustain[slot]
        held = min(tau / a, max(s, 1.0 - (1.0 - s) * (tau - a) / d))
        held = min(1.0, max(0.0, held))
        if self._released[slot] and t >= self._rel_time[slot]:
            w = 1.0 - (t - self._rel_time[slot]) / self._rel_len[slot]
            return self._rel_level[slot] * min(1.0, max(0.0, w))
        return held

    def _release_slot(self, slot: int, t: int, length: float) -> None:
        level = self._env_at(slot, t)
        self._released[slot] = True
        self._rel_time[slot] = t
        self._rel_level[slot] = level
        self._rel_len[slot] = max(1.0, length)

    def _steal(self, t: int) -> int:
        pool = slice(0, self.n_voices)
        released = np.flatnonzero(self._released[pool])
        if released.size:
            levels = [self._env_at(int(s), t) for s in released]
            victim = int(released[int(np.argmin(levels))])
        else:
            victim = int(np.argmin(self._seq[pool]))
        ghosts = np.arange(self.n_voices, self._n_slots)
        free = ghosts[~self._active[ghosts]]
        ghost = int(free[0]) if free.size else int(ghosts[np.argmin(self._seq[ghosts])])
        self._steal_into(victim, ghost, t, STEAL_FADE_S * self.sample_rate)
        self.stats["stolen"] += 1
        return victim

    def _start_note(self, t: int, note: int, velocity: int, channel: int) -> None:
        free = np.flatnonzero(~self._active[: self.n_voices])
        slot = int(free[0]) if free.size else self._steal(t)
        p = self._chan_preset[channel]
        sr = self.sample_rate
        self._active[slot] = True
        self._released[slot] = False
        self._note[slot] = note
        self._chan[slot] = channel
        self._start[slot] = t
        self._seq_counter += 1
        self._seq[slot] = self._seq_counter
        self._order_counter += 1
        self._order[slot] = self._order_counter
        self._attack[slot] = max(1.0, p.attack_s * sr)
        self._decay[slot] = max(1.0, p.decay_s * sr)
        self._sustain[slot] = p.sustain
        self._release[slot] = max(1.0, p.release_s * sr)
        self._vib_rate[slot] = p.vibrato_rate_hz / sr
        self._vib_depth[slot] = p.vibrato_depth_cents / 100.0
        self._vib_delay[slot] = max(1.0, p.vibrato_delay_s * sr)
        f0 = float(ddsp.midi_to_hz(note))
        self._vib_amp[slot] = self._vibrato_amplitude(f0, p)
        self._f0[slot] = f0
        self._ceiling[slot] = f0 * 2.0 ** ((self.bend_range + self._vib_depth[slot]) / 12.0)
        self._amp[slot] = velocity_gain(velocity)
        self._phase[slot] = 0.0
        self._carrier[slot] = 0.0
        self._base_dist[slot] = p.harmonic_distribution
        self._dist[slot] = harmonic_tilt(p.harmonic_distribution, self._valence)
        self._dist_old[slot] = self._dist[slot]
        self._noise_gain[slot] = p.noise_gain
        key = voice_key(self.seed, t, channel, note)
        self._noise.start(slot, key, self._noise_spectrum(p))
        self._vel[slot] = velocity
        self._fade_len[slot] = 1.0
        self._fade_t0[slot] = t
        self._slot_bank[slot] = -1
        if self._timbre is not None:
            self._start_neural(slot, t)

    @staticmethod
    def _vibrato_amplitude(f0: float, p: TimbrePreset) -> float:
        """Cycles of phase deviation of a vibrato of ``p``'s depth and rate on pitch ``f0``.

        Pitch ``f0·2^(d·sin(2πrt)/12)`` deviates by ``f0·(ln2/12)·d·sin(2πrt)`` Hz to first
        order; its phase integral is ``A·(1 − cos(2πrt))`` with ``A = f0·d·ln2 / (12·2πr)``.
        """
        if p.vibrato_rate_hz <= 0.0 or p.vibrato_depth_cents == 0.0:
            return 0.0
        depth = p.vibrato_depth_cents / 100.0
        return f0 * depth * _LN2_12 / (_TWO_PI * p.vibrato_rate_hz)

    def _noise_spectrum(self, p: TimbrePreset) -> np.ndarray:
        """The noise filter of preset ``p`` (cached per preset object)."""
        cached = self._chan_noise.get(p.name)
        if cached is None or cached[0] is not p:
            mags = p.noise_magnitudes(self.sample_rate, N_NOISE_BANDS)
            ir = ddsp.frequency_impulse_response(mags)
            cached = self._chan_noise[p.name] = (p, self._noise.spectrum_of(ir))
        return cached[1]

    def _start_neural(self, slot: int, t: int, bank_id: int | None = None) -> None:
        """Make ``slot`` a voice of the neural timbre ``bank_id`` (default: the current one)
        from sample ``t``: fresh decoder state."""
        bank_id = self._bank_id if bank_id is None else bank_id
        bank = self._banks[bank_id]
        self._slot_bank[slot] = bank_id
        loud = self._loudness_at(np.array([slot]), t + bank.hop)[0]
        bank.start(slot, t, float(self._f0[slot]), float(loud), float(self._ceiling[slot]))

    def _loudness_at(self, slots: np.ndarray, t: int) -> np.ndarray:
        """Decoder loudness (dBFS) of neural ``slots`` at absolute time ``t``."""
        env = np.array([self._env_at(int(s), t) for s in slots])
        timbre = self._banks[int(self._slot_bank[slots[0]])].timbre
        return timbre.note_loudness_db(self._vel[slots], env)

    def _apply(self, ev: np.void, t: int) -> None:
        kind = int(ev["kind"])
        ch = int(ev["channel"]) % N_CHANNELS_MIDI
        note = int(ev["note"])
        if kind == EV_NOTE_ON and int(ev["velocity"]) > 0:
            self._start_note(t, note, int(ev["velocity"]), ch)
        elif kind in (EV_NOTE_ON, EV_NOTE_OFF):
            pool = self._active[: self.n_voices] & ~self._released[: self.n_voices]
            hits = np.flatnonzero(pool & (self._note[: self.n_voices] == note)
                                  & (self._chan[: self.n_voices] == ch))  # fmt: skip
            for s in hits:
                self._release_slot(int(s), t, self._release[s])
        elif kind == EV_PITCH_BEND:
            target = float(np.clip(ev["value"], -1.0, 1.0)) * self.bend_range
            self._bend[ch].set(t, target)
        elif kind in (EV_ALL_NOTES_OFF, EV_ALL_SOUND_OFF):
            fast = STEAL_FADE_S * self.sample_rate
            for s in np.flatnonzero(self._active):
                if kind == EV_ALL_SOUND_OFF:
                    self._release_slot(int(s), t, fast)
                elif not self._released[s]:
                    self._release_slot(int(s), t, self._release[s])
        elif kind == EV_PRESET and note < len(PRESET_NAMES):
            self._chan_preset[ch] = PRESETS[PRESET_NAMES[note]]
        elif kind == EV_TIMBRE and note in self._switches:
            timbre, fade_s = self._switches.pop(note)
            self._switch_timbre(t, timbre, fade_s)
        elif kind == EV_EMOTION:
            key = (note + 256 * int(ev["velocity"])) % self._emotions.shape[0]
            self._emotion_at(t, *self._emotions[key].tolist())

    # ----------------------------------------------------------------- rendering
    def _sounding(self) -> np.ndarray:
        """Active slots in the order their sounds began (the canonical mixing order)."""
        idx = np.flatnonzero(self._active)
        if idx.size > 1:
            idx = idx[np.argsort(self._order[idx], kind="stable")]
        return idx

    def _render_segment(self, t: int, n: int, mix: np.ndarray) -> None:
        """Add voices for samples ``[t, t + n)`` into ``mix`` (float64 ``(n, channels)``)."""
        idx = self._sounding()
        if idx.size == 0:
            return
        ramp = self._ramp[:n]
        tau = (t - self._start[idx]).astype(np.float64)[:, None] + ramp
        env = self._envelope(idx, t, tau, ramp)
        neural = self._slot_bank[idx] >= 0
        if neural.any():
            harm = np.empty((idx.size, n))
            if not neural.all():
                p = ~neural
                harm[p] = self._preset_audio(idx[p], t, n, env[p], tau[p], ramp)
            f0 = self._fm_f0(idx, t, tau, ramp)
            self._neural_audio(idx, neural, t, env, f0, harm)
        else:
            harm = self._preset_audio(idx, t, n, env, tau, ramp)
        if t < self._fading_until:
            fade = (t + 1 - self._fade_t0[idx]).astype(np.float64)[:, None] + ramp
            harm *= np.clip(fade / self._fade_len[idx, None], 0.0, 1.0)
        self._mix_into(harm, self._chan[idx], mix)
        self._retire(idx, t + n)

    def _envelope(self, idx, t, tau, ramp) -> np.ndarray:
        """ADSR (linear segments; the note's first sample is the first attack step, so it is
        non-zero), then release from the level at note-off: float64 ``(v, n)``."""
        a = self._attack[idx, None]
        d = self._decay[idx, None]
        s = self._sustain[idx, None]
        age = tau + 1.0
        env = np.maximum(s, 1.0 - (1.0 - s) * (age - a) / d)
        np.minimum(env, age / a, out=env)
        np.clip(env, 0.0, 1.0, out=env)
        rel = self._released[idx]
        if rel.any():
            r = np.flatnonzero(rel)
            vi = idx[r]
            tau_r = (t - self._rel_time[vi]).astype(np.float64)[:, None] + ramp
            w = np.clip(1.0 - tau_r / self._rel_len[vi, None], 0.0, 1.0)
            env[r] = np.where(tau_r >= 0.0, self._rel_level[vi, None] * w, env[r])
        return env

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

    def _retire(self, idx: np.ndarray, t_end: int) -> None:
        """Free the slots of voices ``idx`` whose release (or sustain-0 decay) is over at
        ``t_end``."""
        rel = self._released[idx]
        done_rel = rel & (t_end - self._rel_time[idx] >= self._rel_len[idx])
        done_decay = (self._sustain[idx] <= 0.0) & (
            t_end - self._start[idx] >= self._attack[idx] + self._decay[idx]
        )
        finished = idx[done_rel | done_decay]
        self._active[finished] = False
        self._released[finished] = False
        self._slot_bank[finished] = -1

    def _fm_f0(self, idx, t, tau, ramp) -> np.ndarray:
        """Per-sample f0 (Hz) ``(v, n)`` for the neural decoders: base ×
        ``2^((bend + vibrato) / 12)``, vibrato ``depth · sin(2π·rate·τ)`` fading in."""
        semis = np.sin((2.0 * np.pi) * self._vib_rate[idx, None] * tau)
        semis *= self._vib_depth[idx, None] * np.clip(tau / self._vib_delay[idx, None], 0.0, 1.0)
        chans = self._chan[idx]
        for ch in np.unique(chans):
            bend = self._bend[int(ch)]
            if bend.start != 0.0 or bend.target != 0.0:
                semis[chans == ch] += bend.fill(t, ramp, self._buf[: ramp.size])
        return self._f0[idx, None] * np.exp2(semis / 12.0)

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
        inc = self._inc[: idx.size, :n]
        self._carrier_inc(self._f0[idx], None, inc)
        chans = self._chan[idx]
        for ch in np.unique(chans):
            bend = self._bend[int(ch)]
            if bend.start != 0.0 or bend.target != 0.0:
                rows = np.flatnonzero(chans == ch)
                values = bend.fill(t, self._ramp[:n], self._buf[:n])
                inc[rows] = self._carrier_inc(self._f0[idx[rows]], values,
                                              np.empty((rows.size, n)))  # fmt: skip
        inc[:, 0] += self._carrier[idx]
        np.cumsum(inc, axis=1, out=inc)
        cycles = inc * (1.0 / CARRIER_ONE)  # exact: a power of two
        cycles -= np.floor(cycles)
        self._carrier[idx] = cycles[:, -1] * CARRIER_ONE
        vib = self._vib_amp[idx]
        if vib.any():
            swing = 1.0 - np.cos((2.0 * np.pi) * self._vib_rate[idx, None] * tau)
            swing *= vib[:, None] * np.clip(tau / self._vib_delay[idx, None], 0.0, 1.0)
            cycles += swing
        cycles *= 2.0 * np.pi
        return cycles

    def _neural_audio(self, idx, neural, t, env, f0, harm) -> None:
        """Neural voices (rows ``neural`` of ``idx``) into ``harm``, grouped by timbre bank."""
        n = harm.shape[1]
        for key in np.unique(self._slot_bank[idx[neural]]):
            rows = np.flatnonzero(self._slot_bank[idx] == key)
            slots = idx[rows]
            white = hash_uniform(self._noise.keys[slots], t, self._white[: slots.size, :n],
                                 self._white_work)  # fmt: skip
            audio, phase = self._banks[int(key)].render(
                slots, t, f0[rows], white, self._phase[slots], self._ceiling[slots],
                self._loudness_at,
            )  # fmt: skip
            self._phase[slots] = phase
            # The decoder follows the envelope through its loudness input; after a note-off
            # (or a steal or crossfade) the release ramp itself also scales the voice, so it
            # ends in silence exactly when its release does, like a preset voice.
            rel = self._released[slots]
            if rel.any():
                r = np.flatnonzero(rel)
                tau = (t - self._rel_time[slots[r]]).astype(np.float64)[:, None] + self._ramp[:n]
                ramp = np.clip(1.0 - tau / self._rel_len[slots[r], None], 0.0, 1.0)
                audio[r] *= np.where(tau >= 0.0, ramp, 1.0)
            harm[rows] = audio

    def _preset_audio(self, idx, t, n, env, tau, ramp) -> np.ndarray:
        """Preset (additive) voices ``idx``: harmonic part plus filtered noise, ``(v, n)``."""
        sr = self.sample_rate
        amp = env * self._amp[idx, None]
        phase = self._preset_phase(idx, t, n, tau)
        harm = ddsp.harmonic_series(phase, amp, self._dist[idx], sr, self._ceiling[idx])
        w_tilt = self._tilt.fill(t, ramp, self._buf2[:n])
        if w_tilt[0] < 1.0:
            old = ddsp.harmonic_series(phase, amp, self._dist_old[idx], sr, self._ceiling[idx])
            # new·w + old·(1 − w): exactly the new sound once w reaches 1.
            harm *= w_tilt
            old *= 1.0 - w_tilt
            harm += old

        noisy = np.flatnonzero(self._noise_gain[idx] > 0.0)
        if noisy.size:
            vi = idx[noisy]
            noise = self._noise.render(vi, t, self._white[: vi.size, :n])
            noise *= env[noisy] * self._noise_gain[vi, None]
            noise *= self._noise_level.fill(t, ramp, self._buf[:n])
            harm[noisy] += noise
        return harm

    def _render_block(self, n: int, out: np.ndarray) -> None:
        t0 = self._time
        mix = self._mix[:n]
        mix[:] = 0.0
        pos = 0
        while self._n_events and self._events[0]["sample_time"] < t0 + n:
            ev = self._events[0].copy()
            offset = int(ev["sample_time"]) - t0
            if offset < 0:
                self.stats["late_events"] += 1
                offset = 0
            if offset > pos:
                self._render_piece(t0 + pos, offset - pos, mix[pos:offset])
                pos = offset
            self._events[: self._n_events - 1] = self._events[1 : self._n_events]
            self._n_events -= 1
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
        self._render_segment(t, n, mix)
        mix *= self._gain.fill(t, self._ramp[:n], self._buf[:n])[:, None]

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
