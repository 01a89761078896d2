"""Helpers for the inference tests: a performance config around the inference actor, audio
of known emotion rendered by our own synth, an estimates subscriber."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import zmq
from toml_config import performance_toml

from kelly_actors.audio import wav
from kelly_actors.bus import messages, sockets
from kelly_actors.composer.emotion.pad import PAD
from training.emotion.performances import composed
from training.emotion.render import Instrument, render_all

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "emotion.onnx"
INFERENCE = "kelly_actors.inference.actor:InferenceActor"


def render_emotion_wav(path: Path, point: PAD, seconds: float, preset: str = "strings") -> Path:
    """A WAV (48 kHz mono float) of the composer's piece for ``point`` on our DDSP synth."""
    perf = composed(point, seed=7, seconds=seconds)
    (signal,) = render_all(Instrument(f"ddsp_{preset}", "ddsp", preset=preset), [perf])
    writer = wav.WavWriter(path, 48_000, 1)
    try:
        writer.write(signal[:, None])
    finally:
        writer.close()
    return path


def inference_toml(
    options: dict[str, Any],
    input_file: Path | None = None,
    composer: bool = False,
    fusion_gate: float = 0.0,
) -> str:
    """audio (null or file backend) → features → inference [→ composer via ZeroMQ, whose
    fusion ignores estimates under ``fusion_gate``]."""
    audio_options: dict[str, Any] = {"out_ring": "", "tempo_ring": ""}
    if input_file is not None:
        audio_options |= {"backend": "file", "input_file": str(input_file)}
    rings = [
        {"name": "audio_in", "shape": [256, 1], "dtype": "float32", "capacity": 64,
         "policy": "overwrite", "writer": "audio", "readers": ["features"]},
        {"name": "frames", "shape": [128], "dtype": "float32", "capacity": 256,
         "policy": "overwrite", "writer": "features", "readers": ["inference"]},
    ]  # fmt: skip
    actors = [
        {"name": "audio", "target": "kelly_actors.audio.actor:AudioActor",
         "options": audio_options},
        {"name": "features", "target": "kelly_actors.audio.features_actor:FeaturesActor",
         "depends_on": ["audio"], "options": {"sample_rate": 48_000}},
        {"name": "inference", "target": INFERENCE, "depends_on": ["features"], "options": options},
    ]  # fmt: skip
    if composer:
        actors.append(
            {
                "name": "composer",
                "target": "kelly_actors.composer.actor:ComposerActor",
                "depends_on": ["audio"],
                "options": {"notes_ring": "", "tempo_ring": "", "midi": {"api": "none"},
                            "recording": {"directory": "off"},
                            "fusion": {"confidence_gate": fusion_gate}},
            }
        )  # fmt: skip
    return performance_toml(actors, rings)


#: Every Estimates made by the running test; tests/inference/conftest.py closes them
#: after each test, so a test that fails half-way leaks no socket.
OPEN: list[Estimates] = []


class Estimates:
    """SUB on the inference actor's PUB socket; collects decoded ``estimate`` fields."""

    def __init__(self, run_dir: Path) -> None:
        OPEN.append(self)
        self.ctx = zmq.Context()
        self.sock = sockets.make(self.ctx, zmq.SUB, sockets.CONTROL_MAX_BYTES)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"estimate")
        self.sock.connect(f"ipc://{run_dir / 'estimates.sock'}")
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while self.sock.poll(0):
            frames = self.sock.recv_multipart()
            self.received.append(messages.decode(frames[1:]).fields)
        return self.received

    def close(self) -> None:
        if not self.sock.closed:
            self.sock.close(0)
            self.ctx.term()


def telemetry(performance) -> dict[str, Any]:
    """The inference actor's figures from its latest heartbeat ({} before the first)."""
    return performance.actor("inference")["telemetry"]


def card() -> dict[str, Any]:
    return json.loads((REPO / "models" / "emotion.json").read_text())


def seeded(seed: int) -> random.Random:
    return random.Random(seed)


def sample_gaps(received: list[dict[str, Any]], hop: int = 512) -> int:
    """Missing hops between consecutive estimates' sample times."""
    times = np.array([e["sample_time"] for e in received])
    return int(np.sum(np.diff(times) // hop - 1)) if times.size > 1 else 0
