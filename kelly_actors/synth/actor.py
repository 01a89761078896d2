"""The synth actor: note events in, DDSP audio out, a few blocks ahead of the callback.

A restarted synth comes back sounding: the ``notes`` ring still holds the events its
predecessor had taken (:meth:`~kelly_actors.bus.ring.RingReader.retained`), so the new one
queues those and the unread ones, and :meth:`~kelly_actors.synth.voices.Synth.resume` rebuilds
the voices sounding at the first block it renders — at the phase, envelope and noise sample an
uninterrupted synth would have reached — and the events still to come. The control state the
supervisor hands back (emotion, channel programs, timbre model) applies first; the replayed
events, where the ring still holds them, apply on top.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor, CallError, Waitable
from kelly_actors.bus import note_events as ne
from kelly_actors.bus.frames import N_FEATURES
from kelly_actors.bus.note_events import EventKind
from kelly_actors.bus.ring import SpaceBelow
from kelly_actors.config.typed import ConfigError
from kelly_actors.synth import voices
from kelly_actors.synth.config import SynthConfig
from kelly_actors.synth.neural import NeuralTimbre, TimbreError
from kelly_actors.synth.presets import PRESET_NAMES
from kelly_actors.synth.ring_events import as_records, to_record
from kelly_actors.synth.transfer_input import TransferInput

__all__ = ["SWITCH_MARGIN_S", "SynthActor", "SynthConfig"]

#: A timbre swap lands on a bar line at least this far (s) past the render position.
SWITCH_MARGIN_S = 0.25
NO_TRANSFER_TIMBRE = "transfer mode without a timbre model: the preset voice follows the input"


class SynthActor(Actor):
    """Renders ``audio_out`` blocks with sample times on the transport's grid."""

    Config = SynthConfig
    deadline = 0.004

    @classmethod
    def preflight(cls, config: SynthConfig, rings: dict[str, Any]) -> None:
        out = rings.get(config.out_ring)
        if out is None or tuple(out.shape) != (config.block_size, 2) or out.dtype != "float32":
            raise ConfigError(f"ring {config.out_ring!r} must be float32[{config.block_size}, 2]")
        if out.capacity <= config.lookahead_blocks:
            raise ConfigError(f"ring {config.out_ring!r} must hold more than lookahead_blocks")
        notes = rings.get(config.notes_ring)
        if notes is None or tuple(notes.shape) != ne.EVENT_SHAPE or notes.dtype != ne.EVENT_DTYPE:
            raise ConfigError(f"ring {config.notes_ring!r} must be float64{list(ne.EVENT_SHAPE)}")
        if config.mode == "transfer":
            frames = rings.get(config.frames_ring)
            if frames is None or tuple(frames.shape) != (N_FEATURES,) or frames.dtype != "float32":
                raise ConfigError(
                    f"transfer mode reads ring {config.frames_ring!r}: float32[{N_FEATURES}] "
                    "with the synth among its readers"
                )

    def on_start(self) -> None:
        cfg: SynthConfig = self.config
        self.writer = self.ctx.writer(cfg.out_ring)
        self.notes = self.ctx.reader(cfg.notes_ring)
        self.synth = voices.Synth(
            sample_rate=cfg.sample_rate,
            channels=2,
            n_voices=cfg.voices,
            preset=cfg.preset,
            max_block=cfg.block_size,
            master_gain=cfg.master_gain,
            seed=cfg.seed,
            # Room for a whole ring of history plus what is still to come.
            event_capacity=2 * self.notes.spec.capacity + 256,
        )
        self.event = np.empty(ne.EVENT_SHAPE, np.float64)
        self.space = SpaceBelow(self.writer, cfg.lookahead_blocks)
        self.skipped_blocks = 0
        self.dropped_notes = 0
        self.timbre_path = ""
        self.timbre_problem: str | None = None
        self._late_window = (0, 0.0)
        self.transfer: TransferInput | None = None
        if cfg.mode == "transfer":
            self.transfer = TransferInput(self.ctx.reader(cfg.frames_ring), cfg)
        self.control: dict[str, Any] = {}
        self._restore_control()
        self.rebuild = self._rebuild()
        model = self.ctx.restored_state.get("timbre_model", cfg.timbre_model)
        if model:
            try:
                # At once: the rebuilt voices join in the model's timbre, no crossfade.
                self._switch(model, self.synth.sample_time, fade_s=0.0)
            except TimbreError as exc:
                self._degrade(f"timbre model unavailable, preset voice playing: {exc}")
        if self.transfer is not None and not model:
            self._degrade(NO_TRANSFER_TIMBRE)

    def _restore_control(self) -> None:
        """Apply the control state the supervisor kept from the previous incarnation."""
        restored = self.ctx.restored_state
        if "timbre_model" in restored:  # kept even if it fails to load this time
            self.control["timbre_model"] = restored["timbre_model"]
        emotion = restored.get("emotion")
        if emotion:
            self._set_emotion_now(*emotion)
        programs = restored.get("programs")
        if programs:
            self.control["programs"] = list(programs)
            for channel, index in enumerate(programs):
                if 0 <= index < len(PRESET_NAMES):
                    self.synth.set_preset(PRESET_NAMES[index], channel)

    def _set_emotion_now(self, valence: float, arousal: float, dominance: float) -> None:
        self.synth.set_emotion(valence, arousal, dominance)
        if self.transfer is not None:
            self.transfer.voice.set_emotion(valence, arousal)
        self.control["emotion"] = [valence, arousal, dominance]

    def _rebuild(self) -> dict[str, Any]:
        """Queue the events a predecessor took (still in the ring) and the unread ones, then
        rebuild the synth at the first block to render; returns figures for telemetry."""
        started = time.perf_counter()
        frames, _, _ = self.notes.retained(self.notes.spec.capacity)
        play_drums = self.config.play_drums
        records = [to_record(ev, self.synth, play_drums) for ev in frames.tolist()]
        self.synth.schedule_array(as_records([r for r in records if r is not None]))
        self._take_events()
        clock = self._clock_sample()
        first = self._first_block_time()
        since = self.synth.resume(first)
        return {
            "rebuild_ms": round((time.perf_counter() - started) * 1e3, 3),
            "retained_events": int(frames.shape[0]),
            "rebuilt_voices": self.synth.active_voices,
            "replayed_from": since,
            "start_clock": clock,  # the transport's sample when this incarnation started
            "first_block": first,  # the sample time of its first block (planned, then sent)
            "first_block_clock": -1,  # the transport's sample when that block was sent
        }

    def _first_block_time(self) -> int:
        """Sample time of the first block to render: after what a predecessor left in the
        ring, else the block after the one the callback plays now — or, while a fresh
        clock waits for the first block (pre-roll, not running), the block it waits for."""
        last = self.writer.last_sample_time()
        state = self.ctx.transport.read()
        clock = 0 if state is None else state.sample_counter
        if last is None and state is not None and not state.running:
            return clock
        return (clock if last is None else max(last, clock)) + self.config.block_size

    def _clock_sample(self) -> int:
        state = self.ctx.transport.read()
        return 0 if state is None else state.sample_counter

    def _align(self, clock: int) -> None:
        """Render from the block after the one starting at ``clock`` (the skipped samples
        pass silently: events in them apply, phases advance, see ``Synth.seek``)."""
        block = self.config.block_size
        self.synth.seek(clock + block)

    def wait_on(self) -> list[Waitable]:
        if self.transfer is not None:
            return [self.notes, self.space, self.transfer.reader]
        return [self.notes, self.space]

    def step(self) -> None:
        self._take_events()
        cfg: SynthConfig = self.config
        state = self.ctx.transport.read()
        clock = 0 if state is None else state.sample_counter
        # A held clock (pre-roll) still waits for the block at its own sample.
        behind = clock if state is not None and not state.running else clock + 1
        # Fell behind the callback (stalled, or just started): those blocks are gone.
        if self.synth.sample_time < behind:
            self.skipped_blocks += 1
            self._align(clock)
        transfer = self.transfer
        # At most a look-ahead's worth per step, and the events written meanwhile taken
        # before each block: a callback draining the ring as fast as this renders (a
        # starved machine) would otherwise keep the loop going with no event read, every
        # note due in it played late (a twin that was not starved would then differ), and
        # no heartbeat or command served.
        for rendered in range(cfg.lookahead_blocks):
            if self.writer.used() >= cfg.lookahead_blocks:
                break
            view = self.writer.claim()
            if view is None:
                break
            if rendered:
                self._take_events()
            start = self.synth.sample_time
            if transfer is not None:
                transfer.take_frames(start)
            self.synth.render(cfg.block_size, out=view)
            if transfer is not None:
                transfer.mix_into(view, start)
            self.writer.publish(start)
            if self.rebuild["first_block_clock"] < 0:
                self.rebuild["first_block"] = start
                self.rebuild["first_block_clock"] = clock
        if transfer is not None:
            transfer.take_frames(self.synth.sample_time)
        self._watch_decoder()

    # ----------------------------------------------------------------- timbre
    def _next_bar_line(self) -> int:
        """Absolute sample of the next bar line at least SWITCH_MARGIN_S past the render
        position (the render position itself when the transport is not running). The
        margin lets a standby, which hears of the swap after this synth has answered,
        swap on the same sample instead of one it has already rendered."""
        state = self.ctx.transport.read()
        start = self.synth.sample_time
        if state is None or not state.running or state.tempo <= 0:
            return start
        start += round(SWITCH_MARGIN_S * state.sample_rate)
        samples_per_beat = 60.0 / state.tempo * state.sample_rate
        beats_left = state.beats_per_bar - state.beat_in_bar
        bar = state.sample_counter + round(beats_left * samples_per_beat)
        while bar < start:
            bar += round(state.beats_per_bar * samples_per_beat)
        return bar

    def _switch(self, path: str, at: int, fade_s: float | None = None) -> dict[str, Any]:
        """Load ``path`` ("" = preset voice) and crossfade to it at sample ``at`` (over
        ``fade_s``, default the configured crossfade)."""
        timbre = NeuralTimbre.load(path) if path else None
        fade = self.config.crossfade_s if fade_s is None else fade_s
        self.synth.set_timbre(timbre, at, fade)
        if self.transfer is not None:
            self.transfer.voice.set_timbre(timbre)
        self.timbre_path = path
        self.timbre_problem = None
        self._late_window = (0, 0.0)
        self.ctx.set_healthy()
        self._publish("timbre_model", path)
        if self.transfer is not None and timbre is None:
            self._degrade(NO_TRANSFER_TIMBRE)
        return {"timbre": timbre.name if timbre else "preset", "switch_at": at}

    def _degrade(self, reason: str) -> None:
        self.timbre_problem = reason
        self.ctx.set_degraded(reason)
        self.ctx.emit("timbre_fallback", reason=reason)

    def _watch_decoder(self) -> None:
        """Fall back to the preset voice when the decoder failed or is late."""
        timbre = self.synth.timbre
        error = self.synth.timbre_error
        if error is None and self.transfer is not None:
            error = self.transfer.voice.broken
        if error is not None:
            self._fall_back(f"timbre model failed, preset voice playing: {error}")
            return
        if timbre is None:
            return
        calls, total = timbre.calls - self._late_window[0], timbre.total_us - self._late_window[1]
        frames_per_s = self.config.sample_rate / timbre.hop
        if calls >= frames_per_s:  # about a second of frames
            mean = total / calls
            self._late_window = (timbre.calls, timbre.total_us)
            budget = self.config.decoder_budget_us
            if mean > budget:
                self._fall_back(f"timbre model late ({mean:.0f} µs per frame > "
                                f"{budget:.0f}), preset voice playing")  # fmt: skip

    def _fall_back(self, reason: str) -> None:
        """Crossfade every voice to the preset voice now, and report ``reason``."""
        self.synth.set_timbre(None, self.synth.sample_time, self.config.crossfade_s)
        if self.transfer is not None:
            self.transfer.voice.set_timbre(None)
        self._degrade(reason)

    def _publish(self, key: str, value: Any) -> None:
        """Update one item of the control state and hand the whole of it to the supervisor
        (it keeps the last message only, so every message carries every item)."""
        self.control[key] = value
        self.ctx.publish_state(dict(self.control))

    def _take_events(self) -> None:
        """Unread ``notes`` events into the synth's queue; emotion and programs also become
        control state (and emotion reaches the transfer voice at once)."""
        reader, ev, synth = self.notes, self.event, self.synth
        play_drums = self.config.play_drums
        while reader.available() > 0 and reader.read_into(ev):
            record = to_record(ev.tolist(), synth, play_drums)
            if record is None:
                continue
            if not synth.schedule(*record):
                self.dropped_notes += 1
            kind = record[1]
            if kind == EventKind.EMOTION:
                emotion = [float(ev[ne.A]), float(ev[ne.B]), float(ev[ne.C])]
                if self.transfer is not None:
                    self.transfer.voice.set_emotion(emotion[0], emotion[1])
                self._publish("emotion", emotion)
            elif kind == EventKind.PRESET:
                programs = list(self.control.get("programs", [-1] * ne.N_CHANNELS))
                programs[record[4]] = record[2]
                self._publish("programs", programs)

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        primary = args.get("primary_result") or {}
        if method == "panic":
            # A standby silences at the sample its primary did, so both stay identical.
            at = primary.get("at")
            at = at if isinstance(at, int) else self.synth.sample_time
            self.synth.schedule(at, EventKind.ALL_SOUND_OFF)
            return {"panic": True, "at": at}
        if method == "load_model":
            if args.get("kind", "ddsp") != "ddsp":
                raise CallError(f"the synth loads ddsp timbre models, not {args.get('kind')!r}")
            path = args.get("path")
            if not isinstance(path, str):
                raise CallError("load_model needs {'path': 'models/ddsp-NAME.onnx'} ('' = preset)")
            at = primary.get("switch_at")
            try:
                # A standby swaps on its primary's bar line: the same sample in both.
                return self._switch(path, at if isinstance(at, int) else self._next_bar_line())
            except TimbreError as exc:
                raise CallError(str(exc)) from None
        return super().on_call(method, args)

    def telemetry(self) -> dict[str, Any]:
        cfg: SynthConfig = self.config
        return {
            "active_voices": self.synth.active_voices,
            "lookahead_frames": cfg.lookahead_blocks * cfg.block_size,
            "lookahead_ms": round(cfg.lookahead_blocks * cfg.block_size / cfg.sample_rate * 1e3, 3),
            "skipped_blocks": self.skipped_blocks,
            "dropped_notes": self.dropped_notes,
            "timbre": self.synth.timbre.name if self.synth.timbre else "preset",
            "timbre_model": self.timbre_path,
            "timbre_problem": self.timbre_problem or "",
            "neural_voices": self.synth.neural_voices,
            "decoder_us_mean": round(self.synth.timbre.mean_us, 1) if self.synth.timbre else 0.0,
            "emotion": [round(x, 4) for x in self.synth.emotion],
            **self.rebuild,
            **{k: int(v) for k, v in self.synth.stats.items()},
            **(self.transfer.telemetry() if self.transfer is not None else {"mode": "notes"}),
        }
