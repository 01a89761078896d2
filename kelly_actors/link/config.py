"""``[actors.options.link]``: the audio actor's Ableton Link session.

::

    [actors.options.link]
    enabled = true
    mode = "follow"          # or "lead"
    quantum = 4              # beats per bar: Kelly's bar lines fall on the session's
    start_stop_sync = false

Each range is metadata on its field, so a wrong value is a ``ConfigError`` naming
the table and the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from kelly_actors.config.typed import Checked, setting

MODES = ("follow", "lead")
#: Kelly's bars are four beats; its bar lines fall on the session's only where the
#: quantum is a whole number of bars.
QUANTA = (4, 8, 16)


@dataclass(frozen=True)
class LinkSettings(Checked):
    """The clock's Link session.

    Attributes:
        enabled: join a Link session (needs the ``link`` extra: ``aalink``).
        mode: ``follow`` — the session's tempo and phase rule; the composer's tempo is
            a request: proposed to the session when it moved ``request_step_bpm``
            from Kelly's last proposal, and another peer's change stands until then.
            ``lead`` — Kelly's bar phase is forced on the session when it joins, and
            its tempo wins: another peer's change is undone at once (counted).
        quantum: beats per bar on the Link timeline (4, 8 or 16).
        start_stop_sync: share start/stop with the session: while it is stopped the
            composer writes nothing; a leading Kelly starts it and stops it.
        request_step_bpm: follow mode: how far (bpm) the composer's tempo must move
            from Kelly's last proposal before it is proposed again.
        tempo_min / tempo_max: the tempo range Kelly plays (bpm); a session outside is
            followed at the nearest bound, out of phase, and counted.
        max_jump_bpm: a session tempo change bigger than this (bpm) is not followed at
            once but slewed to at ``slew_bpm_per_s``, then the phase locks again.
        slew_bpm_per_s: how fast (bpm per second) Kelly's tempo moves after a jump.
        tolerance_ms: a clock off the session's beat by more than this (ms) is corrected.
        poll_ms: how often (ms) the Link thread looks at the session and the clock.
    """

    enabled: bool = False
    mode: str = setting("follow", choices=MODES)
    quantum: int = setting(4, choices=QUANTA)
    start_stop_sync: bool = False
    request_step_bpm: float = setting(2.0, above=0.0, high=100.0)
    tempo_min: float = setting(40.0, low=20.0, high=400.0)
    tempo_max: float = setting(240.0, low=20.0, high=400.0)
    max_jump_bpm: float = setting(30.0, above=0.0, high=500.0)
    slew_bpm_per_s: float = setting(60.0, above=0.0, high=10_000.0)
    tolerance_ms: float = setting(0.25, above=0.0, high=50.0)
    poll_ms: float = setting(5.0, low=1.0, high=50.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tempo_min >= self.tempo_max:
            raise ValueError(
                f"tempo_min ({self.tempo_min:g}) must be below tempo_max ({self.tempo_max:g})"
            )
