"""Run a real ``kelly run`` in a subprocess and talk to it, for tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toml_config import default_with_osc

from kelly_actors.supervisor.client import ControlClient
from kelly_actors.supervisor.rundir import RunDir

SUPPORT_DIR = Path(__file__).resolve().parent
REPO = SUPPORT_DIR.parent.parent


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def env_with_support() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SUPPORT_DIR), str(REPO), env.get("PYTHONPATH", "")) if p
    )
    return env


@contextmanager
def ready_process(argv: list[str], ready: Path, what: str) -> Iterator[subprocess.Popen]:
    """A helper process (a receiver, a peer) that touches ``ready`` once it listens.

    Yields it once ready (fails if it exits first or takes over 20 s); afterwards SIGTERM,
    then SIGKILL if it has not ended within 10 s.
    """
    proc = subprocess.Popen(argv, env=env_with_support())
    try:
        wait_until(lambda: ready.exists() or proc.poll() is not None, 20, what)
        assert proc.poll() is None, f"{what} exited"
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def kelly(
    *args: str, run_dir: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``kelly [--run-dir DIR] ARGS…`` to completion, capturing its output."""
    prefix = ["--run-dir", str(run_dir)] if run_dir is not None else []
    return subprocess.run(
        [sys.executable, "-m", "kelly_actors.cli", *prefix, *args],
        env=env or env_with_support(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Performance:
    """A ``kelly run CONFIG`` subprocess with helpers to query and control it."""

    def __init__(
        self,
        run_dir: Path,
        config_text: str | None,  # None: the built-in performance
        extra_args: list[str] | None = None,
        launcher: tuple[str, ...] = (),
    ):
        """``launcher``: a command prefix, e.g. ``("taskset", "-c", "0")``."""
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        args = [*launcher, sys.executable, "-m", "kelly_actors.cli"]
        args += ["--run-dir", str(self.run_dir), "run"]
        if config_text is None:
            # The built-in performance, its OSC actor on a free port: UDP 9000 belongs to
            # whatever default performance already runs on this machine.
            config_text = default_with_osc(port=0)
        config = self.run_dir / "performance.toml"
        config.write_text(config_text)
        args.append(str(config))
        self.stderr_path = self.run_dir / "supervisor.stderr"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [*args, *(extra_args or [])],
            env=env_with_support(),
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        self._client: ControlClient | None = None

    def client(self) -> ControlClient:
        if self._client is None:
            wait_until(lambda: RunDir(self.run_dir).running(), 20, "the supervisor to publish")
            self._client = ControlClient(RunDir(self.run_dir), timeout=10)
        return self._client

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        return self.client().request(cmd, **args)

    def status(self) -> dict[str, Any]:
        return self.request("status")

    def actor(self, name: str) -> dict[str, Any]:
        return next(a for a in self.status()["actors"] if a["name"] == name)

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        def all_ready() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"supervisor exited {self.proc.returncode}: {self.stderr()}")
            snap = self.status()
            return snap if all(a["state"] == "ready" for a in snap["actors"]) else None

        return wait_until(all_ready, timeout, "every actor ready")

    def wait_actor(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ):
        def matching() -> dict[str, Any] | None:
            actor = self.actor(name)
            return actor if predicate(actor) else None

        return wait_until(matching, timeout, what)

    def events(self) -> list[dict[str, Any]]:
        path = self.run_dir / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        """Ask for a clean stop and wait for the exit code."""
        if self.proc.poll() is None:
            self.request("stop")
        return self.proc.wait(timeout)

    def close(self) -> None:
        """Make sure nothing of this run is left: supervisor and its process group."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._stderr.close()

    def __enter__(self) -> Performance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
