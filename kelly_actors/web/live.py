"""The live view: the supervisor's status PUB, turned into messages for every open page.

A :class:`LiveHub` runs one thread that subscribes to the performance's status endpoint
with :class:`~kelly_actors.console.connection.StatusFeed` (the SUB ``kelly top`` uses),
waits on it (no polling by any page), and hands each snapshot, as the panels'
data (:func:`view_of`, built from :mod:`kelly_actors.console.view`), and each event to the
asyncio loop, which puts them on every subscriber's queue. A slow page loses its oldest
messages, never slows the others. When nothing runs, or the run goes silent, the thread
says so (``offline``) and looks again every second; a new performance in the run
directory is picked up by itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kelly_actors.console import view
from kelly_actors.console.connection import (
    ConnectError,
    Endpoints,
    NotRunning,
    StatusFeed,
    resolve,
)

#: Messages a page may fall behind before its oldest are dropped.
QUEUE_DEPTH = 32
#: Emotion points kept for a page that opens late (one per snapshot).
HISTORY_POINTS = 600
#: Events kept for a page that opens late.
EVENT_HISTORY = 200
#: No snapshot for this long (s): look for the run again.
SILENCE_S = 3.0
AXES = ("valence", "arousal", "dominance")


def _pad(point: Any) -> dict[str, float] | None:
    if not isinstance(point, dict) or not all(isinstance(point.get(a), int | float) for a in AXES):
        return None
    return {a: float(point[a]) for a in AXES}


def _telemetry_with(snap: dict[str, Any], key: str) -> dict[str, Any]:
    return next((a["telemetry"] for a in snap["actors"] if key in a["telemetry"]), {})


def emotion_of(snap: dict[str, Any]) -> dict[str, Any]:
    """Each source's V/A/D point (None when it has none): ``fused`` (what the composer
    plays), ``audio`` (the inference actor's last estimate), ``text`` (the target a
    ``feel`` or ``set-emotion`` set), ``body`` (the sensors' arousal); plus the locks, the
    nearest named emotion and the fused point's source."""
    composer = view.composer_telemetry(snap)
    fused = composer.get("emotion") or {}
    body = (composer.get("sensors") or {}).get("body") or {}
    inference = _telemetry_with(snap, "estimates")
    return {
        "fused": _pad(fused),
        "source": fused.get("source", ""),
        "confidence": fused.get("confidence"),
        "audio": _pad(inference.get("last")),
        "text": _pad(composer.get("target")),
        "body": {"arousal": float(body["arousal"])} if body.get("arousal") is not None else None,
        "locks": composer.get("locks") or {},
        "nearest": composer.get("nearest") or "",
    }


def view_of(snap: dict[str, Any], writers: dict[str, str]) -> dict[str, Any]:
    """The page's panels for one snapshot (JSON-ready)."""
    audio = _telemetry_with(snap, "period_ms")
    composer = view.composer_telemetry(snap)
    budget = view.latency_budget(snap)
    transport = snap.get("transport") or {}
    return {
        "type": "status",
        "time": time.time(),
        "run": snap["run"],
        "actors": [asdict(row) for row in view.actor_rows(snap)],
        "rings": [{**r, "writer": writers.get(r["name"], "")} for r in snap["rings"]],
        "audio": {
            "lines": view.audio_lines(snap, writers),
            "period_ms": audio.get("period_ms"),
            "p99_ms": audio.get("callback_p99_ms"),
            "xruns": audio.get("xruns", 0),
            "underruns": audio.get("underruns", 0),
            "blame": view.xrun_blame(snap) if audio.get("xruns") else "",
        },
        "budget": {"parts": [list(p) for p in budget.parts], "total_ms": budget.total_ms},
        "emotion": emotion_of(snap),
        "music": {
            "key": composer.get("key", ""),
            "tempo": composer.get("tempo", transport.get("tempo")),
            "bar": composer.get("bar", transport.get("bar")),
            "lines": view.music_lines(snap),
            "transformer": composer.get("transformer") or {},
        },
        "sensors": view.sensor_lines(snap),
        "training": snap.get("training") or [],
    }


class LiveHub:
    """Fan-out of the status stream to the pages (see the module docstring).

    :meth:`start` with the running asyncio loop; :meth:`subscribe` gives a page a queue
    that starts with the current state; :meth:`publish` (loop thread only) sends any
    message to every page; :meth:`close` stops the thread and its sockets.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.latest: dict[str, Any] = {"type": "offline", "why": "not looked yet"}
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_POINTS)
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENT_HISTORY)
        self.snapshots = 0
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="kelly-web-status", daemon=True)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_DEPTH)
        self._queues.add(queue)
        queue.put_nowait(
            {"type": "hello", "history": list(self.history), "events": list(self.events)}
        )
        queue.put_nowait(self.latest)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues.discard(queue)

    def publish(self, msg: dict[str, Any]) -> None:
        """Put ``msg`` on every page's queue, dropping a full queue's oldest message."""
        if msg["type"] in ("status", "offline"):
            self.latest = msg
        if msg["type"] == "status":
            self.snapshots += 1
            self.history.append({"time": msg["time"], **msg["emotion"]})
        elif msg["type"] == "event":
            self.events.append(msg["event"])
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(msg)

    def _send(self, msg: dict[str, Any]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.publish, msg)

    def _run(self) -> None:
        offline_why = ""
        while not self._stop.is_set():
            try:
                endpoints = resolve(self.run_dir, None)
            except (NotRunning, ConnectError) as exc:
                if str(exc) != offline_why:
                    offline_why = str(exc)
                    self._send({"type": "offline", "why": offline_why})
                self._stop.wait(1.0)
                continue
            offline_why = ""
            self._follow(endpoints)

    def _follow(self, endpoints: Endpoints) -> None:
        """Relay one run's stream until it falls silent for :data:`SILENCE_S` or we stop."""
        writers = view.ring_writers(endpoints.config)
        feed = StatusFeed(endpoints)
        last = time.monotonic()
        try:
            while not self._stop.is_set():
                fresh = feed.drain(wait_s=0.25)
                while feed.events:
                    self._send({"type": "event", "event": feed.events.popleft()})
                now = time.monotonic()
                if fresh and feed.snapshot is not None:
                    last = now
                    self._send(view_of(feed.snapshot, writers))
                elif now - last > SILENCE_S:
                    self._send({"type": "offline", "why": f"no status from {endpoints.where}"})
                    return
        finally:
            feed.close()
