"""An ensemble's inputs that the device cannot give are refused before the show with the
reason: JACK sources that do not exist or outnumber the ports, a PortAudio device with
fewer inputs than performers; and the engine copies each device channel to its column."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from performance import REPO, kelly

from kelly_actors.audio.backends.base import BackendError
from kelly_actors.audio.backends.device import _check_input_count
from kelly_actors.audio.backends.jack import check_inputs
from kelly_actors.audio.engine import copy_input


class FakeJack:
    """The part of a JACK-Client client ``check_inputs`` asks: the server's output ports."""

    def get_ports(self, **_: object) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=n) for n in ("system:capture_1", "system:capture_2")]


def test_more_jack_sources_than_input_ports_is_refused() -> None:
    with pytest.raises(BackendError, match="names 3 ports for input_channels = 2"):
        check_inputs(FakeJack(), 2, ("system:capture_1", "system:capture_2", "x:y"))


def test_a_jack_source_the_server_lacks_is_refused_naming_it() -> None:
    with pytest.raises(BackendError, match="no audio output port 'system:capture_9'"):
        check_inputs(FakeJack(), 3, ("system:capture_1", "system:capture_9"))
    check_inputs(FakeJack(), 3, ("system:capture_2",))  # fewer sources: the rest by hand


def test_a_portaudio_device_with_fewer_inputs_than_performers_is_refused_with_its_count() -> None:
    sd = SimpleNamespace(query_devices=lambda index: {"max_input_channels": 2})
    with pytest.raises(BackendError, match="input_channels = 4, but the device gives 2 input"):
        _check_input_count(sd, 0, "hw:0 (ALSA)", 4)
    _check_input_count(sd, 0, "hw:0 (ALSA)", 2)


def test_each_device_channel_goes_to_its_column_and_missing_ones_are_silence() -> None:
    block = np.full((4, 3), 9.0, np.float32)
    indata = np.arange(8, dtype=np.float32).reshape(4, 2)
    copy_input(indata, block)
    assert block[:, :2].tolist() == indata.tolist() and not block[:, 2].any()


def test_kelly_run_refuses_an_ensemble_whose_jack_source_is_missing(jack, run_dir) -> None:
    config = run_dir / "ensemble.toml"
    text = (REPO / "examples" / "ensemble.toml").read_text()
    config.write_text(
        text.replace(
            "input_channels = 3\n",
            'input_channels = 3\n\n[actors.options.jack]\nconnect_input = ["nobody:out"]\n',
        )
    )
    done = kelly("run", str(config), run_dir=run_dir, timeout=60)
    assert done.returncode != 0
    assert "actors.audio: jack.connect_input: the server has no audio output port 'nobody:out'" in (
        done.stderr + done.stdout
    )


def test_kelly_run_refuses_more_performers_than_a_portaudio_device_has_inputs(
    jack, run_dir
) -> None:
    config = run_dir / "ensemble.toml"
    text = (REPO / "examples" / "ensemble.toml").read_text()
    # PortAudio's JACK host API: its "system" device has the dummy server's two captures.
    config.write_text(
        text.replace(
            'backend = "jack"', 'backend = "sounddevice"\nhost_api = "JACK"\ndevice = "system"'
        )
    )
    done = kelly("run", str(config), run_dir=run_dir, timeout=60)
    assert done.returncode != 0
    assert "input_channels = 3, but the device gives 2 input channels" in done.stderr
    assert "Traceback" not in done.stderr
