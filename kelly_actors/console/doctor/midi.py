"""Can the composer's MIDI port open? (a throwaway virtual port, closed again)."""

from __future__ import annotations

import os

from kelly_actors.composer.live.midi_port import MidiPort
from kelly_actors.console.doctor.result import FAIL, PASS, SKIP, CheckResult


def check_midi(api: str, connect: str) -> CheckResult:
    """Open a virtual port (or connect to ``connect``) with python-rtmidi on ``api``."""
    if api == "none":
        off = "MIDI out is off in this config ([actors.options.midi] api = none)"
        return CheckResult("MIDI", SKIP, off)
    port = MidiPort(api, f"kelly-doctor-{os.getpid()}", "probe", connect)
    error = port.open()
    if error:
        return CheckResult("MIDI", FAIL, error)
    try:
        return CheckResult("MIDI", PASS, f"{api}: opened {port.name}")
    finally:
        port.close()
