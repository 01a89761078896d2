"""A crash-safe live recording: Standard MIDI File segments rewritten whole after each bar.

Layout: ``<directory>/<take>/segment-NNNN.mid``. A take is one performance;
each composer incarnation starts the next numbered segment, and a segment
rolls over after ``segment_bars`` bars so the per-bar rewrite stays small.

Each segment is a type-1 file at 480 ticks per beat, tick 0 at its first bar
line, laid out like :mod:`kelly_actors.composer.midi_file` writes (so
:func:`midi_file.read` reads it back): track 0 the conductor — time
signature, a ``bar N`` marker at every bar line (N = the performance's bar
number), ``set_tempo`` when the tempo changes, key signature plus a ``key
TONIC MODE`` marker when the key changes, and a ``emotion V A D`` text event
per bar; then one track per part with its name and General MIDI program.

The notes are encoded as the ``notes`` ring's events are
(:func:`~kelly_actors.composer.live.events.bar_events`, in ticks instead of samples),
so the recording, the synth and the MIDI port hear the same note-offs.

Crash safety: the encoded tracks are kept in memory and grow by one bar at a
time; after each bar the whole file is rewritten with
:func:`~kelly_actors.files.atomic_write` (a temporary file renamed over the
segment). A SIGKILL at any moment leaves the previous complete file, i.e.
every bar up to the last finished one. (The page cache survives a process's
death; there is no fsync, so a power cut may lose the last seconds.)

Faults: a rewrite that fails — a full disk, the directory removed — stops the
recording. The segment keeps its last complete version (the failed temporary file
is removed; on a removed directory there is nothing left to keep), ``on_stop`` is
called with the ``recording_stopped`` event's fields, and :meth:`SegmentRecorder.add_bar`
raises :class:`RecordingStopped` then and on every later call, so the caller stops
recording and the music goes on.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mido

from kelly_actors.bus.note_events import CHANNEL, TIME
from kelly_actors.composer.live.events import bar_events, midi_message
from kelly_actors.composer.midi_file import TICKS_PER_BEAT
from kelly_actors.files import atomic_write
from kelly_actors.music.notes import DRUM_CHANNEL, TRACKS, Note
from kelly_actors.music.theory import Key

_SEGMENT = re.compile(r"^segment-(\d{4,})\.mid$")
_END_OF_TRACK = b"\x00\xff\x2f\x00"
#: Channel → the segment's track holding it (track 0 is the conductor).
_TRACK_OF_CHANNEL = {t.channel: i + 1 for i, t in enumerate(TRACKS)}


def _vlq(value: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta(kind: int, data: bytes) -> bytes:
    return bytes((0xFF, kind)) + _vlq(len(data)) + data


def _text(kind: int, text: str) -> bytes:
    return _meta(kind, text.encode("latin-1", "replace"))


def _key_signature(key: Key) -> bytes:
    """Meta 0x59 for the key's signature name (e.g. D dorian → 'C'), encoded by mido."""
    return bytes(mido.MetaMessage("key_signature", key=key.signature()).bytes())


