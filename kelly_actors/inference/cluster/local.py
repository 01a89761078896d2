"""A Ray cluster on this machine, on loopback, for the tests and ``benchmarks/cluster.py``:
a head and optional extra nodes, each ``ray start --block`` in a session of its own, with
the dashboard and usage statistics off, a small object store, logs under one temporary
directory and Ray's own files in a short one under /tmp (Unix socket paths are short).
Token authentication is on; a machine without a token gets one first (``ray
get-auth-token --generate``: ``~/.ray/auth_token``, where every local client reads it).
:meth:`LocalCluster.stop` kills every process it started (raylets, GCS, the replicas'
workers) and checks that none is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

#: Object store per node (bytes): Ray's minimum is ~75 MiB.
OBJECT_STORE = 80 * 1024 * 1024
STARTED = "Ray runtime started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token")
    return env


def ensure_token(ray: str, timeout_s: float) -> None:
    """Make sure Ray has a token to start a head with: ``ray start`` refuses one without
    (only a driver's ``ray.init`` would write it), so a fresh machine needs this first.
    Does nothing where a token already exists; the token itself is never printed."""
    done = subprocess.run(
        [ray, "get-auth-token", "--generate"], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=_env(), timeout=timeout_s, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"ray get-auth-token failed: {done.stderr.decode(errors='replace')}")


class LocalCluster:
    """``nodes`` Ray nodes (the first the head) of ``cpus`` CPUs each, files under ``tmp``;
    the head's GCS on ``port`` (0: a free one)."""

    def __init__(
        self, tmp: Path, nodes: int = 2, cpus: float = 1, timeout_s: float = 60, port: int = 0
    ) -> None:
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        # Ray's sockets live under its temp dir, and a Unix socket's path has 107 bytes at
        # most: a short directory of its own, removed by stop().
        self.ray_tmp = Path(tempfile.mkdtemp(prefix="kray-", dir="/tmp"))
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.tree: dict[int, psutil.Process] = {}
        ray = str(Path(sys.executable).with_name("ray"))
        try:
            ensure_token(ray, timeout_s)
            self._start(
                [ray, "start", "--head", f"--port={self.port}", "--include-dashboard=false",
                 f"--temp-dir={self.ray_tmp}", "--disable-usage-stats"],
                cpus, timeout_s,
            )  # fmt: skip
            for _ in range(nodes - 1):
                self._start([ray, "start", f"--address={self.address}"], cpus, timeout_s)
        except BaseException:
            self.stop()
            raise

    def _start(self, cmd: list[str], cpus: float, timeout_s: float) -> None:
        log = self.tmp / f"node-{len(self.procs)}.log"
        cmd += [
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={cpus:g}",
            f"--object-store-memory={OBJECT_STORE}",
            "--block",
        ]
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=_env(), start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        deadline = time.monotonic() + timeout_s
        while STARTED not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start failed: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        self.remember()

    def remember(self) -> None:
        """Note every process of the cluster now (replica workers come and go)."""
        for proc in self.procs:
            try:
                top = psutil.Process(proc.pid)
                for p in [top, *top.children(recursive=True)]:
                    self.tree.setdefault(p.pid, p)
            except psutil.NoSuchProcess:
                continue

    def stop(self) -> list[int]:
        """Kill every process of the cluster; the pids still alive afterwards (none)."""
        self.remember()
        for p in self.tree.values():
            try:
                p.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                continue
        for proc in self.procs:
            proc.wait()
        _gone, alive = psutil.wait_procs(list(self.tree.values()), timeout=5)
        shutil.rmtree(self.ray_tmp, ignore_errors=True)
        return [p.pid for p in alive]
