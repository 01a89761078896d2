"""Live MIDI out through python-rtmidi: a virtual port, or a connection to a named one.

``api`` picks the backend: ``jack`` (JACK MIDI), ``alsa`` (the ALSA
sequencer), ``coremidi`` (macOS), ``auto`` (rtmidi's default) or ``none``.
With ``connect`` empty the port is *virtual*: ``CLIENT:PORT`` appears in the
MIDI graph for others to connect to. With ``connect`` set, the port is
connected to the first destination whose name contains that text.

Opening never raises: :meth:`MidiPort.open` returns an error string, and the
composer keeps composing (ring and recording) while it retries now and then.
"""

from __future__ import annotations

import os
import time

import rtmidi

from kelly_actors.bus.note_events import CC_ALL_NOTES_OFF, CC_ALL_SOUND_OFF, N_CHANNELS

APIS = {
    "jack": rtmidi.API_UNIX_JACK,
    "alsa": rtmidi.API_LINUX_ALSA,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "auto": rtmidi.API_UNSPECIFIED,
}
#: How MIDI leaves: ``rtmidi`` (this module) or ``jack`` (the audio actor's JACK cycle,
#: :mod:`kelly_actors.composer.live.jack_midi`).
OUTPUTS = ("rtmidi", "jack")
#: JACK delivers a message in the next process cycle; closing sooner loses it.
CLOSE_GRACE_S = 0.05


def _visible_in_jack(client: str, port: str) -> str | None:
    """The full name of our port as JACK lists it, or None.

    rtmidi's JACK backend opens a virtual port without complaint when no
    server runs; a second client listing the sources tells the truth. JACK
    renames a client whose name is taken ("kelly-01"), hence the prefix match.
    """
    probe = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="kelly-probe")
    try:
        for name in probe.get_ports():
            owner, _, port_name = name.partition(":")
            if owner.startswith(client) and port_name == port:
                return name
        return None
    finally:
        probe.delete()


class MidiPort:
    """One MIDI output port. ``send`` is cheap and never raises."""

    def __init__(self, api: str, client: str, port: str, connect: str = "") -> None:
        if api not in (*APIS, "none"):
            raise ValueError(f"MIDI api must be one of {', '.join([*APIS, 'none'])}, got {api!r}")
        self.api = api
        self.client = client
        self.port = port
        self.connect = connect
        self.out: rtmidi.MidiOut | None = None
        self.name = ""
        self.sent = 0
        self.errors = 0

    @property
    def enabled(self) -> bool:
        return self.api != "none"

    @property
    def is_open(self) -> bool:
        return self.out is not None

    def open(self) -> str:
        """Open the port; '' on success, else why not."""
        if not self.enabled or self.out is not None:
            return ""
        # Never let a JACK client start a server of its own behind our back.
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        try:
            out = rtmidi.MidiOut(rtapi=APIS[self.api], name=self.client)
        except (rtmidi.RtMidiError, SystemError, RuntimeError) as exc:
            return f"MIDI {self.api}: {exc}"
        try:
            if self.connect:
                ports = out.get_ports()
                matches = [i for i, p in enumerate(ports) if self.connect in p]
                if not matches:
                    out.delete()
                    return f"MIDI {self.api}: no destination matching {self.connect!r}"
                out.open_port(matches[0], name=self.port)
                self.name = f"{self.client}:{self.port} → {ports[matches[0]]}"
            else:
                out.open_virtual_port(self.port)
                self.name = f"{self.client}:{self.port}"
                if self.api == "jack":
                    visible = _visible_in_jack(self.client, self.port)
                    if visible is None:
                        out.close_port()
                        out.delete()
                        return "MIDI jack: no JACK server (the port did not appear)"
                    self.name = visible
        except (rtmidi.RtMidiError, SystemError, RuntimeError) as exc:
            out.delete()
            return f"MIDI {self.api}: {exc}"
        self.out = out
        return ""

    def send(self, message: bytes | list[int]) -> None:
        if self.out is None:
            return
        try:
            self.out.send_message(message)
            self.sent += 1
        except (rtmidi.RtMidiError, SystemError, RuntimeError, ValueError):
            self.errors += 1

    def all_notes_off(self) -> None:
        """All Notes Off and All Sound Off on every channel."""
        for channel in range(N_CHANNELS):
            self.send([0xB0 | channel, CC_ALL_NOTES_OFF, 0])
            self.send([0xB0 | channel, CC_ALL_SOUND_OFF, 0])

    def close(self) -> None:
        if self.out is None:
            return
        time.sleep(CLOSE_GRACE_S)
        try:
            self.out.close_port()
        finally:
            self.out.delete()
            self.out = None
