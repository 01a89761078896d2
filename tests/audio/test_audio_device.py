"""The sounddevice backend holds PortAudio, and so a JACK client, only while it plays."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from service_skip import import_sounddevice

from kelly_actors.audio.backends.base import BackendError
from kelly_actors.audio.backends.device import SoundDeviceBackend, check_device, portaudio

#: A missing PortAudio fails every test here with what to install (scripts/setup does).
sd = import_sounddevice()


def test_checking_a_device_leaves_portaudio_released_so_this_process_is_no_jack_client(
    jack,
) -> None:
    # An initialised PortAudio is an active JACK client the server waits for every
    # cycle; the supervisor runs this check and then lives for the whole show.
    description = check_device("system", "JACK", 48_000, 2, 1)
    assert "JACK" in description
    assert sd._initialized == 0


def test_a_failed_check_releases_portaudio_too(jack) -> None:
    with pytest.raises(BackendError, match="no audio device matching 'no-such-card'"):
        check_device("no-such-card", "JACK", 48_000, 2, 1)
    assert sd._initialized == 0


def test_a_stream_holds_portaudio_from_start_to_stop(jack) -> None:
    backend = SoundDeviceBackend("system", "JACK", 48_000, 256, 2, 0)
    assert sd._initialized == 0
    played = threading.Event()

    def process(indata: np.ndarray | None, outdata: np.ndarray, xrun: bool) -> None:
        outdata.fill(0.0)
        played.set()

    backend.start(process)
    try:
        assert sd._initialized == 1
        assert played.wait(10), "no callback within 10 s"
    finally:
        backend.stop()
    assert sd._initialized == 0


def test_portaudio_blocks_nest_and_release_in_order() -> None:
    with portaudio() as outer:
        with portaudio():
            assert outer._initialized == 2
        assert outer._initialized == 1
    assert sd._initialized == 0
