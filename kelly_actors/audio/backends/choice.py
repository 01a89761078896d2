"""Which sound device ``backend = "auto"`` plays through, chosen once per run.

The order: a running JACK server (the native client; through PortAudio's JACK host API
when the server's period is not the performance's block), then PortAudio's default
output device (the default host API's first, then the others'), and ``null`` — clocked
silence — only where there is none. ``kelly run`` calls :func:`resolve` in the watchdog,
before the first fork: the options it writes go to every supervisor and every audio actor
incarnation of the run, so a restart or a successor never chooses again.

Probing starts nothing and keeps nothing: it runs in a short-lived child process
(``python -m kelly_actors.audio.backends.choice``), because libjack keeps threads and
shared memory in a process after its client closes — one of them crashed a process
whose JACK server went away later — and the watchdog forks every supervisor after the
probe. In the child the JACK client is opened with ``no_start_server`` and closed without
being activated, libjack's complaints about a missing server are collected instead of
printed, and PortAudio is initialised only for the look and terminated after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from kelly_actors.audio.backends.base import BackendError
from kelly_actors.config.performance import PerformanceConfig, with_options
from kelly_actors.config.typed import from_mapping

#: The backend value that asks for the automatic choice.
AUTO = "auto"
#: The actors whose ``backend = "auto"`` is resolved.
AUDIO_TARGET = "kelly_actors.audio.actor:AudioActor"
#: What the start lines say when nothing can be heard.
SILENT = "no audio device: playing silently"
#: How long the probing child may take (s): PortAudio's host APIs answer in well under one.
PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class AudioChoice:
    """The outcome of the automatic choice.

    Attributes:
        backend: ``jack``, ``sounddevice`` or ``null``.
        options: the audio actor's options that replace ``backend = "auto"`` (the backend,
            and for PortAudio the device's exact name, its host API and the input channels
            it can give), as (key, value) pairs.
        device: what plays, in words (e.g. ``JACK server 'default'``).
        why: why it was chosen, in words: what was found, and what was passed over.
    """

    backend: str
    options: tuple[tuple[str, Any], ...]
    device: str
    why: str

    @property
    def silent(self) -> bool:
        return self.backend == "null"


def server_name() -> str:
    """The JACK server a client connects to (``JACK_DEFAULT_SERVER``, else ``default``)."""
    return os.environ.get("JACK_DEFAULT_SERVER") or "default"


def _jack_server() -> tuple[int, int] | None:
    """The running JACK server's (rate Hz, period frames), or None when none answers."""
    try:
        import jack
    except (ImportError, OSError):
        return None
    heard: list[str] = []
    # libjack prints why it cannot connect; a probe that finds nothing must say nothing.
    jack.set_error_function(heard.append)
    jack.set_info_function(heard.append)
    try:
        client = jack.Client(f"kelly-probe-{os.getpid()}", no_start_server=True)
        try:
            return int(client.samplerate), int(client.blocksize)
        finally:
            client.close()  # never activated: the server never waited for it
    except jack.JackError:
        return None
    finally:
        jack.set_error_function(None)
        jack.set_info_function(None)


def probe_jack(
    sample_rate: int, block_size: int, input_channels: int
) -> tuple[dict[str, Any] | None, str]:
    """Options for a running JACK server that the performance fits, or None; and why."""
    server = server_name()
    found = _jack_server()
    if found is None:
        return None, f"no JACK server {server!r} running"
    rate, period = found
    if rate != sample_rate:
        return (
            None,
            f"JACK server {server!r} runs at {rate} Hz, the performance at {sample_rate} Hz",
        )
    if period == block_size:
        return {
            "backend": "jack"
        }, f"JACK server {server!r} is running ({rate} Hz, {period} frames)"
    options, why = probe_portaudio(sample_rate, 2, input_channels, jack_only=True)
    if options is None:
        return None, f"JACK server {server!r}'s period is {period} frames, not {block_size}; {why}"
    return options, (
        f"JACK server {server!r} is running at {rate} Hz with a {period}-frame period (the "
        f"performance's block is {block_size}): through PortAudio's JACK host API, which re-blocks"
    )


def _fits(sd: Any, index: int, sample_rate: int, channels: int, inputs: int) -> tuple[bool, int]:
    """Whether device ``index`` plays ``channels`` at ``sample_rate``, and how many of the
    ``inputs`` wanted it also records (0 when it records none at this rate)."""
    try:
        sd.check_output_settings(
            device=index, samplerate=sample_rate, channels=channels, dtype="float32"
        )
    except (sd.PortAudioError, ValueError):
        return False, 0
    if not inputs:
        return True, 0
    try:
        sd.check_input_settings(
            device=index, samplerate=sample_rate, channels=inputs, dtype="float32"
        )
    except (sd.PortAudioError, ValueError):
        return True, 0
    return True, inputs