class _TrackBytes:
    """One track's encoded events (no end-of-track) and its last tick."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.tick = 0

    def add(self, tick: int, event: bytes) -> None:
        self.data += _vlq(tick - self.tick) + event
        self.tick = tick

    def chunk(self) -> bytes:
        body = bytes(self.data) + _END_OF_TRACK
        return b"MTrk" + len(body).to_bytes(4, "big") + body


def next_segment_number(take_dir: Path) -> int:
    """1 + the highest ``segment-NNNN.mid`` number in ``take_dir`` (1 when none)."""
    numbers = [
        int(m.group(1)) for p in take_dir.glob("segment-*.mid") if (m := _SEGMENT.match(p.name))
    ]
    return max(numbers, default=0) + 1


class RecordingStopped(OSError):
    """The recording stopped (``errno``/``strerror`` from the OS error, ``filename`` the
    segment); ``bars`` were recorded before it, each in a complete segment file."""

    def __init__(self, code: int | None, reason: str, path: Path | None, bars: int) -> None:
        super().__init__(code, reason, str(path))
        self.bars = bars

    def detail(self) -> dict[str, Any]:
        """The ``recording_stopped`` event's fields: ``path``, ``reason`` (words), ``error``
        (the errno's name, e.g. ``ENOSPC``; "" when none) and ``bars`` recorded."""
        code = self.errno
        return {
            "path": str(self.filename),
            "reason": str(self.strerror),
            "error": errno.errorcode.get(code, "") if code is not None else "",
            "bars": self.bars,
        }


class SegmentRecorder:
    """Appends bars to the current segment and keeps it valid on disk.

    Args:
        take_dir: the take's directory (made, with its parents, when missing).
        segment_bars: bars per segment before the next one starts.
        title: the conductor track's name prefix.
        on_stop: called once, with :meth:`RecordingStopped.detail`'s fields as keywords,
            when a write fails and the recording stops (e.g.
            ``functools.partial(ctx.emit, "recording_stopped")``).
    """

    def __init__(
        self,
        take_dir: Path,
        segment_bars: int,
        title: str = "Kelly Actors",
        on_stop: Callable[..., None] | None = None,
    ) -> None:
        self.take_dir = Path(take_dir)
        self.segment_bars = segment_bars
        self.title = title
        self.on_stop = on_stop
        #: Why the recording stopped (None while it records).
        self.stopped: RecordingStopped | None = None
        self.take_dir.mkdir(parents=True, exist_ok=True)
        self.number = next_segment_number(self.take_dir) - 1
        self.path: Path | None = None
        self.bars = 0
        self.first_bar = 0
        self.total_bars = 0
        self._tracks: list[_TrackBytes] = []
        self._tempo: float | None = None
        self._key: Key | None = None

    def _start_segment(self, bar: int) -> None:
        self.number += 1
        self.path = self.take_dir / f"segment-{self.number:04d}.mid"
        self.first_bar = bar
        self.bars = 0
        self._tempo = None
        self._key = None
        conductor = _TrackBytes()
        conductor.add(0, _text(0x03, f"{self.title} segment {self.number} from bar {bar}"))
        conductor.add(0, _meta(0x58, bytes((4, 2, 24, 8))))
        self._tracks = [conductor]
        for track in TRACKS:
            part = _TrackBytes()
            part.add(0, _text(0x03, track.name))
            if track.channel != DRUM_CHANNEL:
                part.add(0, bytes((0xC0 | track.channel, track.program)))
            self._tracks.append(part)

    def add_bar(
        self,
        bar: int,
        notes: list[Note],
        tempo: float,
        key: Key,
        emotion: tuple[float, float, float],
        beats_per_bar: int = 4,
    ) -> Path:
        """Append bar ``bar`` (its ``notes``, ``tempo`` bpm, ``key``, ``emotion`` V A D) and
        rewrite the segment; returns its path. Raises :class:`RecordingStopped` (an
        OSError) when the rewrite fails, and on every call after that."""
        if self.stopped is not None:
            raise self.stopped
        if self.path is None or self.bars >= self.segment_bars:
            self._start_segment(bar)
        start = self.bars * beats_per_bar * TICKS_PER_BEAT
        conductor = self._tracks[0]
        conductor.add(start, _text(0x06, f"bar {bar}"))
        if tempo != self._tempo:
            micros = round(60_000_000 / tempo)
            conductor.add(start, _meta(0x51, micros.to_bytes(3, "big")))
            self._tempo = tempo
        if key != self._key:
            conductor.add(start, _key_signature(key))
            conductor.add(start, _text(0x06, f"key {key.name}"))
            self._key = key
        conductor.add(start, _text(0x01, "emotion {:.3f} {:.3f} {:.3f}".format(*emotion)))
        self._add_notes(start, notes, beats_per_bar)
        try:
            self._write()
        except OSError as exc:
            self.stopped = RecordingStopped(
                exc.errno, exc.strerror or str(exc), self.path, self.total_bars
            )
            if self.on_stop is not None:
                self.on_stop(**self.stopped.detail())
            raise self.stopped from exc
        self.bars += 1
        self.total_bars += 1
        return self.path

    def _add_notes(self, start: int, notes: list[Note], beats_per_bar: int) -> None:
        bar_ticks = beats_per_bar * TICKS_PER_BEAT
        for row in bar_events(notes, start, TICKS_PER_BEAT, bar_ticks):
            track = self._tracks[_TRACK_OF_CHANNEL[int(row[CHANNEL])]]
            message = midi_message(row)
            if message is not None:
                track.add(max(int(row[TIME]), track.tick), message)

    def _write(self) -> None:
        assert self.path is not None
        header = b"MThd" + (6).to_bytes(4, "big")
        header += (1).to_bytes(2, "big") + len(self._tracks).to_bytes(2, "big")
        header += TICKS_PER_BEAT.to_bytes(2, "big")
        atomic_write(self.path, header + b"".join(t.chunk() for t in self._tracks))
