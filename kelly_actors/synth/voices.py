"""Polyphonic DDSP voice engine: note events with sample times in, float32 audio out.

A fixed pool of voice slots (:class:`~kelly_actors.synth.slots.VoiceSlots`, a struct of
preallocated arrays) renders harmonic-plus-noise voices with
:func:`kelly_actors.synth.ddsp.harmonic_series` and :class:`kelly_actors.synth.noise.FramedNoise`.
Every sample is a pure function of the events and the absolute sample time:

* envelopes, vibrato, pitch-bend glides and the gain / noise-level / tilt glides are analytic
  functions of the absolute sample time (:mod:`kelly_actors.synth.envelope`);
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

Events (:data:`~kelly_actors.synth.events.EVENT_DTYPE`, kinds from
:class:`~kelly_actors.bus.note_events.EventKind`) carry the absolute sample time at which they
take effect; ``render`` splits its block at those times, so a note starts at exactly its
sample. An event whose time is already past is applied at the start of the next block and
counted in ``stats["late_events"]``.

Voice allocation: a free slot if there is one, otherwise a voice is stolen: the quietest of
the released voices, or, if none is released, the oldest. The stolen voice's sound is moved
to a spare "ghost" slot that fades it out in :data:`STEAL_FADE_S`, so stealing does not click.

The class is split by concern: this module holds its state and control surface;
:mod:`~kelly_actors.synth.render` the per-block DSP, :mod:`~kelly_actors.synth.allocation`
the voice allocation, :mod:`~kelly_actors.synth.timbre_switch` the neural timbres,
:mod:`~kelly_actors.synth.replay` the silent advance.
"""

from __future__ import annotations

# np.unique loads numpy.ma lazily: load it with this module (the forkserver preloads the actor
# modules), not during a restarted synth's rebuild, where it costs a few ms.
import numpy as np
import numpy.ma

from kelly_actors.bus.note_events import BEND_RANGE_SEMITONES, N_CHANNELS, EventKind
from kelly_actors.synth.allocation import STEAL_FADE_S, VoiceAllocation, velocity_gain
from kelly_actors.synth.emotion import dominance_gain, harmonic_tilt, noise_level
from kelly_actors.synth.envelope import Glide
from kelly_actors.synth.events import EVENT_DTYPE, EmotionTable, EventQueue
from kelly_actors.synth.presets import (
    N_HARMONICS,
    N_NOISE_BANDS,
    PRESET_NAMES,
    PRESETS,
    TimbrePreset,
)
from kelly_actors.synth.render import BlockRendering
from kelly_actors.synth.replay import CARRIER_ONE, Replay
from kelly_actors.synth.slots import VoiceSlots
from kelly_actors.synth.timbre_switch import TimbreSwitching

#: Seconds a pitch bend glides to its new value (a step would click).
BEND_GLIDE_S = 0.003
#: Seconds the output gain, noise level and harmonic tilt glide after an emotion change.
GAIN_GLIDE_S = 0.02

__all__ = ["EVENT_DTYPE", "PRESET_NAMES", "STEAL_FADE_S", "Synth", "velocity_gain"]


