"""A real recorded performance → ``kelly report`` → a page headless Chromium renders with
every plot, without a single request leaving the page's own file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path

import numpy as np
import pytest
from performance import Performance, kelly, wait_until
from PIL import Image

#: Seconds the performance plays (several bars at any tempo, a restart of the composer).
PLAY_S = 24


def _chromium(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1500,1200",
        # No name resolves and every connection goes to a proxy that is not there: a page
        # that fetched anything would show a broken image and a failed request.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:1",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    driver = _chromium(tmp_path)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def recorded(run_dir: Path, tmp_path: Path) -> Path:
    """A take of a real ``kelly run`` (null audio clock) with words typed during it and
    the composer killed once."""
    take = tmp_path / "take"
    args = ["--duration", str(PLAY_S), "--record", str(take), "--audio-device", "null"]
    with Performance(run_dir, None, args) as perf:
        perf.wait_ready(60)
        assert (
            kelly("ctl", "feel", "I feel grief but I want acceptance", run_dir=run_dir).returncode
            == 0
        )
        wait_until(lambda: _bars(take) >= 3, 30, "three bars in the take's log")
        assert kelly("ctl", "restart", "composer", run_dir=run_dir).returncode == 0
        # Refused ("starting, try again") until the new composer is ready: ask until it takes it.
        set_emotion = ("ctl", "set-emotion", "0.6", "0.8", "0.7")
        wait_until(lambda: kelly(*set_emotion, run_dir=run_dir).returncode == 0, 30, "set-emotion")
        assert perf.proc.wait(PLAY_S + 60) == 0, perf.stderr()
    return take


def _bars(take: Path) -> int:
    path = take / "events.jsonl"
    return path.read_text().count('"event": "bar"') if path.exists() else 0


@pytest.mark.slow
def test_a_recorded_performance_renders_in_chromium_with_every_plot_and_no_request(
    recorded: Path, browser, tmp_path: Path
) -> None:
    out = tmp_path / "pages" / "report.html"
    done = kelly("report", str(recorded), "-o", str(out), timeout=120)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert not re.search(r"https?://|@import|<script|<link", html)
    assert escape('feel "I feel grief but I want acceptance"') in html
    assert "set-emotion 0.6 0.8 0.7" in html
    typed = html.split("<h2>What the performer typed", 1)[1].split("<h2>", 1)[0]
    assert "restart composer" in typed and "status" not in typed and "ping" not in typed
    pngs = sorted(p.name for p in out.parent.glob("report-*.png"))
    assert pngs == ["report-audio.png", "report-emotion.png", "report-incidents.png",
                    "report-music.png"]  # fmt: skip
    bars_table = html.split("<h2>Bars (", 1)[1]
    assert int(bars_table.split(")", 1)[0]) >= 6
    assert "composer restarted on command" in html  # in the incidents table

    browser.get_log("performance")  # drop what the browser's start page asked for
    browser.get(out.as_uri())
    wait_until(
        lambda: browser.execute_script("return document.readyState") == "complete",
        30,
        "the page to load",
    )
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
    )
    assert len(images) == 4
    assert all(complete and width > 0 for complete, width, _ in images), images

    shot = tmp_path / "report.png"
    browser.get_screenshot_as_file(str(shot))
    pixels = np.asarray(Image.open(shot).convert("L"), np.float32)
    assert pixels.std() > 10.0  # text and plots, not a blank page

    sent = [
        json.loads(entry["message"])["message"]["params"]
        for entry in browser.get_log("performance")
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    ours = [p["request"]["url"] for p in sent if p.get("documentURL") == out.as_uri()]
    assert out.as_uri() in ours
    assert all(url.startswith(("file:", "data:")) for url in ours), ours
    # Nothing at all, from the page or the browser, went to a network.
    assert not [
        p["request"]["url"] for p in sent if re.match(r"(https?|wss?|ftp):", p["request"]["url"])
    ]


def test_the_browser_check_catches_a_page_that_reaches_out(browser, tmp_path: Path) -> None:
    """The checks above have teeth: an image from the network fails to load and its
    request is seen."""
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://example.invalid/plot.png"></body></html>')
    browser.get_log("performance")
    browser.get(page.as_uri())
    wait_until(
        lambda: browser.execute_script("return document.images[0].complete"), 30, "the image"
    )
    assert browser.execute_script("return document.images[0].naturalWidth") == 0
    urls = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in browser.get_log("performance")
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    assert "http://example.invalid/plot.png" in urls
