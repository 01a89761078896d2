"""Gate, smooth and publish the per-frame emotion estimates (PUB, topic ``estimate``).

One ``estimate`` message (:mod:`kelly_actors.bus.messages`) per feature frame and stream,
in frame order within a stream, to whoever subscribes (the composer). Each carries its
``stream`` (0…N−1: an ensemble's performer, ``audio_in``'s column); each stream has its
own smoothing, gap count and last values. Values are clamped to their ranges: valence
−1…1, arousal, dominance and confidence 0…1.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zmq

from kelly_actors.bus import messages, sockets
from kelly_actors.inference.heuristic import SILENCE_DB
from kelly_actors.inference.smoothing import Smoother

#: Samples between two feature frames (the features actor's hop).
HOP_SAMPLES = 512
#: Estimates the PUB socket queues for a slow subscriber before it drops them.
SEND_QUEUE = 1000
#: Latencies kept for the telemetry's percentiles.
LATENCY_WINDOW = 512


@dataclass
class StreamEstimates:
    """One stream's smoothing, expected next sample, gap and estimate counts, last values."""

    smoother: Smoother
    expected_sample: int | None = None
    gaps: int = 0
    published: int = 0
    last: dict[str, float] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {
            "estimates": self.published,
            "gated": self.smoother.gated,
            "gaps": self.gaps,
            "last": self.last,
        }


class EstimatePublisher:
    """Binds ``endpoint`` on ``zctx``; counts ``published`` estimates and ``gaps`` (a frame
    whose sample time is not the stream's previous one's + :data:`HOP_SAMPLES`)."""

    def __init__(
        self,
        zctx: zmq.Context,
        endpoint: str,
        smoothing: float,
        confidence_gate: float,
        streams: int = 1,
    ) -> None:
        # Send-only: no size limit needed (0 leaves it unlimited).
        self.socket = sockets.make(zctx, zmq.PUB, 0)
        self.socket.sndhwm = SEND_QUEUE
        self.socket.bind(endpoint)
        self.streams = [
            StreamEstimates(Smoother(smoothing, confidence_gate)) for _ in range(streams)
        ]
        self.latency: deque[float] = deque(maxlen=LATENCY_WINDOW)

    @property
    def published(self) -> int:
        return sum(s.published for s in self.streams)

    @property
    def gaps(self) -> int:
        return sum(s.gaps for s in self.streams)

    def restart(self) -> None:
        """Forget the smoothed values (a new model starts the streams afresh)."""
        for stream in self.streams:
            stream.smoother.reset()

    def publish(
        self,
        sample: int,
        raw: tuple[float, float, float, float],
        loudness_db: float,
        read_at: float,
        model_version: str,
        degraded: bool,
        stream: int = 0,
    ) -> None:
        """Gate, smooth and publish one frame's estimate.

        Args:
            sample: the frame's first sample (audio clock).
            raw: the model's (valence, arousal, dominance, confidence).
            loudness_db: the frame's loudness; below SILENCE_DB the confidence is 0:
                nobody is playing, so the composer's gate ignores it.
            read_at: monotonic s when the frame was read from its ring (for the latency).
            model_version: the model's version, ``"heuristic"`` when degraded.
            stream: the frame's stream (0…N−1).
        """
        state = self.streams[stream]
        if loudness_db < SILENCE_DB:
            raw = (*raw[:3], 0.0)
        if state.expected_sample is not None and sample != state.expected_sample:
            state.gaps += 1
        state.expected_sample = sample + HOP_SAMPLES
        smoothed = state.smoother.update(raw)
        self.latency.append(time.monotonic() - read_at)
        # Before any frame passed the gate there is no smoothed value: send the raw one.
        v, a, d, conf = smoothed if smoothed is not None else raw
        if raw[3] == 0.0:
            conf = 0.0
        msg = messages.make(
            "estimate",
            valence=max(-1.0, min(1.0, v)),
            arousal=max(0.0, min(1.0, a)),
            dominance=max(0.0, min(1.0, d)),
            confidence=max(0.0, min(1.0, conf)),
            time=time.time(),
            sample_time=int(sample),
            model_version=model_version,
            degraded=degraded,
            stream=stream,
        )
        self.socket.send_multipart([b"estimate", *messages.encode(msg)], zmq.NOBLOCK)
        state.published += 1
        state.last = {
            "valence": round(v, 3),
            "arousal": round(a, 3),
            "dominance": round(d, 3),
            "confidence": round(conf, 3),
        }

    def telemetry(self) -> dict[str, Any]:
        """``estimates``, ``gated``, ``gaps`` (all streams), latency percentiles (ms) and
        the first stream's last values; with several streams, ``streams``: each one's."""
        lat = np.array(self.latency) * 1000 if self.latency else np.zeros(1)
        out: dict[str, Any] = {
            "estimates": self.published,
            "gated": sum(s.smoother.gated for s in self.streams),
            "gaps": self.gaps,
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 3),
            "latency_ms_p99": round(float(np.percentile(lat, 99)), 3),
            "last": self.streams[0].last,
        }
        if len(self.streams) > 1:
            out["streams"] = [s.figures() for s in self.streams]
        return out

    def close(self) -> None:
        self.socket.close(0)
