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

Crash safety: the encoded tracks are kept in memory and grow by one bar at a
time; after each bar the whole file is written to a temporary file in the
same directory and renamed over the segment (``os.replace`` is atomic). A
SIGKILL at any moment leaves the previous complete file, i.e. every bar up
to the last finished one. (The page cache survives a process's death; there
is no fsync, so a power cut may lose the last seconds.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import mido

from kelly_actors.music.notes import DRUM_CHANNEL, TRACKS, Note
from kelly_actors.music.theory import Key

TICKS_PER_BEAT = 480
_SEGMENT = re.compile(r"^segment-(\d{4,})\.mid$")
_END_OF_TRACK = b"\x00\xff\x2f\x00"
_TRACK_INDEX = {t.name: i for i, t in enumerate(TRACKS)}


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


class SegmentRecorder:
    """Appends bars to the current segment and keeps it valid on disk."""

    def __init__(self, take_dir: Path, segment_bars: int, title: str = "Kelly Actors") -> None:
        self.take_dir = Path(take_dir)
        self.segment_bars = segment_bars
        self.title = title
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
        """Append bar ``bar`` and rewrite the segment; returns its path. OSError if unwritable."""
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
        self.bars += 1
        self.total_bars += 1
        self._write()
        return self.path

    def _add_notes(self, start: int, notes: list[Note], beats_per_bar: int) -> None:
        bar_end = start + beats_per_bar * TICKS_PER_BEAT
        per_track: dict[int, list[tuple[int, int, bytes]]] = {}
        for n in notes:
            index = _TRACK_INDEX.get(n.track)
            if index is None:
                continue
            channel = TRACKS[index].channel
            on = start + round(n.start_beat * TICKS_PER_BEAT)
            off = min(bar_end, max(on + 1, start + round(n.end_beat * TICKS_PER_BEAT)))
            events = per_track.setdefault(index + 1, [])
            # Offs before ons at one tick, so a repeated pitch re-strikes cleanly.
            events.append((on, 1, bytes((0x90 | channel, n.pitch, n.velocity))))
            events.append((off, 0, bytes((0x80 | channel, n.pitch, 0))))
        for index, events in per_track.items():
            track = self._tracks[index]
            for tick, _, event in sorted(events, key=lambda e: (e[0], e[1])):
                track.add(max(tick, track.tick), event)

    def _write(self) -> None:
        assert self.path is not None
        header = b"MThd" + (6).to_bytes(4, "big")
        header += (1).to_bytes(2, "big") + len(self._tracks).to_bytes(2, "big")
        header += TICKS_PER_BEAT.to_bytes(2, "big")
        data = header + b"".join(t.chunk() for t in self._tracks)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path)
