"""Any PortAudio device through sounddevice, chosen by name and host API."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np

from kelly_actors.audio.backends.base import Backend, BackendError, Process

_import_released = False


def _sounddevice() -> Any:
    global _import_released
    try:
        import sounddevice
    except OSError as exc:  # libportaudio missing
        raise BackendError(f"PortAudio is not available: {exc}") from None
    if not _import_released:
        # sounddevice initialises PortAudio on import, and an initialised
        # PortAudio is an active JACK client whose thread the server waits for
        # every cycle: a late one is an xrun for the whole graph. PortAudio is
        # held only by `portaudio()` blocks and running streams.
        _import_released = True
        sounddevice._terminate()
    return sounddevice


@contextmanager
def portaudio() -> Iterator[Any]:
    """The sounddevice module, with PortAudio initialised for the block only."""
    sd = _sounddevice()
    try:
        sd._initialize()
    except sd.PortAudioError as exc:
        raise BackendError(f"PortAudio cannot start: {exc}") from None
    try:
        yield sd
    finally:
        sd._terminate()


def find_device(sd: Any, device: str, host_api: str) -> tuple[int, str]:
    """Index and description of the first device whose name contains ``device``
    on a host API whose name contains ``host_api`` (case-insensitive; "" = any); a
    device named exactly ``device`` comes first (the automatic choice pins one by its
    name: "default" must not find "sysdefault"). An empty ``device`` takes the host
    API's default output device. ``sd`` is the module as `portaudio()` yields it."""
    apis = sd.query_hostapis()
    devices = sd.query_devices()
    wanted_api = [i for i, a in enumerate(apis) if host_api.lower() in a["name"].lower()]
    if not wanted_api:
        names = ", ".join(a["name"] for a in apis) or "none"
        raise BackendError(f"no host API matching {host_api!r}; available: {names}")
    for api in wanted_api:
        for index in apis[api]["devices"]:
            if device and devices[index]["name"] == device:
                return index, f"{devices[index]['name']} ({apis[api]['name']})"
    for api in wanted_api:
        if not device and apis[api]["default_output_device"] >= 0:
            index = apis[api]["default_output_device"]
            return index, f"{devices[index]['name']} ({apis[api]['name']})"
        for index in apis[api]["devices"]:
            if device and device.lower() in devices[index]["name"].lower():
                return index, f"{devices[index]['name']} ({apis[api]['name']})"
    listing = "; ".join(f"{d['name']} ({apis[d['hostapi']]['name']})" for d in devices) or "none"
    raise BackendError(
        f"no audio device matching {device!r} on {host_api or 'any host API'}; available: {listing}"
    )


def check_device(
    device: str, host_api: str, sample_rate: int, channels: int, input_channels: int
) -> str:
    """Preflight: the device exists and accepts the rate and channel counts."""
    with portaudio() as sd:
        index, description = find_device(sd, device, host_api)
        try:
            sd.check_output_settings(
                device=index, samplerate=sample_rate, channels=channels, dtype="float32"
            )
            if input_channels:
                _check_input_count(sd, index, description, input_channels)
                sd.check_input_settings(
                    device=index, samplerate=sample_rate, channels=input_channels, dtype="float32"
                )
        except (sd.PortAudioError, ValueError) as exc:
            raise BackendError(f"{description}: {exc}") from None
    return description


def _check_input_count(sd: Any, index: int, description: str, input_channels: int) -> None:
    """BackendError saying how many inputs the device has when it has fewer than asked."""
    have = int(sd.query_devices(index).get("max_input_channels", 0))
    if have < input_channels:
        raise BackendError(
            f"{description}: input_channels = {input_channels}, but the device gives "
            f"{have} input channel{'s' if have != 1 else ''} (one per performer; "
            "lower input_channels or choose a device with more inputs)"
        )


#: SCHED_FIFO priorities: the callback above the thread that shares its GIL.
CALLBACK_PRIORITY = 70
CONTROL_PRIORITY = 60
FALLBACK_NICE = -15


def raise_thread_priority(priority: int = CALLBACK_PRIORITY) -> str:
    """Give the calling thread real-time scheduling at ``priority`` where
    permitted, else a strong niceness; a JACK server in --no-realtime mode
    does neither for its clients. Returns what it got, for telemetry."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return f"SCHED_FIFO {priority}"
    except (PermissionError, OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FALLBACK_NICE)
        return f"nice {FALLBACK_NICE}"
    except (PermissionError, OSError):
        return "unchanged"


class SoundDeviceBackend(Backend):
    """A full-duplex PortAudio stream; PortAudio's thread calls ``process``."""

    def __init__(
        self,
        device: str,
        host_api: str,
        sample_rate: int,
        block_size: int,
        channels: int = 2,
        input_channels: int = 1,
    ) -> None:
        with portaudio() as sd:
            self.index, description = find_device(sd, device, host_api)
        self._held = ExitStack()
        self.device = device
        self.host_api = host_api
        self.name = f"sounddevice: {description}"
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.channels = channels
        self.input_channels = input_channels
        self._process: Process | None = None
        self._stream: Any = None
        self._priority_set = False
        self.priority = "unchanged"

    def _callback(
        self, indata: np.ndarray, outdata: np.ndarray, frames: int, time: Any, status: Any
    ) -> None:
        if not self._priority_set:
            self.priority = raise_thread_priority()
            self._priority_set = True
        process = self._process
        if process is None:
            outdata.fill(0.0)
            return
        process(indata if self.input_channels else None, outdata, bool(status))

    def start(self, process: Process) -> None:
        """Initialise PortAudio (held until `stop`) and start the stream."""
        sd = self._held.enter_context(portaudio())
        try:
            # Found again: indices belong to one PortAudio initialisation.
            self.index, _ = find_device(sd, self.device, self.host_api)
            self._process = process
            self._stream = self._open(sd)
        except BackendError:
            self._release()
            raise
        except (sd.PortAudioError, ValueError) as exc:
            self._release()
            raise BackendError(f"{self.name}: cannot open the stream: {exc}") from None
        latency = self._stream.latency
        latency = latency if isinstance(latency, tuple) else (0.0, latency)
        self.input_latency = round(latency[0] * self.sample_rate)
        self.output_latency = round(latency[1] * self.sample_rate)

    def _open(self, sd: Any) -> Any:
        if self.input_channels:
            stream = sd.Stream(
                device=(self.index, self.index),
                samplerate=self.sample_rate,
                blocksize=self.block_size,
                dtype="float32",
                channels=(self.input_channels, self.channels),
                callback=self._callback,
                latency="low",
            )
        else:
            stream = sd.OutputStream(
                device=self.index,
                samplerate=self.sample_rate,
                blocksize=self.block_size,
                dtype="float32",
                channels=self.channels,
                callback=lambda out, frames, t, status: self._callback(
                    None, out, frames, t, status
                ),
                latency="low",
            )
        try:
            stream.start()
        except BaseException:
            stream.close()
            raise
        return stream

    def _release(self) -> None:
        self._process = None
        self._held.close()

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        stream.stop()
        stream.close()
        self._release()
