"""`kelly top` driven by Textual's Pilot against a real running performance."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from performance import REPO, Performance
from textual.pilot import Pilot

from kelly_actors.console.connection import resolve
from kelly_actors.console.top import TopApp

pytestmark = pytest.mark.slow

DOCS = REPO / "docs"
FEELING = "I feel grief"
KEYS = {" ": "space", ",": "comma"}


async def until(
    pilot: Pilot, app: TopApp, predicate: Callable[[], bool], timeout: float, what: str
):
    """Let the app run until ``predicate()`` holds; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {app.panels}")
        await pilot.pause(0.05)


def _actor_line(app: TopApp, name: str) -> str:
    return next(
        (line for line in app.panels.get("actors", "").splitlines() if line.startswith(name + " ")),
        "",
    )


class Listener:
    """Sends the composer an estimate as the inference actor does, at most once a second."""

    def __init__(self, perf: Performance) -> None:
        self.perf, self.sent = perf, 0.0

    def heard_in(self, app: TopApp) -> bool:
        """True once the panel shows the reading; else send one when due."""
        if "audio hears" in app.panels["emotion"]:
            return True
        if time.monotonic() - self.sent > 1.0:
            self.sent = time.monotonic()
            args = {"valence": -0.6, "arousal": 0.3, "dominance": 0.4, "confidence": 0.9}
            reply = self.perf.request("call", actor="composer", method="estimate", args=args)
            assert reply["accepted"], reply
        return False


async def drive(perf: Performance, run_dir: Path) -> None:
    app = TopApp(resolve(run_dir, None))
    names = [a["name"] for a in perf.status()["actors"]]
    async with app.run_test(size=(170, 52)) as pilot:
        await until(pilot, app, lambda: all(_actor_line(app, n) for n in names), 10, "the actors")
        assert "audio_out" in app.panels["buses"] and "latency budget" in app.panels["audio"]

        synth = perf.actor("synth")
        os.kill(synth["pid"], signal.SIGKILL)
        await until(
            pilot, app,
            lambda: "restarts=1" in _actor_line(app, "synth")
            and f"pid={synth['pid']}" not in _actor_line(app, "synth")
            and " ready " in _actor_line(app, "synth"),
            20, "the killed synth shown restarted",
        )  # fmt: skip
        assert "killed by SIGKILL" in perf.actor("synth")["last_exit"]

        await pilot.press("f", *(KEYS.get(c, c) for c in FEELING), "enter")
        await until(pilot, app, lambda: app.message.startswith("✓ feel"), 10, "feel confirmed")
        assert "grief" in app.message
        await until(
            pilot, app, lambda: "(text)" in app.panels["emotion"], 15, "the emotion panel to move"
        )
        assert "nearest grief" in app.panels["emotion"]

        await pilot.press("p")
        await until(pilot, app, lambda: app.message.startswith("✓ panic"), 10, "panic confirmed")
        await pilot.press("v")
        await until(pilot, app, lambda: app.message.startswith("✓ lock valence"), 10, "the lock")
        await until(pilot, app, lambda: "valence=" in app.panels["emotion"], 5, "the lock shown")

        # The dummy input is silence: the listener has no reading. Then it hears something
        # (the estimate path the inference actor uses), counted at the next bar line.
        assert "audio no listener reading" in " ".join(app.panels["emotion"].split())
        listener = Listener(perf)
        await until(pilot, app, lambda: listener.heard_in(app), 20, "the listener's reading")
        assert "(last 16 bars, conf ≥ 0.20)" in app.panels["emotion"]
        assert "audio hears V -0.60 A 0.30 D 0.40 conf 0.90" in " ".join(
            app.panels["emotion"].split()
        )
        assert "same quadrant" in app.panels["emotion"]
        app.save_screenshot(filename="kelly-top.svg", path=str(run_dir))

        await pilot.press("q")
    assert app.return_value == 0


def test_kelly_top_shows_actors_a_killed_actors_restart_a_feeling_and_a_panic(run_dir) -> None:
    with Performance(run_dir, None) as perf:
        perf.wait_ready()
        asyncio.run(drive(perf, run_dir))
        assert perf.stop() == 0
    screenshot = (run_dir / "kelly-top.svg").read_text()
    assert screenshot.lstrip().startswith("<svg")
    if os.environ.get("KELLY_WRITE_DOCS") == "1":  # refreshes the README's picture on purpose
        (DOCS / "kelly-top.svg").write_text(screenshot)


def test_a_refused_command_shows_its_error_on_the_message_line(run_dir) -> None:
    async def drive_refusal(perf: Performance) -> None:
        app = TopApp(resolve(run_dir, None))
        async with app.run_test(size=(170, 52)) as pilot:
            await until(pilot, app, lambda: "composer" in app.panels.get("actors", ""), 10, "rows")
            await pilot.press("f", "t", "a", "b", "l", "e", "enter")
            await until(pilot, app, lambda: app.message.startswith("✗ feel"), 10, "the refusal")
            assert "refused (refused): no emotion recognised" in app.message
            await pilot.press("q")

    with Performance(run_dir, None) as perf:
        perf.wait_ready()
        asyncio.run(drive_refusal(perf))
        assert perf.stop() == 0
