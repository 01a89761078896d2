"""One MIDI input port through python-rtmidi: a port of our own, or a connection to a
named source; what status says about it.

rtmidi queues each message its backend delivers (on JACK: from rtmidi's own C++ process
callback, so no Python runs in the JACK thread and a busy actor never makes the JACK
graph late); :meth:`InputPort.messages` takes them from the queue without blocking.
SysEx is let through (``ignore_types(sysex=False)``) so that the parser can count it;
MIDI clock and active sensing are dropped by rtmidi.

Opening never raises: :meth:`InputPort.open` returns why not, and the actor stays
degraded, trying again. On JACK, a second client (JACK-Client, never activated, so it
is no part of the graph) finds the port's full name, proves a server runs (rtmidi's
backend opens a port without complaint when none does) and lists what is connected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import rtmidi

APIS = {
    "jack": rtmidi.API_UNIX_JACK,
    "alsa": rtmidi.API_LINUX_ALSA,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "auto": rtmidi.API_UNSPECIFIED,
}
_ERRORS = (rtmidi.RtMidiError, SystemError, RuntimeError, OSError)


class JackProbe:
    """A JACK client outside the graph that reads port names and connections."""

    def __init__(self, name: str) -> None:
        import jack  # JACK-Client: only this path needs libjack

        self.client = jack.Client(name, no_start_server=True)

    def find_input(self, client: str, port: str) -> str | None:
        """Our port's full name (JACK may have renamed the client ``client-01``)."""
        for p in self.client.get_ports(is_midi=True, is_input=True):
            owner, _, name = p.name.partition(":")
            if owner.startswith(client) and name == port:
                return p.name
        return None

    def connections(self, full_name: str) -> list[str]:
        try:
            return [p.name for p in self.client.get_all_connections(full_name)]
        except Exception:  # the port went away: nothing is connected to it
            return []

    def close(self) -> None:
        self.client.close()


class InputPort:
    """The MIDI input. :meth:`messages` is cheap and never raises."""

    def __init__(self, api: str, client: str, port: str, connect: str, queue_size: int) -> None:
        if api not in APIS:
            raise ValueError(f"MIDI api must be one of {', '.join(APIS)}, got {api!r}")
        self.api = api
        self.client = client
        self.port = port
        self.connect = connect
        self.queue_size = queue_size
        self.midi: rtmidi.MidiIn | None = None
        self.probe: JackProbe | None = None
        #: The port's full name once open ("kelly-midi-in:in", or "… ← source").
        self.name = ""
        #: The source ``connect`` named, once connected to it.
        self.source = ""
        self.errors = 0

    @property
    def is_open(self) -> bool:
        return self.midi is not None

    def open(self) -> str:
        """Open the port; '' on success, else why not."""
        if self.midi is not None:
            return ""
        # Never let a JACK client start a server of its own behind our back.
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        if self.api == "jack":
            try:
                self.probe = JackProbe(f"{self.client}-probe")
            except Exception as exc:  # jack.JackOpenError, or no libjack at all
                return f"MIDI in (jack): no JACK server ({exc})"
        try:
            midi = rtmidi.MidiIn(
                rtapi=APIS[self.api], name=self.client, queue_size_limit=self.queue_size
            )
        except _ERRORS as exc:
            self._close_probe()
            return f"MIDI in ({self.api}): {exc}"
        try:
            midi.ignore_types(sysex=False, timing=True, active_sense=True)
            why = self._open_port(midi)
        except _ERRORS as exc:
            why = f"MIDI in ({self.api}): {exc}"
        if why:
            midi.delete()
            self._close_probe()
            return why
        self.midi = midi
        return ""

    def _open_port(self, midi: rtmidi.MidiIn) -> str:
        if self.connect:
            sources = midi.get_ports()
            matches = [i for i, p in enumerate(sources) if self.connect in p]
            if not matches:
                listed = ", ".join(sources) or "none"
                return (
                    f"MIDI in ({self.api}): no source matching {self.connect!r} (sources: {listed})"
                )
            midi.open_port(matches[0], name=self.port)
            self.source = sources[matches[0]]
        else:
            midi.open_virtual_port(self.port)
        self.name = f"{self.client}:{self.port}"
        if self.probe is not None:
            found = self.probe.find_input(self.client, self.port)
            if found is None:
                midi.close_port()
                return "MIDI in (jack): the port did not appear in the JACK graph"
            self.name = found
        return ""

    def messages(self, max_bytes: int) -> Iterator[list[int]]:
        """Queued messages, oldest first, until about ``max_bytes`` bytes were taken."""
        midi = self.midi
        taken = 0
        while midi is not None and taken < max_bytes:
            try:
                got = midi.get_message()
            except _ERRORS:
                self.errors += 1
                return
            if got is None:
                return
            data = got[0]
            taken += len(data)
            yield data

    def connections(self) -> list[str] | None:
        """What is connected to the port (JACK); None where that cannot be known."""
        if self.midi is None:
            return []
        if self.probe is not None:
            return self.probe.connections(self.name)
        return [self.source] if self.source else None

    def _close_probe(self) -> None:
        if self.probe is not None:
            self.probe.close()
            self.probe = None

    def close(self) -> None:
        midi, self.midi = self.midi, None
        if midi is not None:
            try:
                midi.close_port()
            finally:
                midi.delete()
        self._close_probe()
