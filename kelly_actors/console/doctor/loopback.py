"""Round-trip latency through a JACK loopback: our output port wired to our input.

The doctor's own JACK client (a unique name, so several can run at once)
gets its output connected to its input with ``jack_connect`` and its
connections to the system ports removed; a one-sample click goes out and
the frames until it comes back in are the round trip (JACK adds a period
for the feedback cycle, as it would through a cable on a real interface).
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading
from typing import Any

import numpy as np

from kelly_actors.audio.actor import AudioConfig
from kelly_actors.console.doctor.jack import TOOL_TIMEOUT_S, jack_env
from kelly_actors.console.doctor.result import FAIL, PASS, SKIP, CheckResult

#: Longest round trip we listen for (s), and the click's detection threshold.
LISTEN_S = 1.0
THRESHOLD = 0.5
#: Keeps the client-name buffer alive: PortAudio keeps the pointer, not a copy.
_CLIENT_NAME: list[ctypes.Array[ctypes.c_char]] = []


def _name_jack_client(sd: object, name: str) -> bool:
    """Re-initialise PortAudio with JACK client ``name``; False where not possible."""
    terminate = getattr(sd, "_terminate", None)
    initialize = getattr(sd, "_initialize", None)
    libname = getattr(sd, "_libname", None)
    if terminate is None or initialize is None or libname is None:
        return False
    lib = ctypes.CDLL(libname)
    if not hasattr(lib, "PaJack_SetClientName"):
        return False
    buffer = ctypes.create_string_buffer(name.encode())
    _CLIENT_NAME.append(buffer)
    terminate()
    lib.PaJack_SetClientName(buffer)
    initialize()
    return True


def _jack(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, env=jack_env()
    )


class _Clicker:
    """The stream callback: a click when armed, then the input recorded."""

    def __init__(self, sample_rate: int) -> None:
        self.armed = threading.Event()
        self.done = threading.Event()
        self.recorded = np.zeros(int(LISTEN_S * sample_rate), np.float32)
        self.pos = 0
        self.clicked = False

    def __call__(self, indata: np.ndarray, outdata: np.ndarray, frames: int, *_: object) -> None:
        outdata.fill(0.0)
        if not self.armed.is_set() or self.done.is_set():
            return
        if not self.clicked:
            outdata[0, :] = 1.0
            self.clicked = True
        n = min(frames, len(self.recorded) - self.pos)
        self.recorded[self.pos : self.pos + n] = indata[:n, 0]
        self.pos += n
        if self.pos >= len(self.recorded):
            self.done.set()


def check_loopback(cfg: AudioConfig) -> CheckResult:
    """Measure the round trip where the config plays through JACK."""
    through_jack = cfg.backend == "jack" or "jack" in cfg.host_api.lower()
    if cfg.backend not in ("jack", "sounddevice") or not through_jack:
        return CheckResult("round trip", SKIP, "no loopback can be made (not a JACK config)")
    from kelly_actors.audio.backends.base import BackendError
    from kelly_actors.audio.backends.device import portaudio

    try:
        with portaudio() as sd:
            return _round_trip(sd, cfg)
    except BackendError as exc:
        return CheckResult("round trip", FAIL, str(exc))


def _round_trip(sd: Any, cfg: AudioConfig) -> CheckResult:
    client = f"kelly-doctor-{os.getpid()}"
    if not _name_jack_client(sd, client):
        return CheckResult("round trip", SKIP, "this PortAudio cannot name its JACK client")
    apis = sd.query_hostapis()
    devices = [
        i for i, d in enumerate(sd.query_devices()) if "jack" in apis[d["hostapi"]]["name"].lower()
    ]
    if not devices:
        return CheckResult("round trip", FAIL, "PortAudio sees no JACK device")
    clicker = _Clicker(cfg.sample_rate)
    try:
        stream = sd.Stream(
            device=(devices[0], devices[0]), samplerate=cfg.sample_rate,
            blocksize=cfg.block_size, channels=(1, 1), dtype="float32", callback=clicker,
            latency="low",
        )  # fmt: skip
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        return CheckResult("round trip", FAIL, f"cannot open a JACK stream: {exc}")
    try:
        return _measure(client, clicker, cfg.sample_rate)
    finally:
        stream.stop()
        stream.close()


def _measure(client: str, clicker: _Clicker, sample_rate: int) -> CheckResult:
    listing = _jack("jack_lsp", "-c").stdout.splitlines()
    ours = [p for p in listing if p.startswith(f"{client}:")]
    outs = [p for p in ours if ":out" in p]
    ins = [p for p in ours if ":in" in p]
    if not outs or not ins:
        return CheckResult("round trip", FAIL, f"JACK shows no ports of {client}: {ours}")
    # Cut our auto-connections to the system ports: only the loopback may feed the input.
    current = None
    for line in listing:
        if not line.startswith(" "):
            current = line
        elif current in ours:
            _jack("jack_disconnect", current, line.strip())
    wired = _jack("jack_connect", outs[0], ins[0])
    if wired.returncode != 0:
        return CheckResult("round trip", FAIL, f"jack_connect failed: {wired.stderr.strip()}")
    clicker.armed.set()
    if not clicker.done.wait(LISTEN_S + TOOL_TIMEOUT_S):
        return CheckResult("round trip", FAIL, "the stream stopped before the click came back")
    hits = np.flatnonzero(np.abs(clicker.recorded) > THRESHOLD)
    if not len(hits):
        return CheckResult("round trip", FAIL, f"the click did not come back within {LISTEN_S} s")
    frames = int(hits[0])
    return CheckResult(
        "round trip",
        PASS,
        f"{frames} frames = {1000 * frames / sample_rate:.2f} ms ({outs[0]} → {ins[0]})",
    )