def probe_portaudio(
    sample_rate: int, channels: int, input_channels: int, jack_only: bool = False
) -> tuple[dict[str, Any] | None, str]:
    """Options for PortAudio's default output device (the default host API's, then each
    other host API's default output in turn) that plays ``channels`` at ``sample_rate``, or
    None; and why. ``jack_only``: look at the JACK host API alone."""
    from kelly_actors.audio.backends.device import portaudio

    passed: list[str] = []
    try:
        with portaudio() as sd:
            apis = sd.query_hostapis()
            devices = sd.query_devices()
            first = sd.default.hostapi
            order = [first, *(i for i in range(len(apis)) if i != first)] if first >= 0 else []
            for api in order:
                name = apis[api]["name"]
                if jack_only and "jack" not in name.lower():
                    continue
                index = apis[api]["default_output_device"]
                if index < 0:
                    continue
                device = devices[index]["name"]
                plays, inputs = _fits(sd, index, sample_rate, channels, input_channels)
                if not plays:
                    passed.append(f"{device} ({name}) cannot play {sample_rate} Hz stereo")
                    continue
                options = {
                    "backend": "sounddevice",
                    "device": device,
                    "host_api": name,
                    "input_channels": inputs,
                }
                why = f"PortAudio's default output is {device} ({name})"
                if input_channels and not inputs:
                    why += ", output only (it records nothing at this rate)"
                return options, "; ".join([*passed, why])
    except BackendError as exc:
        return None, str(exc)
    passed.append("PortAudio has no output device" if not passed else "no other output device")
    return None, "; ".join(passed)


def choose(sample_rate: int, block_size: int, input_channels: int) -> AudioChoice:
    """Probe JACK, then PortAudio, in a child process; ``null`` when neither can play the
    performance, or when the probe itself fails (its reason is the choice's ``why``)."""
    argv = [sys.executable, "-m", __name__, str(sample_rate), str(block_size), str(input_channels)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return _silent(f"the audio probe did not answer within {PROBE_TIMEOUT_S:.0f} s")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return _silent(f"the audio probe failed (exit {done.returncode}: {last})")
    return _from_json(done.stdout)


def _silent(why: str) -> AudioChoice:
    return AudioChoice("null", (("backend", "null"),), "none", why)


def _to_json(choice: AudioChoice) -> str:
    return json.dumps(
        {
            "backend": choice.backend,
            "options": dict(choice.options),
            "device": choice.device,
            "why": choice.why,
        }
    )


def _from_json(text: str) -> AudioChoice:
    lines = text.strip().splitlines()
    try:
        data = json.loads(lines[-1])
        options = tuple((str(k), v) for k, v in dict(data["options"]).items())
        return AudioChoice(str(data["backend"]), options, str(data["device"]), str(data["why"]))
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        return _silent(f"the audio probe answered something unreadable ({exc})")


def choose_here(sample_rate: int, block_size: int, input_channels: int) -> AudioChoice:
    """:func:`choose` in this process (the probing child's body): loads libjack and
    PortAudio here."""
    options, jack_why = probe_jack(sample_rate, block_size, input_channels)
    if options is not None:
        device = f"JACK server {server_name()!r}"
        return AudioChoice(options["backend"], tuple(options.items()), device, jack_why)
    options, pa_why = probe_portaudio(sample_rate, 2, input_channels)
    if options is not None:
        device = f"{options['device']} ({options['host_api']})"
        why = f"{jack_why}; {pa_why}"
        return AudioChoice("sounddevice", tuple(options.items()), device, why)
    return _silent(f"{jack_why}; {pa_why}")


def resolve(config: PerformanceConfig) -> tuple[PerformanceConfig, AudioChoice | None]:
    """The performance with every audio actor's ``backend = "auto"`` replaced by the
    device chosen (one probe for them all), and the choice; None when no actor asked."""
    from kelly_actors.audio.actor import AudioConfig

    auto = [
        a for a in config.actors if a.target == AUDIO_TARGET and a.options.get("backend") == AUTO
    ]
    if not auto:
        return config, None
    first = auto[0]
    cfg = from_mapping(AudioConfig, dict(first.options), f"actors.{first.name}.options")
    choice = choose(cfg.sample_rate, cfg.block_size, cfg.input_channels)
    for spec in auto:
        config = with_options(config, spec.name, **dict(choice.options))
    return config, choice


if __name__ == "__main__":
    rate, block, inputs = (int(a) for a in sys.argv[1:4])
    print(_to_json(choose_here(rate, block, inputs)))
