"""``w`` in ``kelly top`` writes the report of the running performance beside its recording."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from performance import Performance
from textual.pilot import Pilot

from kelly_actors.console.connection import resolve
from kelly_actors.console.top import TopApp, report_dir

pytestmark = pytest.mark.slow


async def _until(pilot: Pilot, app: TopApp, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {app.message}")
        await pilot.pause(0.05)


def _recording_shown(app: TopApp) -> bool:
    music = app.panels.get("music", "")
    return "recording " in music and "recording off" not in music


@pytest.mark.timeout(300)  # a starved machine: start (60 s), a bar, the report (120 s)
def test_w_in_kelly_top_writes_the_running_performances_report_beside_its_recording(
    run_dir: Path, tmp_path: Path
) -> None:
    take = tmp_path / "take"

    async def drive() -> None:
        app = TopApp(resolve(run_dir, None))
        async with app.run_test(size=(170, 52)) as pilot:
            log = take / "events.jsonl"
            await _until(pilot, app, lambda: log.exists() and '"bar"' in log.read_text(), 30, "bar")
            # "recording off" is drawn until the composer's telemetry names its file.
            await _until(pilot, app, lambda: _recording_shown(app), 30, "the recording's path")
            await pilot.press("w")
            await _until(pilot, app, lambda: app.message.startswith(("✓ report", "✗")), 120, "it")
            assert app.message == f"✓ report: {take / 'report.html'} (open it in a browser)"
            await pilot.press("q")

    args = ["--record", str(take), "--audio-device", "null"]
    with Performance(run_dir, None, args) as perf:
        perf.wait_ready(60)
        asyncio.run(drive())
        assert perf.stop() == 0
    html = (take / "report.html").read_text()
    assert "<h2>Bars (" in html and html.count('<img src="data:image/png;base64,') == 4


def test_the_report_goes_to_the_run_directory_of_an_unrecorded_local_run() -> None:
    snap = {"actors": [{"name": "composer", "telemetry": {"emotion": {}, "recording": None}}]}
    assert report_dir(snap, "ipc:///tmp/kelly-1/control.sock") == Path("/tmp/kelly-1")
    with pytest.raises(ValueError, match="its own machine"):
        report_dir(None, "tcp://stage:5556")
