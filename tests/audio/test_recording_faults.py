"""Recordings on bad disks: a full disk and a directory removed mid-run stop the recording
with a ``recording_stopped`` event, keep what was written valid, and the music goes on.

The disks are real: a small tmpfs mounted for the test (root only; CI runs as root).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
import soundfile
from performance import Performance, wait_until

from kelly_actors.audio import wav
from kelly_actors.composer import BarComposer, map_emotion, midi_file
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.recorder import RecordingStopped, SegmentRecorder

BLOCK = 4801  # frames per write: not a divisor of a page, so writes end mid-page


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``small_disk("256k")``: a fresh tmpfs of that size, unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mounts: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk{len(mounts)}"
        point.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(point)],
            check=True,
            capture_output=True,
        )
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        # Lazy: a process of a failed test may still hold a file there.
        subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` up, then free ``leave`` bytes (rounded to pages by tmpfs)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\xaa" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        if leave:
            f.truncate(max(0, f.seek(0, os.SEEK_END) - leave))


def counting(frames: int, channels: int, start: int = 0) -> np.ndarray:
    """float32 (frames, channels) of distinct 16-bit values: a lost sample shows."""
    n = np.arange(start * channels, (start + frames) * channels, dtype=np.int64)
    return ((((n * 7919) % 65535) - 32767) / 32767.0).astype(np.float32).reshape(-1, channels)


def as_pcm(frames: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(frames * 32767.0), -32768, 32767).astype("<i2")


# -- the WAV writer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "riff_limit"),
    [(2, wav.RIFF_LIMIT), (1, wav.RIFF_LIMIT), (3, wav.RIFF_LIMIT), (2, 64 * 1024)],
    ids=["stereo", "mono", "three-channels-torn-frame", "stereo-rf64"],
)
def test_a_full_disk_stops_the_writer_and_leaves_a_valid_wav_of_whole_frames(
    small_disk, channels, riff_limit
) -> None:
    path = small_disk("256k") / "output.wav"
    writer = wav.WavWriter(path, 48_000, channels, riff_limit=riff_limit)
    blocks = []
    with pytest.raises(wav.RecordingError) as caught:
        for k in range(1000):  # 256 KiB are full after a few dozen
            blocks.append(counting(BLOCK, channels, start=k * BLOCK))
            writer.write(blocks[-1])
            writer.flush()
    err = caught.value
    assert err.errno == errno.ENOSPC and writer.closed
    assert err.detail() == {
        "path": str(path),
        "reason": os.strerror(errno.ENOSPC),
        "error": "ENOSPC",
        "frames": err.frames,
    }
    # Everything the disk took, up to the last whole frame (the failed write's start too).
    assert len(blocks) * BLOCK > err.frames > (len(blocks) - 1) * BLOCK - BLOCK
    assert path.stat().st_size == wav.HEADER_BYTES + err.frames * 2 * channels
    want = as_pcm(np.concatenate(blocks))[: err.frames]
    got, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    assert rate == 48_000
    np.testing.assert_array_equal(got, want)
    if riff_limit == wav.RIFF_LIMIT:
        with wave.open(str(path)) as reader:
            assert reader.getnframes() == err.frames
    else:
        assert path.read_bytes()[:4] == b"RF64"
    writer.close()  # closing a stopped writer does nothing


def test_a_writer_on_a_disk_already_full_fails_at_once_and_leaves_no_file(small_disk) -> None:
    disk = small_disk("128k")
    fill(disk)
    with pytest.raises(wav.RecordingError) as caught:
        wav.WavWriter(disk / "output.wav", 48_000, 2)
    assert caught.value.errno == errno.ENOSPC and caught.value.frames == 0
    assert not (disk / "output.wav").exists()


def test_a_removed_directory_stops_the_writer_at_its_next_flush_and_frees_the_space(
    small_disk,
) -> None:
    disk = small_disk("1m")
    take = disk / "take"
    take.mkdir()
    writer = wav.WavWriter(take / "output.wav", 48_000, 2)
    writer.write(counting(48_000, 2))
    writer.flush()
    shutil.rmtree(take)
    writer.write(counting(BLOCK, 2))  # the OS still takes bytes for an unlinked file
    with pytest.raises(wav.RecordingError) as caught:
        writer.flush()
    assert caught.value.errno == errno.ENOENT and writer.closed
    assert caught.value.detail()["error"] == "ENOENT"
    assert "removed" in caught.value.detail()["reason"]
    assert not take.exists()
    # Closed, so the unlinked file no longer holds the disk's space.
    stat = os.statvfs(disk)
    assert stat.f_bfree * stat.f_frsize > 1000 * 1024 - 64 * 1024


# -- the composer's MIDI recorder ------------------------------------------------------------


def cycled_bars(count: int) -> Iterator[tuple[int, Any, Any]]:
    """(bar, notes, state) for ``count`` bars: eight composed bars, repeated."""
    composer, state, composed = BarComposer(5), None, []
    for bar in range(8):
        params = map_emotion(PAD(0.4, 0.6, 0.6), state.mode if state else None)
        notes, state = composer.compose_bar(bar, params, state)
        composed.append((notes, state))
    for bar in range(count):
        notes, state = composed[bar % 8]
        yield bar, notes, state


def test_the_midi_recorder_stops_on_a_full_disk_with_one_event_keeping_its_last_segment(
    small_disk,
) -> None:
    disk = small_disk("256k")
    fill(disk, leave=24 * 1024)  # the segment and its rewrite's temporary copy must fit
    events: list[dict[str, Any]] = []
    recorder = SegmentRecorder(disk / "take", 10_000, on_stop=lambda **d: events.append(d))
    with pytest.raises(RecordingStopped) as caught:
        for bar, notes, state in cycled_bars(5000):
            recorder.add_bar(bar, notes, 120.0, state.key, (0.4, 0.6, 0.6))
    err = caught.value
    assert err.errno == errno.ENOSPC and err.bars == recorder.total_bars > 0
    segment = disk / "take" / "segment-0001.mid"
    assert events == [
        {
            "path": str(segment),
            "reason": os.strerror(errno.ENOSPC),
            "error": "ENOSPC",
            "bars": err.bars,
        }
    ]
    midi_file.read(segment)  # a complete file
    conductor = mido.MidiFile(str(segment)).tracks[0]
    bars = [m.text for m in conductor if m.type == "marker" and m.text.startswith("bar ")]
    assert bars == [f"bar {b}" for b in range(err.bars)]
    assert [p.name for p in (disk / "take").iterdir()] == ["segment-0001.mid"]  # no temporary
    # Stopped for good: the next bar raises again, without a second event.
    _, notes, state = next(cycled_bars(1))
    with pytest.raises(RecordingStopped):
        recorder.add_bar(err.bars, notes, 120.0, state.key, (0.4, 0.6, 0.6))
    assert len(events) == 1


def test_the_midi_recorder_stops_when_its_directory_is_removed(tmp_path) -> None:
    events: list[dict[str, Any]] = []
    take = tmp_path / "take"
    recorder = SegmentRecorder(take, 10_000, on_stop=lambda **d: events.append(d))
    bars = cycled_bars(3)
    for bar, notes, state in [next(bars), next(bars)]:
        recorder.add_bar(bar, notes, 120.0, state.key, (0.4, 0.6, 0.6))
    shutil.rmtree(take)
    bar, notes, state = next(bars)
    with pytest.raises(RecordingStopped) as caught:
        recorder.add_bar(bar, notes, 120.0, state.key, (0.4, 0.6, 0.6))
    assert caught.value.errno == errno.ENOENT
    assert [(e["error"], e["bars"]) for e in events] == [("ENOENT", 2)]
    assert not take.exists()


# -- a real performance ----------------------------------------------------------------------

#: Seconds to wait for a recording to fail, for the music after it, for the run's end.
DEADLINE_S = 60


def _stopped(perf: Performance, actor: str) -> dict[str, Any] | None:
    """``actor``'s ``recording_stopped`` event in the run's log (None until there)."""
    for event in perf.events():
        detail = event["detail"]
        if event["event"] == "recording_stopped" and detail.get("actor") == actor:
            return detail
    return None


def _music_goes_on(perf: Performance) -> None:
    """The clock runs on and the composer composes on, after both recordings stopped."""
    composer = perf.actor("composer")["telemetry"]["bars"]
    sample = perf.status()["transport"]["sample_counter"]
    perf.wait_actor(
        "composer", lambda a: a["telemetry"]["bars"] > composer, DEADLINE_S, "another bar"
    )
    # The transport figure in status is the supervisor's last reading: wait for a newer one.
    wait_until(
        lambda: perf.status()["transport"]["sample_counter"] > sample,
        DEADLINE_S,
        "the clock to run on",
    )


def _check_no_restart(perf: Performance, record: Path) -> None:
    restarting = [e for e in perf.events() if e["event"] == "actor_restarting"]
    assert restarting == []
    summary = json.loads((record / "run.json").read_text())
    assert summary["restarts"]["audio"] == 0 and summary["restarts"]["composer"] == 0


@pytest.mark.slow
def test_a_full_recording_disk_stops_the_recordings_with_events_and_the_run_goes_on(
    run_dir, small_disk
) -> None:
    disk = small_disk("512k")
    record = disk / "take"
    # Taken back once the recordings stopped, so run.json has room at the end (a disk
    # still full then: see the test below).
    reserve = disk / "reserve"
    reserve.write_bytes(b"\0" * 64 * 1024)
    args = ["--duration", str(DEADLINE_S), "--record", str(record)]
    with Performance(run_dir, None, args) as perf:
        audio = wait_until(lambda: _stopped(perf, "audio"), DEADLINE_S, "audio to stop")
        wait_until(lambda: _stopped(perf, "composer"), DEADLINE_S, "the MIDI to stop")
        assert audio["error"] == "ENOSPC" and audio["reason"] == os.strerror(errno.ENOSPC)
        assert audio["path"] == str(record / "output.wav") and audio["frames"] > 0
        _music_goes_on(perf)
        assert perf.actor("audio")["restarts"] == 0
        reserve.unlink()
        assert perf.stop() == 0, perf.stderr()
    _check_no_restart(perf, record)
    # What was written before the disk filled is a valid WAV of exactly those frames.
    output = record / "output.wav"
    assert output.stat().st_size == wav.HEADER_BYTES + audio["frames"] * 4
    with wave.open(str(output)) as reader:
        assert reader.getnframes() == audio["frames"] and reader.getnchannels() == 2
    samples, info = wav.read(output)
    assert info.frames == audio["frames"] and samples.shape == (audio["frames"], 2)


@pytest.mark.slow
def test_a_removed_recording_directory_stops_the_recordings_and_the_run_goes_on(
    run_dir, tmp_path
) -> None:
    record = tmp_path / "take"
    output = record / "output.wav"
    args = ["--duration", str(DEADLINE_S), "--record", str(record)]
    with Performance(run_dir, None, args) as perf:

        def recording() -> bool:
            segments = list(record.glob("segment-*.mid"))
            return bool(segments) and output.exists() and output.stat().st_size > 192_000

        wait_until(recording, DEADLINE_S, "a second of audio and a bar of MIDI")

        def removed() -> bool:
            # The composer may put a temporary file in it while rm -rf runs: try again.
            subprocess.run(["rm", "-rf", str(record)], check=False, capture_output=True)
            return not record.exists()

        wait_until(removed, 10, "rm -rf of the recording directory")
        audio = wait_until(lambda: _stopped(perf, "audio"), DEADLINE_S, "audio to stop")
        wait_until(lambda: _stopped(perf, "composer"), DEADLINE_S, "the MIDI to stop")
        assert audio["error"] == "ENOENT" and audio["path"] == str(output)
        _music_goes_on(perf)
        assert not record.exists()  # nothing recorded into a directory made anew
        assert perf.actor("audio")["restarts"] == 0
        assert perf.stop() == 0, perf.stderr()
    _check_no_restart(perf, record)  # run.json: the supervisor makes the directory again
    assert not output.exists()


@pytest.mark.slow
def test_a_recording_disk_still_full_at_the_end_still_ends_the_run_cleanly(
    run_dir, small_disk
) -> None:
    record = small_disk("512k") / "take"
    args = ["--duration", str(DEADLINE_S), "--record", str(record)]
    with Performance(run_dir, None, args) as perf:
        wait_until(lambda: _stopped(perf, "audio"), DEADLINE_S, "audio to stop")
        wait_until(lambda: _stopped(perf, "composer"), DEADLINE_S, "the MIDI to stop")
        assert perf.stop() == 0, perf.stderr()
        unwritable = [e for e in perf.events() if e["event"] == "run_summary_unwritable"]
        assert unwritable and "No space left" in unwritable[0]["detail"]["error"]
