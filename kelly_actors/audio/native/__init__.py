"""The audio callback as compiled code: no interpreter, no GIL, no allocation.

A device thread (JACK's process thread) runs :func:`jack_callback.process`, a
numba ``cfunc``, which does per cycle what :class:`kelly_actors.audio.engine.AudioEngine`
does in Python: the device input into ``audio_in``, ``audio_out`` (or the
hold-and-fade fallback) into the device, the sample counter, tempo and
transport, the recording buffers and the callback's own timing. It speaks the
rings' seqlock protocol on the same shared memory (:mod:`.core`), so the two
implementations are interchangeable and tested against each other.

- :mod:`.pointers`  raw addresses as typed pointers; libjack and libc entry points
- :mod:`.layout`    the state region shared by the callback and the actor's thread
- :mod:`.core`      ring reads and writes, the clock and the block (njit functions)
- :mod:`.cycles`    how late each cycle started, how long it took, what a miss is
- :mod:`.engine`    the actor's side: set-up, tempo requests, telemetry, recording
- :mod:`.midi_out`  MIDI out in the cycle: messages at their frames, MIDI clock
- :mod:`.midi_state` the actor's side of it: arrays, the ``midi`` ring's seat, figures
- :mod:`.jack_callback` the JACK process callback
- :mod:`.reference` a compiled reference client that measures the machine

Compiled code is cached on disk (numba), keyed by a digest of every source
its constants come from: numba checks only the timestamp of a function's own
file, so a changed layout in another module would otherwise leave stale
offsets in a cached callback.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba

_HERE = Path(__file__).resolve().parent
#: Every file whose constants the compiled code bakes in.
_SOURCES = (
    *sorted(_HERE.glob("*.py")),
    _HERE.parent / "engine.py",
    *sorted((_HERE.parent.parent / "bus").glob("ring*.py")),
    _HERE.parent.parent / "bus" / "midi_wire.py",
)


def _cache_dir() -> Path:
    digest = hashlib.sha256()
    for path in _SOURCES:
        digest.update(path.read_bytes())
    return _HERE / "__pycache__" / f"numba-{digest.hexdigest()[:16]}"


numba.config.CACHE_DIR = str(_cache_dir())
