"""A note source for audio-path tests: writes the ``notes`` ring like the composer would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor
from kelly_actors.bus import note_events as ne


@dataclass(frozen=True)
class HeldNoteConfig:
    """Play ``key`` for ``seconds`` every ``period`` seconds (0 = hold forever)."""

    key: int = 69
    velocity: int = 100
    seconds: float = 0.0
    period: float = 1.0
    lead: float = 0.1
    ring: str = "notes"


class HeldNoteActor(Actor):
    """Schedules notes ``lead`` seconds ahead of the transport."""

    Config = HeldNoteConfig

    def on_start(self) -> None:
        self.writer = self.ctx.writer(self.config.ring)
        self.event = np.zeros(ne.EVENT_SHAPE, np.float64)
        self.next_note = None
        self.sent = 0

    def next_wakeup(self) -> float:
        return time.monotonic() + 0.02

    def step(self) -> None:
        cfg: HeldNoteConfig = self.config
        state = self.ctx.transport.read()
        if state is None or state.sample_counter == 0:
            return
        rate = state.sample_rate
        if self.next_note is None:
            self.next_note = state.sample_counter + int(cfg.lead * rate)
        while self.next_note < state.sample_counter + cfg.lead * rate:
            start = self.next_note
            self.writer.write(ne.note_on(self.event, start, 0, cfg.key, cfg.velocity))
            self.sent += 1
            if cfg.seconds <= 0:
                self.next_note = 2**62
                break
            self.writer.write(ne.note_off(self.event, start + int(cfg.seconds * rate), 0, cfg.key))
            self.next_note = start + int(cfg.period * rate)

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "sent":
            return {"sent": self.sent}
        return super().on_call(method, args)


def live_graph_toml(
    audio: dict[str, Any] | None = None,
    synth: dict[str, Any] | None = None,
    notes: dict[str, Any] | None = None,
    record_dir: str = "",
    block: int = 256,
) -> str:
    """The audio path (audio → features, notes → synth → audio) with a note source."""
    from toml_config import performance_toml

    rings = [
        {"name": "audio_in", "shape": [block, 1], "writer": "audio", "readers": ["features"]},
        {
            "name": "audio_out",
            "shape": [block, 2],
            "capacity": 32,
            "policy": "drop",
            "writer": "synth",
            "readers": ["audio"],
        },
        {"name": "frames", "shape": [128], "capacity": 256, "writer": "features", "readers": []},
        {
            "name": "notes",
            "shape": [8],
            "dtype": "float64",
            "capacity": 4096,
            "policy": "drop",
            "writer": "notes",
            "readers": ["synth"],
        },
        {
            "name": "tempo",
            "shape": [4],
            "dtype": "float64",
            "capacity": 64,
            "policy": "drop",
            "writer": "notes",
            "readers": ["audio"],
        },
    ]
    actors = [
        {
            "name": "audio",
            "target": "kelly_actors.audio.actor:AudioActor",
            "nice": -10,
            "options": {"block_size": block, **(audio or {})},
        },
        {
            "name": "features",
            "target": "kelly_actors.audio.features_actor:FeaturesActor",
            "depends_on": ["audio"],
        },
        {
            "name": "synth",
            "target": "kelly_actors.synth.actor:SynthActor",
            "depends_on": ["audio"],
            "nice": -5,
            "options": {"block_size": block, **(synth or {})},
        },
        {
            "name": "notes",
            "target": "audio_support:HeldNoteActor",
            "depends_on": ["synth"],
            "options": notes or {},
        },
    ]
    settings = {"record_dir": record_dir} if record_dir else {}
    return performance_toml(actors, rings, **settings)


def peak_frequency(signal: np.ndarray, sample_rate: int) -> float:
    """Frequency (Hz) of the strongest partial: Hann window, zero-padded FFT,
    parabolic interpolation on the log magnitude."""
    n = 1 << 21
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size), n))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-30)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + offset) * sample_rate / n


def cents(measured: float, reference: float) -> float:
    return 1200.0 * float(np.log2(measured / reference))
