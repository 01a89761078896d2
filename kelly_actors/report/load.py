"""What a run or a take left on disk, read as far as it is readable.

A directory is a **run directory** (``events.jsonl``, maybe rotated files) or a **take**
(``kelly run --record DIR``: ``events.jsonl``, ``run.json``, ``output*.wav``,
``input*.wav``, ``segment-NNNN.mid``), or both. Every reader here tolerates a run that
crashed: a last line cut short, a line that is not JSON, a WAV whose header was never
updated after its last samples, a MIDI segment cut short, no ``run.json``. What could
not be read is said in :attr:`Found.missing` (words for the page), never raised.

When a log holds several runs (a run directory or a take reused), the last run is
reported: its events from its ``run_started`` on, its MIDI segments written since.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kelly_actors.supervisor.events import rotated_paths

_WAV = re.compile(r"^(output|input)(?:-(\d+))?\.wav$")
_SEGMENT = re.compile(r"^segment-(\d{4,})\.mid$")


class Refused(OSError):
    """The directory is not one to read: another user's, a symbolic link, not a
    directory, or writable by others (anyone could have put files there)."""


@dataclass
class Events:
    """The last run's event records (dicts as written: ``time``, ``event``, ``detail``),
    in order, and what was wrong with the log."""

    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: int = 0
    cut_short: bool = False
    earlier_runs: int = 0
    files: list[Path] = field(default_factory=list)


@dataclass
class Wav:
    """One WAV segment: int16/int32/float32 frames as a read-only ``(frames, channels)``
    memory map (no copy: a 3-hour take is gigabytes), its rate (Hz), and whether its
    header undercounted the samples on disk (a run killed before the last update)."""

    path: Path
    what: str  # "output" or "input"
    incarnation: int
    rate: int
    frames: Any  # numpy.memmap (frames, channels)
    header_frames: int
    recovered: bool


@dataclass
class Found:
    directory: Path
    events: Events
    run: dict[str, Any] | None
    wavs: list[Wav]
    midi: list[Path]
    missing: list[str]


def check_directory(path: Path) -> Path:
    """``path`` if it is a directory this user owns and nobody else may write; else
    :class:`Refused` saying why (the report would show another person's session)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Refused(f"{path}: no such directory") from None
    if stat.S_ISLNK(st.st_mode):
        raise Refused(f"{path} is a symbolic link; give the directory itself")
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{path} is not a directory (give a run or recording directory)")
    if st.st_uid != os.geteuid():
        raise Refused(
            f"{path} belongs to uid {st.st_uid}, not to you (uid {os.geteuid()}); "
            "refusing to read another user's session"
        )
    if st.st_mode & 0o022:
        raise Refused(f"{path} is writable by others; refusing it (chmod go-w {path})")
    return path


def read_events(directory: Path) -> Events:
    """The last run's records from ``events.jsonl`` and its rotated files (oldest first)."""
    path = directory / "events.jsonl"
    files = [*rotated_paths(path), path] if path.exists() else rotated_paths(path)
    out = Events(files=files)
    records: list[dict[str, Any]] = []
    for file in files:
        with open(file, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        # Without a final newline the last line was cut mid-write (the writer was killed).
        tail = lines.pop() if lines else b""
        lines += [tail] if tail else []
        for number, line in enumerate(lines):
            try:
                record = json.loads(line)
            except ValueError:
                if tail and number == len(lines) - 1:
                    out.cut_short = True
                else:
                    out.bad_lines += 1
                continue
            if not isinstance(record, dict) or "event" not in record or "time" not in record:
                out.bad_lines += 1
                continue
            if not isinstance(record.get("detail"), dict):
                record["detail"] = {}
            if record["event"] == "run_started" and records:
                out.earlier_runs += 1
                records = []
            records.append(record)
    out.records = records
    return out


def read_run_json(directory: Path, missing: list[str]) -> dict[str, Any] | None:
    path = directory / "run.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        missing.append("run.json: not written (the run was not recorded, or did not end)")
        return None
    except (OSError, ValueError) as exc:
        missing.append(f"run.json: unreadable ({exc})")
        return None
    if not isinstance(data, dict):
        missing.append("run.json: not a JSON object")
        return None
    return data


def _chunks(f: Any, size: int) -> tuple[dict[str, Any], int, int]:
    """Walk a RIFF/RF64 file's chunks: the ``fmt `` fields, the data offset and the data
    size the header claims in bytes (from ``ds64`` in RF64)."""
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    fmt: dict[str, Any] = {}
    ds64_data = -1
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        chunk = f.read(8)
        cid, length = chunk[:4], int.from_bytes(chunk[4:8], "little")
        if cid == b"ds64":
            ds64_data = int.from_bytes(f.read(16)[8:16], "little")
        elif cid == b"fmt ":
            raw = f.read(16)
            fmt = {
                "tag": int.from_bytes(raw[0:2], "little"),
                "channels": int.from_bytes(raw[2:4], "little"),
                "rate": int.from_bytes(raw[4:8], "little"),
                "align": int.from_bytes(raw[12:14], "little"),
                "bits": int.from_bytes(raw[14:16], "little"),
            }
        elif cid == b"data":
            if not fmt:
                raise ValueError("data before fmt")
            claimed = ds64_data if length == 0xFFFFFFFF and ds64_data >= 0 else length
            return fmt, pos + 8, claimed
        pos += 8 + length + (length & 1)
    raise ValueError("no data chunk")


def read_wav(path: Path, what: str, incarnation: int) -> Wav:
    """A memory map of the samples; ValueError when the file is not a WAV read here.

    The frame count is what the file holds, not only what the header says: the writer
    updates the header after each flush, so a kill between a write and its header update
    leaves samples the header does not count (they are used, and the page says so)."""
    import numpy as np

    size = path.stat().st_size
    with open(path, "rb") as f:
        fmt, offset, claimed = _chunks(f, size)
    dtypes = {(1, 16): "<i2", (1, 32): "<i4", (3, 32): "<f4", (0xFFFE, 16): "<i2"}
    dtype = dtypes.get((fmt["tag"], fmt["bits"]))
    channels = fmt["channels"]
    if dtype is None or channels < 1 or fmt["align"] != channels * fmt["bits"] // 8:
        raise ValueError(f"{fmt['bits']}-bit format {fmt['tag']} is not read here")
    align = fmt["align"]
    on_disk = max(0, size - offset) // align
    header_frames = min(claimed // align, on_disk)
    frames = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(on_disk, channels))
    if on_disk == 0:
        frames = np.zeros((0, channels), dtype)
    recovered = on_disk > header_frames
    return Wav(path, what, incarnation, fmt["rate"], frames, header_frames, recovered)


def find(directory: Path) -> Found:
    """Everything in ``directory`` (checked with :func:`check_directory`)."""
    directory = check_directory(Path(directory))
    missing: list[str] = []
    events = read_events(directory)
    if not events.files:
        missing.append(
            "events.jsonl: none here (a recording made before this version keeps it in the "
            "run directory: give that)"
        )
    elif not events.records:
        missing.append("events.jsonl: no readable event")
    if events.cut_short:
        missing.append("events.jsonl: the last line was cut short (the run was killed)")
    if events.bad_lines:
        missing.append(f"events.jsonl: {events.bad_lines} unreadable line(s) left out")
    run = read_run_json(directory, missing)
    start = float(events.records[0]["time"]) if events.records else 0.0
    wavs: list[Wav] = []
    midi: list[tuple[int, Path]] = []
    for name in sorted(os.listdir(directory)):
        p = directory / name
        if (m := _WAV.match(name)) is not None:
            try:
                wavs.append(read_wav(p, m.group(1), int(m.group(2) or 1)))
            except (OSError, ValueError) as exc:
                missing.append(f"{name}: unreadable ({exc})")
        elif (m := _SEGMENT.match(name)) is not None and p.stat().st_mtime >= start - 1.0:
            # (older segments are an earlier run's, in a take reused by a later one)
            midi.append((int(m.group(1)), p))
    wavs.sort(key=lambda w: (w.what, w.incarnation))
    for w in wavs:
        if w.recovered:
            missing.append(
                f"{w.path.name}: the header counts {w.header_frames} frames, the file holds "
                f"{len(w.frames)} (not finished: the run was killed); all are shown"
            )
    if not any(w.what == "output" for w in wavs):
        missing.append("output.wav: no audio recording here (kelly run --record DIR)")
    if not midi:
        missing.append("segment-*.mid: no MIDI recording here (kelly run --record DIR)")
    return Found(directory, events, run, wavs, [p for _, p in sorted(midi)], missing)
