"""kelly report reads what a run left as far as it is readable, and says what is missing."""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from report_support import (
    RATE,
    T0,
    bar_detail,
    event_lines,
    write_events,
    write_midi,
    write_wav,
)

from kelly_actors.cli import main
from kelly_actors.report import decimate, load, timeline
from kelly_actors.report.build import build
from kelly_actors.supervisor.events import EventLog


def _take(tmp_path: Path) -> Path:
    take = tmp_path / "take"
    take.mkdir(mode=0o700)
    return take


def test_a_log_cut_mid_line_keeps_every_whole_event_and_says_it_was_cut(tmp_path: Path) -> None:
    take = _take(tmp_path)
    lines = event_lines(60.0)
    write_events(take, lines, cut_last=True)
    found = load.find(take)
    assert len(found.events.records) == len(lines) - 1
    assert found.events.cut_short and found.events.bad_lines == 0
    assert any("cut short" in m for m in found.missing)


def test_a_log_holding_two_runs_reports_the_last_and_says_so(tmp_path: Path) -> None:
    take = _take(tmp_path)
    first = event_lines(30.0)
    second = [json.dumps({"time": T0 + 100, "event": "run_started", "detail": {}})]
    second.append("not json at all")
    second.append(json.dumps({"time": T0 + 101, "event": "bar", "detail": bar_detail(0, T0 + 102)}))
    write_events(take, first + second)
    events = load.read_events(take)
    assert events.earlier_runs == 1 and events.bad_lines == 1
    assert [r["event"] for r in events.records] == ["run_started", "bar"]


def test_rotated_logs_are_read_oldest_first(tmp_path: Path) -> None:
    take = _take(tmp_path)
    log = EventLog(take / "events.jsonl", max_bytes=400, keep=5)
    for n in range(20):
        log.write("command", cmd="ping", args={"n": n})
    log.close()
    assert (take / "events.jsonl.1").exists()
    records = load.read_events(take).records
    numbers = [r["detail"]["args"]["n"] for r in records]
    assert numbers == sorted(numbers) and numbers[-1] == 19


