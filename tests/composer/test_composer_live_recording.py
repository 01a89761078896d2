"""The crash-safe recording: valid after every bar, even after SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest

from kelly_actors.composer import BarComposer, map_emotion, midi_file
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.recorder import SegmentRecorder, next_segment_number
from kelly_actors.music.notes import Note

SUPPORT = Path(__file__).resolve().parent.parent / "support"


def composed_bars(count: int, seed: int = 5) -> list[tuple[list[Note], object]]:
    composer, state, bars = BarComposer(seed), None, []
    for bar in range(count):
        params = map_emotion(PAD(0.4, 0.6, 0.6), state.mode if state else None)
        notes, state = composer.compose_bar(bar, params, state)
        bars.append((notes, state))
    return bars


def markers(path: Path, prefix: str) -> list[str]:
    track = mido.MidiFile(str(path)).tracks[0]
    return [m.text for m in track if m.type == "marker" and m.text.startswith(prefix)]


def test_the_segment_is_a_valid_midi_file_after_every_bar(tmp_path: Path) -> None:
    recorder = SegmentRecorder(tmp_path, segment_bars=100)
    written: list[Note] = []
    for bar, (notes, state) in enumerate(composed_bars(6)):
        path = recorder.add_bar(bar, notes, 132.0, state.key, (0.4, 0.6, 0.6))
        written += [n.shifted(bar * 4) for n in notes]
        read = midi_file.read(path)
        assert markers(path, "bar ") == [f"bar {b}" for b in range(bar + 1)]
        assert read.key_changes[0].key == state.key
        assert read.tempo_changes[0].bpm == pytest.approx(132.0, abs=0.01)
    got = sorted((n.track, n.pitch, round(n.start_beat * 480)) for n in read.notes)
    want = sorted((n.track, n.pitch, round(n.start_beat * 480)) for n in written)
    assert got == want


def test_segments_roll_over_and_number_on(tmp_path: Path) -> None:
    recorder = SegmentRecorder(tmp_path, segment_bars=2)
    for bar, (notes, state) in enumerate(composed_bars(5)):
        recorder.add_bar(bar, notes, 120.0, state.key, (0.4, 0.6, 0.6))
    names = sorted(p.name for p in tmp_path.glob("*.mid"))
    assert names == ["segment-0001.mid", "segment-0002.mid", "segment-0003.mid"]
    assert markers(tmp_path / "segment-0003.mid", "bar ") == ["bar 4"]
    # Each segment opens with its key, so it plays on its own.
    assert markers(tmp_path / "segment-0002.mid", "key ") != []
    assert next_segment_number(tmp_path) == 4
    assert SegmentRecorder(tmp_path, 2).number + 1 == 4  # a restart starts segment 4


WRITER = """
import sys
from pathlib import Path
from kelly_actors.composer import BarComposer, map_emotion
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.recorder import SegmentRecorder
recorder = SegmentRecorder(Path(sys.argv[1]), segment_bars=10_000)
composer, state, bar = BarComposer(1), None, 0
print("started", flush=True)
while True:
    params = map_emotion(PAD(0.2, 0.9, 0.5), state.mode if state else None)
    notes, state = composer.compose_bar(bar, params, state)
    recorder.add_bar(bar, notes, 150.0, state.key, (0.2, 0.9, 0.5))
    bar += 1
"""


@pytest.mark.parametrize("delay", [0.3, 0.7, 1.1, 1.6])
def test_sigkill_at_any_moment_leaves_every_finished_bar_readable(
    tmp_path: Path, delay: float
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(SUPPORT.parent.parent)},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"started"
        time.sleep(delay)  # the point of the test: an arbitrary moment mid-write
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    segment = tmp_path / "segment-0001.mid"
    bars = markers(segment, "bar ")
    assert len(bars) >= 1
    assert bars == [f"bar {b}" for b in range(len(bars))]
    assert midi_file.read(segment).notes  # notes and all, parsed end to end
