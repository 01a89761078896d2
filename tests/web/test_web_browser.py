"""``kelly web`` in a real browser (Debian's headless Chromium) against a real performance.

One performance, one ``kelly web`` and one browser for the module. Screenshots of each
page go to the pytest temporary directory (``web-screenshots``), printed at the end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from performance import Performance, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from toml_config import default_with_osc, performance_toml
from web_support import WebServer, chromium, web_server, write_take

pytestmark = pytest.mark.slow

FEELING = "I feel furious and enraged"


@dataclass
class Room:
    perf: Performance
    server: WebServer
    browser: WebDriver
    shots: Path
    work: Path

    def shot(self, name: str) -> None:
        self.browser.save_screenshot(str(self.shots / f"{name}.png"))

    def tab(self, name: str) -> None:
        self.browser.execute_script(f"location.hash = '#{name}'")
        self.until(lambda: self.js(f"return document.getElementById('{name}').offsetParent"), 10,
                   f"the {name} tab")  # fmt: skip

    def js(self, script: str) -> Any:
        return self.browser.execute_script(script)

    def until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        return wait_until(predicate, timeout, what, interval=0.1)

    def texts(self, css: str) -> list[str]:
        """The visible text of each element ``css`` matches, read in one script: the page
        redraws its lists on every status message, so an element found first and read
        later may already be gone (a stale element)."""
        return self.browser.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".filter(e => e.checkVisibility()).map(e => e.innerText);",
            css,
        )

    def text(self, css: str) -> str:
        return " ".join(self.texts(css))


def patient_performance() -> str:
    """The built-in performance (null audio, OSC on a free port) that a starved machine does
    not end: these tests watch the console, not the restart policy, and a CI machine shared
    by several test runs can starve actors past their heartbeat timeout many times."""
    data = tomllib.loads(default_with_osc(port=0))
    for actor in data["actors"]:
        actor["heartbeat_timeout"] = 10.0
    supervisor = {**data["supervisor"], "max_restarts": 1000}
    return performance_toml(data["actors"], data["rings"], **supervisor)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    shots = tmp_path_factory.mktemp("web-screenshots")
    work = tmp_path_factory.mktemp("web-browser")
    run_dir = Path(tempfile.mkdtemp(prefix="kw-", dir="/tmp"))  # short: ipc paths ≤ 107 bytes
    write_take(work / "takes" / "take-1")
    try:
        with Performance(run_dir, patient_performance()) as perf:
            perf.wait_ready(90)
            with web_server(
                run_dir, work, "--takes", str(work / "takes"), "--train-dir", str(work / "train")
            ) as server, chromium() as browser:  # fmt: skip
                browser.get(server.url)
                yield Room(perf, server, browser, shots, work)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        print(f"\nweb console screenshots: {shots}")


def _row_state(room: Room, actor: str) -> tuple[str, int, str]:
    row = room.js(
        f"const r = document.querySelector('#actors tr[data-actor=\"{actor}\"]');"
        "return r && [r.dataset.state, Number(r.querySelector('.restarts').textContent),"
        " r.children[2].textContent];"
    )
    return tuple(row) if row else ("", -1, "")


def test_the_live_page_shows_every_actor_the_buses_and_the_audio(room: Room) -> None:
    room.tab("live")
    names = [a["name"] for a in room.perf.status()["actors"]]
    room.until(lambda: all(_row_state(room, n)[0] == "ready" for n in names), 30, "every actor")
    assert "audio_out" in room.text("#rings") and "latency budget" in room.text("#budget-text")
    assert "bpm" in room.text("#music-now") and room.text("#conn") == "live"
    room.until(lambda: len(room.browser.find_elements(By.CSS_SELECTOR, "#events li")), 10,
               "the event log")  # fmt: skip
    room.shot("live")
    # A phone: nothing wider than the screen but the tables, which scroll in their panels.
    room.browser.set_window_size(390, 844)
    try:
        overflow = room.js("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        room.shot("live-phone")
    finally:
        room.browser.set_window_size(1280, 1400)


def test_typing_a_feeling_moves_the_composers_emotion_within_two_bars_and_the_plot_shows_it(
    room: Room,
) -> None:
    composer = room.perf.actor("composer")["telemetry"]
    before_bar = composer["bar"]
    room.tab("control")
    box = room.browser.find_element(By.ID, "feel-text")
    box.send_keys(FEELING)
    box.submit()
    reply = room.until(lambda: room.text("#replies li.ok"), 15, "feel confirmed")
    understood = json.loads(reply.split("feel: ", 1)[1])
    assert understood["nearest"][0] in ("fury", "rage", "anger", "furious", "enraged")
    landing = understood["from_bar"]
    # Typing takes a while on a busy machine: the two bars count from the composer's bar
    # once the command has been answered.
    after_bar = room.perf.actor("composer")["telemetry"]["bar"]
    assert before_bar <= landing <= after_bar + 2
    target = understood["target"] or {}
    room.shot("control")

    room.tab("live")

    def moved() -> dict[str, Any] | None:
        t = room.perf.actor("composer")["telemetry"]
        return t if t["bar"] >= landing and t["emotion"]["source"] == "text" else None

    now = room.until(moved, 30, "the composer playing the feeling")
    assert now["bar"] <= landing + 2, "the feeling took more than two bars"
    valence = now["emotion"]["valence"]
    assert valence < composer["emotion"]["valence"] - 0.1  # fury is unpleasant
    if target:
        assert abs(valence - target["valence"]) < abs(
            composer["emotion"]["valence"] - target["valence"]
        )
    # The plot ends on what the composer plays (the status stream is the plot's only source).
    room.until(
        lambda: abs(float(room.js("return document.getElementById('plot-valence').dataset.fused")
                          or 9) - room.perf.actor("composer")["telemetry"]["emotion"]["valence"])
        < 0.05, 10, "the valence plot to show the new emotion",
    )  # fmt: skip
    assert "from text" in room.text("#emotion-now")
    room.shot("live-feeling")


def test_the_sliders_locks_and_panic_answer_as_kelly_ctl_does(room: Room) -> None:
    room.tab("control")
    room.js("document.getElementById('v').value = 0.6; document.getElementById('a').value = 0.8;")
    room.browser.find_element(By.CSS_SELECTOR, "#vad-form button").click()
    room.until(lambda: "set-emotion: {" in room.text("#replies li.ok"), 15, "set-emotion")
    room.browser.find_element(By.CSS_SELECTOR, "input.lock[data-axis=arousal]").click()
    room.until(lambda: "lock: {" in room.text("#replies li.ok"), 15, "the lock")
    room.until(lambda: "arousal" in room.perf.actor("composer")["telemetry"]["locks"], 15,
               "the composer holding arousal")  # fmt: skip
    room.browser.find_element(By.CSS_SELECTOR, "input.lock[data-axis=arousal]").click()
    room.until(lambda: "unlock: {" in room.text("#replies li.ok"), 15, "the unlock")
    room.browser.find_element(By.ID, "panic").click()
    room.until(lambda: "panic: {" in room.text("#replies li.ok"), 15, "panic")
    # A refusal shows the supervisor's error: a restart of an actor that does not exist.
    room.js("const s = document.getElementById('restart-actor');"
            "s.add(new Option('ghost', 'ghost')); s.value = 'ghost';")  # fmt: skip
    room.browser.find_element(By.ID, "restart").click()
    room.until(lambda: "refused (not_found)" in room.text("#replies li.err"), 15, "the refusal")


def test_a_sigkilled_actor_appears_restarting_and_then_ready(room: Room) -> None:
    room.tab("live")
    victim = room.perf.actor("osc")
    room.until(lambda: _row_state(room, "osc")[0] == "ready", 15, "osc ready on the page")
    os.kill(victim["pid"], signal.SIGKILL)
    room.until(lambda: "actor_restarting" in room.text("#events") and "actor=osc" in
               room.text("#events"), 20, "the restart in the event log")  # fmt: skip
    room.browser.find_element(By.ID, "event-filter").send_keys("actor_restarting")
    room.until(lambda: (shown := room.texts("#events li"))
               and all("actor_restarting" in line for line in shown),
               10, "only the restarts shown")  # fmt: skip
    room.until(
        lambda: _row_state(room, "osc")[0] == "ready"
        and _row_state(room, "osc")[1] == victim["restarts"] + 1
        and _row_state(room, "osc")[2] != str(victim["pid"]),
        30, "osc ready again with a new pid",
    )  # fmt: skip
    room.browser.find_element(By.ID, "event-filter").clear()


def test_a_training_run_started_from_the_page_shows_progress_finishes_and_loads(
    room: Room,
) -> None:
    # ddsp --quick is the fastest pipeline here (about 10 s, its data set included).
    room.tab("training")
    room.js("const k = document.getElementById('train-kind'); k.value = 'ddsp';"
            "k.dispatchEvent(new Event('change'));"
            "document.getElementById('train-instrument').value = 'flute';")  # fmt: skip
    room.browser.find_element(By.CSS_SELECTOR, "#train-form button[type=submit]").click()
    room.until(lambda: "started: kelly train ddsp --quick" in room.text("#train-msg"), 15,
               "the run started")  # fmt: skip
    room.until(lambda: "%" in room.text("#train-state"), 60, "progress")
    room.until(
        lambda: room.js("return document.getElementById('train-state').dataset.state")
        in ("finished", "cancelled") or "failed" in room.text("#train-state"), 120, "the end",
    )  # fmt: skip
    assert "ddsp: finished" in room.text("#train-state"), room.text("#train-tail")
    assert "wrote ddsp-" in room.text("#train-models") and "ddsp-flute.onnx" in room.text(
        "#train-models"
    )
    assert room.js("return Number(document.getElementById('plot-loss').width)") > 0
    assert "held-out distance" in room.text("#train-tail")  # the run's last lines, once ended
    room.shot("training")
    room.browser.find_element(By.XPATH, "//button[text()='load into the performance']").click()
    room.until(lambda: "card matches the file" in room.text("#train-msg"), 30, "the load")
    assert '"timbre": "flute"' in room.text("#train-msg"), room.text("#train-msg")


def test_the_models_page_loads_a_model_with_its_check_and_compares_two_cards(room: Room) -> None:
    room.tab("models")
    emotion = "tr[data-model='0/emotion.onnx']"
    room.until(lambda: room.browser.find_elements(By.CSS_SELECTOR, emotion), 15, "the models")
    row = room.browser.find_element(By.CSS_SELECTOR, "tr[data-model='0/emotion.onnx']")
    assert "matches" in row.text
    row.find_element(By.XPATH, ".//button[text()='load']").click()
    room.until(lambda: "card matches the file" in room.text("#model-msg"), 30, "the load")
    assert '"version": "emotion-' in room.text("#model-msg")
    for model in ("0/emotion.onnx", "0/transformer.onnx"):
        room.browser.find_element(By.CSS_SELECTOR, f"tr[data-model='{model}'] input.pick").click()
    room.browser.find_element(By.ID, "compare").click()
    room.until(lambda: len(room.browser.find_elements(By.CSS_SELECTOR, ".card")) == 2, 15, "cards")
    assert "Model card: emotion" in room.text(".card") and "sha256" in room.text(".card")
    room.shot("models")


def test_the_takes_page_plays_a_recording_and_builds_its_report(room: Room) -> None:
    room.tab("takes")
    room.until(lambda: room.browser.find_elements(By.CSS_SELECTOR, "[data-take] audio"), 15,
               "the take")  # fmt: skip
    duration = room.until(
        lambda: room.js("return document.querySelector('[data-take] audio').duration"), 15,
        "the player to read the WAV",
    )  # fmt: skip
    assert abs(duration - 2.0) < 0.05
    # The composer's own MIDI recording of this performance (RUN_DIR/recordings) is listed.
    links = room.browser.find_elements(By.CSS_SELECTOR, "[data-take^='take-2'] a[download]")
    assert links and links[0].text.startswith("segment-")
    room.js("const a = document.querySelector('[data-take] audio'); a.currentTime = 1.5;")
    room.until(lambda: room.js("return document.querySelector('[data-take] audio').seekable.end(0)")
               >= 1.9, 10, "a seekable player")  # fmt: skip
    room.browser.find_element(By.XPATH, "//button[text()='build report']").click()
    started = time.monotonic()
    room.until(lambda: room.browser.find_elements(By.LINK_TEXT, "session report") or
               "failed" in room.text("#takes-msg"), 110, "the report")  # fmt: skip
    assert "failed" not in room.text("#takes-msg"), room.text("#takes-msg")
    assert (room.work / "takes" / "take-1" / "report.html").is_file()
    print(f"kelly report took {time.monotonic() - started:.1f} s")
    room.shot("takes")


def _methods_called(room: Room) -> list[str]:
    return [e["detail"]["args"].get("method", "") for e in room.perf.events()
            if e["event"] == "command" and e["detail"]["cmd"] == "call"]  # fmt: skip


def test_a_page_of_another_origin_in_the_same_browser_cannot_steer_the_performance(
    room: Room,
) -> None:
    # http://localhost:PORT is another origin (and site) than http://127.0.0.1:PORT: the
    # strict cookie stays home, and the request carries the other Origin.
    before = _methods_called(room).count("feel")
    other = room.server.origin.replace("127.0.0.1", "localhost")
    room.browser.get(other + "/static/style.css")
    status = room.browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('{room.server.origin}/api/ctl', {{method: 'POST', mode: 'no-cors',"
        " credentials: 'include', headers: {'Content-Type': 'text/plain'},"
        " body: JSON.stringify({verb: 'feel', argv: ['I feel grief']})})"
        ".then((r) => done(r.type), (e) => done(String(e)));"
    )
    assert status == "opaque"  # sent and answered; the page may not read the answer
    with_token = room.browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('{room.server.origin}/api/ctl', {{method: 'POST', credentials: 'include',"
        f" headers: {{'Content-Type': 'application/json', 'X-Kelly-Token': '{room.server.token}'}},"
        " body: JSON.stringify({verb: 'feel', argv: ['I feel grief']})})"
        ".then((r) => done(r.status), (e) => done(String(e)));"
    )
    assert "TypeError" in str(with_token)  # the preflight is refused: even a stolen token fails
    # A request of our own, after both: once it is logged, neither of theirs was (the log
    # is in order).
    assert room.server.json("/api/ctl", {"verb": "panic", "argv": []})[0] == 200
    room.until(lambda: _methods_called(room)[-1:] == ["panic"], 15, "our panic logged")
    assert _methods_called(room).count("feel") == before
    room.browser.get(room.server.url)


def test_stop_asks_for_confirmation_then_ends_the_performance_and_the_page_says_so(
    room: Room,
) -> None:
    room.tab("control")
    room.browser.find_element(By.ID, "stop").click()
    assert room.perf.proc.poll() is None  # one click only shows the confirmation
    room.browser.find_element(By.ID, "stop-confirm").click()
    room.until(lambda: 'stop: {"stopping": true}' in room.text("#replies li.ok"), 15, "stop")
    assert room.perf.proc.wait(60) == 0
    room.until(lambda: room.text("#conn") == "no performance", 15, "the page to say so")
    room.tab("live")
    assert "no performance is running" in room.text("#run-line")
    room.shot("stopped")