def test_a_wav_killed_before_its_header_update_is_read_whole(tmp_path: Path) -> None:
    take = _take(tmp_path)
    frames = write_wav(take / "output.wav", 2.0)
    extra = np.full((RATE // 2, 2), 1000, np.int16)
    with open(take / "output.wav", "ab") as f:  # samples the header never counted
        f.write(extra.tobytes())
    wav = load.read_wav(take / "output.wav", "output", 1)
    assert wav.header_frames == frames and len(wav.frames) == frames + RATE // 2
    assert wav.recovered and int(wav.frames[-1, 0]) == 1000
    assert any("not finished" in m for m in load.find(take).missing)


def test_an_rf64_header_is_read_through_its_ds64_sizes(tmp_path: Path) -> None:
    take = _take(tmp_path)
    path = take / "output.wav"
    frames = write_wav(path, 1.0)
    with open(path, "r+b") as f:  # the header as the writer leaves it past 4 GiB
        head = bytearray(f.read(80))
        size = os.path.getsize(path)
        head[0:8] = b"RF64" + struct.pack("<I", 0xFFFFFFFF)
        head[12:20] = b"ds64" + struct.pack("<I", 28)
        head[20:44] = struct.pack("<QQQ", size - 8, frames * 4, frames)
        head[76:80] = struct.pack("<I", 0xFFFFFFFF)
        f.seek(0)
        f.write(head)
    wav = load.read_wav(path, "output", 1)
    assert len(wav.frames) == frames and not wav.recovered


def test_a_directory_of_another_user_is_refused(tmp_path: Path, monkeypatch) -> None:
    take = _take(tmp_path)
    write_events(take, event_lines(10.0))
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(take).st_uid + 1)
    with pytest.raises(load.Refused, match="not to you"):
        load.find(take)


def test_a_directory_others_may_write_or_a_link_is_refused(tmp_path: Path) -> None:
    take = _take(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(take)
    with pytest.raises(load.Refused, match="symbolic link"):
        load.find(link)
    take.chmod(0o777)
    with pytest.raises(load.Refused, match="writable by others"):
        load.find(take)


def test_kelly_report_refuses_another_users_directory_with_exit_1(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    take = _take(tmp_path)
    write_events(take, event_lines(10.0))
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(take).st_uid + 1)
    assert main(["report", str(take)]) == 1
    assert "another user's session" in capsys.readouterr().err
    assert not (take / "report.html").exists()


def test_without_matplotlib_kelly_report_says_what_to_install(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    take = _take(tmp_path)
    write_events(take, event_lines(10.0))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    assert main(["report", str(take)]) == 1
    assert "pip install 'kelly-actors[report]'" in capsys.readouterr().err


def test_notes_are_placed_at_their_bars_times_from_the_log(tmp_path: Path) -> None:
    take = _take(tmp_path)
    write_midi(take, 4)
    bars = {n: {"t": 10.0 + 3.0 * n} for n in range(4)}  # bars 3 s apart, not 2 s
    notes = timeline.read_notes(sorted(take.glob("segment-*.mid")), bars)
    melody = notes.tracks.index("melody")
    starts = np.sort(notes.start[notes.track == melody])
    assert starts[:5] == pytest.approx([10.0, 10.5, 11.0, 11.5, 13.0])
    bass = notes.track == notes.tracks.index("bass")
    assert (notes.end[bass] - notes.start[bass]) == pytest.approx(np.full(4, 1.75))


def test_a_cut_midi_segment_is_named_and_the_rest_is_read(tmp_path: Path) -> None:
    take = _take(tmp_path)
    write_midi(take, 3)
    (take / "segment-0002.mid").write_bytes(b"MThd\x00\x00")
    notes = timeline.read_notes(sorted(take.glob("segment-*.mid")), {})
    assert len(notes.start) == 15
    assert notes.problems and "segment-0002.mid" in notes.problems[0]


def test_typed_commands_read_as_the_performer_typed_them() -> None:
    feel = {"cmd": "call", "args": {"actor": "composer", "method": "feel",
                                    "args": {"text": "so tired"}}}  # fmt: skip
    setting = {"cmd": "call", "args": {"actor": "composer", "method": "set_emotion",
                                       "args": {"valence": 0.5, "arousal": 0.8,
                                                "dominance": 0.6}}}  # fmt: skip
    assert timeline.describe_command(feel) == 'feel "so tired"'
    assert timeline.describe_command(setting) == "set-emotion 0.5 0.8 0.6"
    assert timeline.describe_command({"cmd": "panic", "args": {}}) == "panic"
    restart = {"cmd": "restart", "args": {"actor": "synth"}}
    assert timeline.describe_command(restart) == "restart synth"


def test_the_envelope_keeps_a_single_sample_spike() -> None:
    samples = np.zeros(1_000_003, np.int16)
    samples[777_777] = 32000
    samples[12] = -32000
    lo, hi = decimate.envelope(samples, 1400)
    assert len(lo) == 1400 and hi.max() == 32000 and lo.min() == -32000
    even = np.zeros(1400 * 1000, np.float32)
    even[5] = 0.5
    lo, hi = decimate.envelope(even, 1400)
    assert hi[0] == 0.5 and hi[1:].max() == 0.0


def test_a_decimated_series_keeps_its_extremes_and_ends() -> None:
    t = np.linspace(0, 10_800, 500_000)
    y = np.sin(t)
    y[123_456] = 9.0
    dt, dy = decimate.series(t, y, (0, 10_800), 1400)
    assert len(dt) <= 4 * 1400 and np.all(np.diff(dt) >= 0)
    assert dy.max() == 9.0 and dt[0] == 0 and dt[-1] == 10_800


def test_a_raster_counts_every_event_once() -> None:
    times = np.random.default_rng(1).uniform(0, 3600, 50_000)
    x, n = decimate.raster(times, (0, 3600), 1400)
    assert n.sum() == 50_000 and len(x) <= 1400


def test_a_crashed_run_renders_with_what_is_there_and_every_event_in_its_tables(
    tmp_path: Path,
) -> None:
    take = _take(tmp_path)
    lines = event_lines(120.0, underruns_per_s=20.0)  # 2400 under-run records
    write_events(take, lines, cut_last=True)
    write_wav(take / "output.wav", 10.0)
    with open(take / "output.wav", "ab") as f:
        f.write(np.zeros((RATE, 2), np.int16).tobytes())
    write_midi(take, 20)
    assert len(timeline.build(load.find(take)).notes.start) == 20 * 5  # the piano roll's
    built = build(take)
    html = built.html.read_text()
    assert built.html == take / "report.html" and len(built.pngs) == 4
    assert all(p.exists() and p.stat().st_mode & 0o077 == 0 for p in (built.html, *built.pngs))
    assert "run.json: not written" in html and "cut short" in html and "not finished" in html
    # Every record but the cut one is a row of the last table; the performer's words escaped.
    events_table = html.rsplit("<h2>Every event", 1)[1]
    assert events_table.count("<tr>") == 1 + len(lines) - 1
    assert "I feel &lt;calm&gt; &amp; &quot;tired&quot;" in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 4
    assert not re.search(r"https?://", html)


def test_a_take_with_only_its_audio_renders_and_says_the_rest_is_missing(tmp_path: Path) -> None:
    take = _take(tmp_path)
    write_wav(take / "output.wav", 3.0)
    built = build(take)
    html = built.html.read_text()
    assert "events.jsonl: none here" in html and "segment-*.mid: no MIDI" in html
    assert html.count('<img src="data:image/png;base64,') == 4


def test_a_directory_with_nothing_of_a_run_is_refused(tmp_path: Path, capsys) -> None:
    take = _take(tmp_path)
    assert main(["report", str(take)]) == 1
    assert "nothing to report" in capsys.readouterr().err


def test_a_run_that_ended_as_it_started_still_renders(tmp_path: Path) -> None:
    take = _take(tmp_path)
    write_events(take, event_lines(0.0)[:1])
    assert build(take).html.exists()  # filterwarnings=error: no singular axis either
