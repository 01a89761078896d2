"""The synth actor: note events in, DDSP audio out, a few blocks ahead of the callback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor, Waitable
from kelly_actors.bus import note_events as ne
from kelly_actors.bus.ring import SpaceBelow
from kelly_actors.config.typed import ConfigError
from kelly_actors.synth import voices
from kelly_actors.synth.gm import preset_index
from kelly_actors.synth.presets import PRESETS

DRUM_CHANNEL = 9


@dataclass(frozen=True)
class SynthConfig:
    """Settings of the synth actor.

    Attributes:
        sample_rate: Hz, as the audio actor's.
        block_size: frames per block, as the audio actor's.
        lookahead_blocks: blocks rendered ahead of the callback (latency vs safety).
        voices: polyphony.
        preset: timbre until a PROGRAM event picks one per channel.
        master_gain: linear output gain before emotion's dominance gain.
        play_drums: render channel 10 (the DDSP voice has no drum kit, so off by default).
        notes_ring / out_ring: ring names.
    """

    sample_rate: int = 48_000
    block_size: int = 256
    lookahead_blocks: int = 4
    voices: int = 32
    preset: str = "strings"
    master_gain: float = 0.25
    play_drums: bool = False
    notes_ring: str = "notes"
    out_ring: str = "audio_out"

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(sorted(PRESETS))}")
        if not 1 <= self.lookahead_blocks <= 64 or not 1 <= self.voices <= 256:
            raise ValueError("lookahead_blocks must be 1–64 and voices 1–256")


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
        )
        self.event = np.empty(ne.EVENT_SHAPE, np.float64)
        self.space = SpaceBelow(self.writer, cfg.lookahead_blocks)
        self.skipped_blocks = 0
        self.dropped_notes = 0
        emotion = self.ctx.restored_state.get("emotion")
        if emotion:
            self.synth.set_emotion(*emotion)
        # Continue after what a predecessor left in the ring, else just ahead of the clock.
        last = self.writer.last_sample_time()
        self._align(self._clock_sample() if last is None else max(last, self._clock_sample()))

    def _clock_sample(self) -> int:
        state = self.ctx.transport.read()
        return 0 if state is None else state.sample_counter

    def _align(self, clock: int) -> None:
        """Render from the block after the one starting at ``clock``."""
        block = self.config.block_size
        self.synth.seek(clock + block)

    def wait_on(self) -> list[Waitable]:
        return [self.notes, self.space]

    def step(self) -> None:
        self._take_events()
        cfg: SynthConfig = self.config
        clock = self._clock_sample()
        # Fell behind the callback (stalled, or just started): those blocks are gone.
        if self.synth.sample_time <= clock:
            self.skipped_blocks += 1
            self._align(clock)
        while self.writer.used() < cfg.lookahead_blocks:
            view = self.writer.claim()
            if view is None:
                break
            start = self.synth.sample_time
            self.synth.render(cfg.block_size, out=view)
            self.writer.publish(start)

    def _take_events(self) -> None:
        reader, ev, synth = self.notes, self.event, self.synth
        while reader.available() > 0 and reader.read_into(ev):
            kind = int(ev[ne.KIND])
            t = int(ev[ne.TIME])
            channel = int(ev[ne.CHANNEL])
            if kind in (ne.NOTE_ON, ne.NOTE_OFF):
                if channel == DRUM_CHANNEL and not self.config.play_drums:
                    continue
                vkind = voices.EV_NOTE_ON if kind == ne.NOTE_ON else voices.EV_NOTE_OFF
                if not synth.schedule(t, vkind, int(ev[ne.KEY]), int(ev[ne.VELOCITY]), channel):
                    self.dropped_notes += 1
            elif kind == ne.ALL_NOTES_OFF:
                synth.schedule(t, voices.EV_ALL_SOUND_OFF)
            elif kind == ne.PITCH_BEND:
                bend = float(ev[ne.A]) / synth.bend_range
                synth.schedule(t, voices.EV_PITCH_BEND, channel=channel, value=bend)
            elif kind == ne.EMOTION:
                emotion = (float(ev[ne.A]), float(ev[ne.B]), float(ev[ne.C]))
                synth.set_emotion(*emotion)
                self.ctx.publish_state({"emotion": list(emotion)})
            elif kind == ne.PROGRAM and 0 <= channel < 16:
                synth.schedule(t, voices.EV_PRESET, preset_index(int(ev[ne.KEY])), channel=channel)

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "panic":
            self.synth.schedule(self.synth.sample_time, voices.EV_ALL_SOUND_OFF)
            return {"panic": True}
        return super().on_call(method, args)

    def telemetry(self) -> dict[str, Any]:
        cfg: SynthConfig = self.config
        return {
            "active_voices": self.synth.active_voices,
            "lookahead_frames": cfg.lookahead_blocks * cfg.block_size,
            "lookahead_ms": round(cfg.lookahead_blocks * cfg.block_size / cfg.sample_rate * 1e3, 3),
            "skipped_blocks": self.skipped_blocks,
            "dropped_notes": self.dropped_notes,
            **{k: int(v) for k, v in self.synth.stats.items()},
        }
