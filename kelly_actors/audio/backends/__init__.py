"""Audio backends: where blocks come from and go to.

- ``null``: clocked silence, no device (the default: ``kelly run`` works anywhere).
- ``file``: a WAV file as the input, paced in real time.
- ``sounddevice``: any PortAudio device, chosen by name and host API (JACK here).

A backend calls ``process(indata, outdata, xrun)`` once per block: from
PortAudio's thread for a device, from the actor's loop (``pump``) for the
paced ones.
"""

from __future__ import annotations

from kelly_actors.audio.backends.base import Backend, BackendError
from kelly_actors.audio.backends.paced import FileBackend, NullBackend

__all__ = ["Backend", "BackendError", "FileBackend", "NullBackend"]