class Synth(BlockRendering, VoiceAllocation, TimbreSwitching, Replay):
    """Polyphonic harmonic-plus-noise synthesizer.

    Args:
        sample_rate: Hz (44 100, 48 000 and 96 000 are tested).
        channels: output channels, 1 (mono) or 2 (constant-power pan per MIDI channel).
        n_voices: allocatable voices (the polyphony).
        preset: timbre preset name for every MIDI channel (see :data:`PRESET_NAMES`).
        max_block: largest internal block; ``render`` of more frames is cut into blocks.
        master_gain: linear output gain before the dominance gain (headroom for polyphony).
        bend_range_semitones: pitch bends are clipped to ± this many semitones.
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
        bend_range_semitones: float = BEND_RANGE_SEMITONES,
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
        n_ghosts = max(4, n_voices // 4)
        self.slots = VoiceSlots(n_voices, n_ghosts, N_HARMONICS, 2 * (N_NOISE_BANDS - 1))
        self._time = 0
        self._init_timbre()

        # Per MIDI channel.
        self._chan_preset: list[TimbrePreset] = [PRESETS[preset]] * N_CHANNELS
        self._chan_noise: dict[str, tuple[TimbrePreset, np.ndarray]] = {}
        self._bend = [Glide(0.0, BEND_GLIDE_S * self.sample_rate) for _ in range(N_CHANNELS)]
        self._pan = np.full((N_CHANNELS, 2), np.sqrt(0.5))

        # Emotion.
        self._valence = 0.0
        self._arousal = 0.5
        self._dominance = 0.5
        self._master = float(master_gain)
        self._gain = Glide(self._master, GAIN_GLIDE_S * self.sample_rate)
        self._noise_level = Glide(noise_level(0.5), GAIN_GLIDE_S * self.sample_rate)
        self._tilt = Glide(1.0, GAIN_GLIDE_S * self.sample_rate)

        self._queue = EventQueue(event_capacity)
        self._emotions = EmotionTable(event_capacity)

        # Work buffers of the render path.
        n_slots = self.slots.n_slots
        self._ramp = np.arange(max_block, dtype=np.float64)
        self._mix = np.zeros((max_block, channels))
        self._buf = np.zeros(max_block)
        self._buf2 = np.zeros(max_block)
        self._inc = np.zeros((n_slots, max_block))
        self._white = np.zeros((n_slots, max_block))
        self._white_work = np.zeros((n_slots, max_block), np.uint64)
        self._inc_scale = CARRIER_ONE / self.sample_rate
        self.stats = {"stolen": 0, "late_events": 0, "dropped_events": 0, "rendered": 0}

    # ----------------------------------------------------------------- properties
    @property
    def sample_time(self) -> int:
        """Absolute sample time of the next sample ``render`` produces."""
        return self._time

    @property
    def active_voices(self) -> int:
        """Number of sounding allocatable voices (ghost fades not counted)."""
        return int(np.count_nonzero(self.slots.active[: self.n_voices]))

    @property
    def queued_events(self) -> int:
        """Events waiting in the queue."""
        return self._queue.size

    @property
    def emotion(self) -> tuple[float, float, float]:
        """The last PAD emotion applied (valence, arousal, dominance)."""
        return self._valence, self._arousal, self._dominance

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
        """Queue one event (``kind`` an :class:`EventKind`; fields as in
        :mod:`kelly_actors.synth.events`); returns False (and counts it) if the queue is full.

        Events with equal times keep the order they were queued in.
        """
        if self._queue.push(sample_time, kind, note, velocity, channel, value):
            return True
        self.stats["dropped_events"] += 1
        return False

    def schedule_array(self, events: np.ndarray) -> int:
        """Queue records of :data:`EVENT_DTYPE` (in their order, as repeated :meth:`schedule`
        calls would); returns how many were queued, the rest dropped and counted."""
        taken = self._queue.push_array(events)
        self.stats["dropped_events"] += len(events) - taken
        return taken

    def store_emotion(self, valence: float, arousal: float, dominance: float) -> int:
        """Keep PAD values for an ``EMOTION`` event; returns the key it carries
        (:meth:`EmotionTable.key_fields` gives its ``note`` and ``velocity``)."""
        return self._emotions.store(valence, arousal, dominance)

    def schedule_emotion(
        self, sample_time: int, valence: float, arousal: float, dominance: float
    ) -> bool:
        """PAD emotion from ``sample_time`` on (as :meth:`set_emotion`, but sample-accurate)."""
        note, velocity = EmotionTable.key_fields(self.store_emotion(valence, arousal, dominance))
        return self.schedule(sample_time, EventKind.EMOTION, note, velocity)

    def note_on(self, sample_time: int, note: int, velocity: int = 100, channel: int = 0) -> bool:
        return self.schedule(sample_time, EventKind.NOTE_ON, note, velocity, channel)

    def note_off(self, sample_time: int, note: int, channel: int = 0) -> bool:
        return self.schedule(sample_time, EventKind.NOTE_OFF, note, 0, channel)

    def pitch_bend(self, sample_time: int, semitones: float, channel: int = 0) -> bool:
        """Bend ``channel`` by ``semitones`` (within ± the bend range) from ``sample_time``."""
        return self.schedule(sample_time, EventKind.PITCH_BEND, 0, 0, channel, semitones)

    def set_emotion(self, valence: float, arousal: float, dominance: float) -> None:
        """Apply PAD emotion from the next rendered sample, gliding over ``GAIN_GLIDE_S``.

        arousal → noise level, valence → harmonic tilt, dominance → output gain
        (see :mod:`kelly_actors.synth.emotion`).
        """
        self._emotion_at(self._time, valence, arousal, dominance)

    def set_preset(self, preset: str | TimbrePreset, channel: int | None = None) -> None:
        """Timbre for new notes on ``channel`` (all channels when None)."""
        p = PRESETS[preset] if isinstance(preset, str) else preset
        for ch in range(N_CHANNELS) if channel is None else (channel,):
            self._chan_preset[ch] = p

    def set_pan(self, channel: int, pan: float) -> None:
        """Constant-power pan of a MIDI channel: −1 left … 0 centre … +1 right."""
        angle = (float(np.clip(pan, -1.0, 1.0)) + 1.0) * np.pi / 4.0
        self._pan[channel] = (np.cos(angle), np.sin(angle))

    # ----------------------------------------------------------------- events
    def _apply(self, ev: np.void, t: int) -> None:
        """Carry out one event record at sample ``t``."""
        kind = int(ev["kind"])
        ch = int(ev["channel"]) % N_CHANNELS
        note = int(ev["note"])
        slots = self.slots
        if kind == EventKind.NOTE_ON and int(ev["velocity"]) > 0:
            self._start_note(t, note, int(ev["velocity"]), ch)
        elif kind in (EventKind.NOTE_ON, EventKind.NOTE_OFF):
            pool = slice(0, self.n_voices)
            held = slots.active[pool] & ~slots.released[pool]
            hits = np.flatnonzero(held & (slots.note[pool] == note) & (slots.channel[pool] == ch))
            for s in hits:
                slots.start_release(int(s), t, slots.release[s])
        elif kind == EventKind.PITCH_BEND:
            target = float(np.clip(ev["value"], -self.bend_range, self.bend_range))
            self._bend[ch].set(t, target)
        elif kind in (EventKind.ALL_NOTES_OFF, EventKind.ALL_SOUND_OFF):
            fast = STEAL_FADE_S * self.sample_rate
            for s in np.flatnonzero(slots.active):
                if kind == EventKind.ALL_SOUND_OFF:
                    slots.start_release(int(s), t, fast)
                elif not slots.released[s]:
                    slots.start_release(int(s), t, slots.release[s])
        elif kind == EventKind.PRESET and note < len(PRESET_NAMES):
            self._chan_preset[ch] = PRESETS[PRESET_NAMES[note]]
        elif kind == EventKind.TIMBRE and note in self._switches:
            timbre, fade_s = self._switches.pop(note)
            self._switch_timbre(t, timbre, fade_s)
        elif kind == EventKind.EMOTION:
            self._emotion_at(t, *self._emotions.values(note, int(ev["velocity"])))

    def _emotion_at(self, t: int, valence: float, arousal: float, dominance: float) -> None:
        """Apply PAD emotion from sample ``t``: gain, noise level and tilt glide to it."""
        slots = self.slots
        self._dominance = float(dominance)
        self._gain.set(t, self._master * dominance_gain(dominance))
        self._noise_level.set(t, noise_level(arousal))
        self._arousal = float(arousal)
        self.set_neural_emotion(valence, arousal)
        w = self._tilt.at(t)
        if w >= 1.0:  # the last change is over: start from exactly where it ended
            slots.harmonics_old[:] = slots.harmonics
        else:
            slots.harmonics_old[:] = slots.harmonics_old + w * (
                slots.harmonics - slots.harmonics_old
            )
        self._valence = float(valence)
        slots.harmonics[:] = harmonic_tilt(slots.harmonics_base, self._valence)
        self._tilt.start, self._tilt.target, self._tilt.t0 = 0.0, 1.0, t
