"""Does the configured sound device open at the configured rate and block size?

The check opens a real stream (silence out) and counts callbacks, so a
device that passes PortAudio's settings check but cannot run still fails.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from kelly_actors.audio.actor import AudioConfig
from kelly_actors.audio.backends.base import BackendError
from kelly_actors.audio.backends.choice import AudioChoice
from kelly_actors.console.doctor.result import FAIL, PASS, SKIP, WARN, CheckResult

#: Callbacks a stream must deliver to pass, and the time it gets.
WANTED_CALLBACKS = 50
OPEN_TIMEOUT_S = 5.0


def check_jack_client(cfg: AudioConfig) -> CheckResult:
    """The native JACK client opens at the configured rate and period, and which
    callback it would run (compiled, or Python and why)."""
    from kelly_actors.audio.backends.jack import check_server, compiled_callback, open_client

    try:
        client = open_client(f"{cfg.jack.client}-doctor")
        try:
            check_server(client, cfg.sample_rate, cfg.block_size)
            name = client.name
        finally:
            client.close()
    except BackendError as exc:
        return CheckResult("audio device", FAIL, str(exc))
    _, callback = compiled_callback()
    figure = f"JACK client {name}: {cfg.sample_rate} Hz × {cfg.block_size} frames, {callback}"
    return CheckResult("audio device", PASS, figure)


def check_audio(cfg: AudioConfig) -> CheckResult:
    """Open ``cfg``'s device for :data:`WANTED_CALLBACKS` blocks."""
    if cfg.backend == "jack":
        return check_jack_client(cfg)
    if cfg.backend != "sounddevice":
        return CheckResult(
            "audio device", SKIP, f"backend {cfg.backend!r}: no sound card to open (clocked)"
        )
    from kelly_actors.audio.backends.device import SoundDeviceBackend, check_device

    try:
        description = check_device(
            cfg.device, cfg.host_api, cfg.sample_rate, cfg.channels, cfg.input_channels
        )
        backend = SoundDeviceBackend(
            cfg.device, cfg.host_api, cfg.sample_rate, cfg.block_size, cfg.channels,
            cfg.input_channels,
        )  # fmt: skip
    except BackendError as exc:
        return CheckResult("audio device", FAIL, str(exc))
    done = threading.Event()
    counts = {"callbacks": 0, "xruns": 0, "frames": 0}

    def process(indata: np.ndarray | None, outdata: np.ndarray, xrun: bool) -> None:
        outdata.fill(0.0)
        counts["callbacks"] += 1
        counts["frames"] = len(outdata)
        counts["xruns"] += int(xrun)
        if counts["callbacks"] >= WANTED_CALLBACKS:
            done.set()

    started = time.monotonic()
    try:
        backend.start(process)
    except BackendError as exc:
        return CheckResult("audio device", FAIL, str(exc))
    try:
        arrived = done.wait(OPEN_TIMEOUT_S)
        elapsed = time.monotonic() - started
    finally:
        backend.stop()
    figure = (
        f"{description}: {cfg.sample_rate} Hz × {counts['frames']} frames, "
        f"{counts['callbacks']} callbacks in {elapsed:.2f} s, xruns {counts['xruns']}, "
        f"output latency {backend.output_latency} frames"
    )
    if not arrived:
        return CheckResult("audio device", FAIL, f"{figure}: the stream stalled")
    if counts["frames"] != cfg.block_size:
        return CheckResult("audio device", FAIL, f"{figure}; the config wants {cfg.block_size}")
    return CheckResult("audio device", PASS, figure)


def check_choice(choice: AudioChoice) -> CheckResult:
    """What ``backend = "auto"`` picks on this machine now (``kelly run`` picks again when
    it starts): a device passes, silence warns."""
    if choice.silent:
        return CheckResult(
            "audio choice",
            WARN,
            f"kelly run would play silently: no audio device ({choice.why}); "
            "kelly run --record DIR keeps the music",
        )
    return CheckResult(
        "audio choice", PASS, f"kelly run would play through {choice.device}: {choice.why}"
    )
