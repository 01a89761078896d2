"""A real ``kelly web`` subprocess, plain HTTP requests to it, and a headless Chromium."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import soundfile
from performance import env_with_support, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class WebServer:
    """``kelly web`` on a free port; :attr:`url` is the printed URL with its token."""

    def __init__(self, run_dir: Path, work: Path, *extra: str) -> None:
        self.url_file = work / "url"
        self.log_path = work / "web.log"
        self._log = self.log_path.open("wb")
        argv = [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(run_dir), "web"]
        argv += ["--port", "0", "--url-file", str(self.url_file), *extra]
        self.proc = subprocess.Popen(
            argv, env=env_with_support(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_until(lambda: self.url_file.exists() or self.proc.poll() is not None, 30, "kelly web")
        assert self.proc.poll() is None, self.log()
        self.url = self.url_file.read_text().strip()
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.token = parts.query.removeprefix("token=")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        token: bool = True,
        origin: str | None = "",
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request: POST when ``body`` or ``raw``; the token header unless
        ``token`` is False; ``Origin`` this server's unless given (None: no Origin)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.origin + path, data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("X-Kelly-Token", self.token)
        if origin is not None:
            request.add_header("Origin", origin or self.origin)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers), exc.read()

    def json(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        status, _, data = self.request(path, body, **kwargs)
        return status, json.loads(data)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@contextmanager
def web_server(run_dir: Path, work: Path, *extra: str) -> Iterator[WebServer]:
    server = WebServer(run_dir, work, *extra)
    try:
        yield server
    finally:
        server.close()


def write_take(take: Path, seconds: float = 2.0, rate: int = 48000) -> Path:
    """A recording directory with a WAV of a 440 Hz tone (16-bit stereo); its path."""
    take.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    wav = take / "output.wav"
    soundfile.write(wav, np.stack([tone, tone], axis=1), rate, subtype="PCM_16")
    return wav


@contextmanager
def chromium(width: int = 1280, height: int = 1400) -> Iterator[Any]:
    """Debian's headless Chromium through its chromedriver (nothing is downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(arg)  # fmt: skip
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
