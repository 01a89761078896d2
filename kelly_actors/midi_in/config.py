"""The MIDI input actor's options (``[actors.options]`` of
``kelly_actors.midi_in.actor:MidiInActor``).

::

    [actors.options]
    api = "jack"              # jack | alsa | coremidi | auto (rtmidi's backends)
    client = "kelly-midi-in"  # the port appears as kelly-midi-in:in …
    port = "in"
    connect = ""              # … or connect to the first source whose name contains this

    [actors.options.listener]  # the symbolic listener (kelly_actors.symbolic.listener)
    window_s = 8.0

    [[actors.options.cc]]      # a knob on CC 1 sets arousal (0…127 → 0…1)
    number = 1
    axis = "arousal"

    [[actors.options.cc]]      # a footswitch on CC 64: panic when pressed
    number = 64
    command = "panic"

A bad table (a CC number out of 0…127, an unknown command, a lock without its axis, the
same CC twice) is a ``ConfigError`` naming its key before the performance starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kelly_actors.config.typed import Checked, setting
from kelly_actors.symbolic.listener import ListenerSettings

#: rtmidi's backends by name (the MIDI output's ``api`` takes the same).
APIS = ("jack", "alsa", "coremidi", "auto")
AXES = ("valence", "arousal", "dominance")
#: What a CC can trigger: the control verbs of ``kelly ctl`` that make sense on a pedal.
COMMANDS = ("panic", "lock", "unlock", "restart")
#: Each axis's range (a CC's 0…127 is scaled onto it).
AXIS_RANGES = {"valence": (-1.0, 1.0), "arousal": (0.0, 1.0), "dominance": (0.0, 1.0)}


@dataclass(frozen=True)
class CcMap(Checked):
    """One ``[[actors.options.cc]]``: a controller → an emotion axis or a command.

    Attributes:
        number: the controller number (0–127).
        channel: the MIDI channel (0–15) it listens on; None: every channel.
        axis: valence, arousal or dominance: the CC value 0…127 scaled onto the axis's
            range sets that axis like ``kelly ctl set-emotion`` (the other axes keep
            their values).
        command: panic, lock, unlock or restart: sent through the supervisor like
            ``kelly ctl`` when the value rises through ``threshold`` (a pedal pressed).
        target: the axis a lock/unlock holds or frees, the actor a restart restarts.
        threshold: the value (1–127) a command's controller must reach from below.
    """

    number: int = setting(low=0, high=127)
    channel: int | None = setting(None, low=0, high=15)
    axis: str = ""
    command: str = ""
    target: str = ""
    threshold: int = setting(64, low=1, high=127)

    def __post_init__(self) -> None:
        super().__post_init__()
        what = f"cc {self.number}"
        if bool(self.axis) == bool(self.command):
            raise ValueError(f"{what}: give either axis or command (one of them)")
        if self.axis and self.axis not in AXES:
            raise ValueError(f"{what}: axis must be one of {', '.join(AXES)}, got {self.axis!r}")
        if self.command and self.command not in COMMANDS:
            raise ValueError(
                f"{what}: command must be one of {', '.join(COMMANDS)}, got {self.command!r}"
            )
        if self.command in ("lock", "unlock") and self.target not in AXES:
            raise ValueError(
                f"{what}: {self.command} needs target = one of {', '.join(AXES)}, "
                f"got {self.target!r}"
            )
        if self.command == "restart" and not self.target:
            raise ValueError(f"{what}: restart needs target = the actor's name")
        if self.target and (self.command == "panic" or self.axis):
            raise ValueError(f"{what}: target is only for lock, unlock and restart")

    def matches(self, channel: int, number: int) -> bool:
        return number == self.number and (self.channel is None or self.channel == channel)


@dataclass(frozen=True)
class MidiInConfig(Checked):
    """Where the MIDI input comes from, what the listener hears and what CCs do.

    Attributes:
        api: rtmidi's backend: jack (a JACK MIDI port; its process callback is rtmidi's
            C++, no Python in the JACK thread), alsa, coremidi or auto.
        client: the client name (JACK renames a taken one: kelly-midi-in-01).
        port: the input port's name.
        connect: empty: a port of our own that others connect to (``jack_connect``);
            else the first source whose name contains this text is connected.
        ring: the ring the listener's estimates go to (read by the composer); empty: no
            listener (CCs only).
        composer: the composer actor's name (the CCs' calls go to it).
        listener: the symbolic listener's settings.
        cc: the controller mappings.
        poll_s: seconds between two looks at the port's queue (the input's latency).
        publish_s: seconds between two estimates written on the ring while notes count.
        queue_size: messages rtmidi queues between two looks; a flood beyond it is lost
            in rtmidi (which says so on stderr).
        max_bytes_per_step: MIDI bytes parsed per step at most; the rest wait for the
            next step, so a SysEx flood never starves heartbeats or commands.
        retry_s: seconds between two tries to open a port that failed to open.
        reply_timeout_s: a command the supervisor has not answered within this is
            counted as failed.
        axis_interval_s: a CC mapped to an axis sends at most one change per this many
            seconds (a knob sweep is many messages; the newest value wins).
    """

    api: str = setting("jack", choices=APIS)
    client: str = "kelly-midi-in"
    port: str = "in"
    connect: str = ""
    ring: str = "midi_in"
    composer: str = "composer"
    listener: ListenerSettings = field(default_factory=ListenerSettings)
    cc: tuple[CcMap, ...] = ()
    poll_s: float = setting(0.005, low=0.001, high=0.1)
    publish_s: float = setting(0.1, low=0.01, high=5.0)
    queue_size: int = setting(32768, low=64, high=1 << 20)
    max_bytes_per_step: int = setting(1 << 18, low=1024, high=1 << 24)
    retry_s: float = setting(2.0, above=0.0)
    reply_timeout_s: float = setting(6.0, above=0.0)
    axis_interval_s: float = setting(0.05, low=0.0, high=5.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.client or not self.port:
            raise ValueError("client and port must not be empty")
        seen: list[CcMap] = []
        for m in self.cc:
            for other in seen:
                same_channel = m.channel is None or other.channel in (None, m.channel)
                if other.number == m.number and same_channel:
                    raise ValueError(f"cc {m.number} is mapped twice (on the same channel)")
            seen.append(m)
