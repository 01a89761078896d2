"""Gate, smooth and publish the per-frame emotion estimates (PUB, topic ``estimate``).

One ``estimate`` message (:mod:`kelly_actors.bus.messages`) per feature frame, in frame
order, to whoever subscribes (the composer). Values are clamped to their ranges: valence
−1…1, arousal, dominance and confidence 0…1.
"""

from __future__ import annotations

import time
from collections import deque
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


class EstimatePublisher:
    """Binds ``endpoint`` on ``zctx``; counts ``published`` estimates and ``gaps`` (a frame
    whose sample time is not the previous one's + :data:`HOP_SAMPLES`)."""

    def __init__(
        self, zctx: zmq.Context, endpoint: str, smoothing: float, confidence_gate: float
    ) -> None:
        # Send-only: no size limit needed (0 leaves it unlimited).
        self.socket = sockets.make(zctx, zmq.PUB, 0)
        self.socket.sndhwm = SEND_QUEUE
        self.socket.bind(endpoint)
        self.smoother = Smoother(smoothing, confidence_gate)
        self.latency: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.last: dict[str, float] = {}
        self.expected_sample: int | None = None
        self.gaps = 0
        self.published = 0

    def restart(self) -> None:
        """Forget the smoothed value (a new model starts the stream afresh)."""
        self.smoother.reset()

    def publish(
        self,
        sample: int,
        raw: tuple[float, float, float, float],
        loudness_db: float,
        read_at: float,
        model_version: str,
        degraded: bool,
    ) -> None:
        """Gate, smooth and publish one frame's estimate.

        Args:
            sample: the frame's first sample (audio clock).
            raw: the model's (valence, arousal, dominance, confidence).
            loudness_db: the frame's loudness; below SILENCE_DB the confidence is 0:
                nobody is playing, so the composer's gate ignores it.
            read_at: monotonic s when the frame was read from its ring (for the latency).
            model_version: the model's version, ``"heuristic"`` when degraded.
        """
        if loudness_db < SILENCE_DB:
            raw = (*raw[:3], 0.0)
        if self.expected_sample is not None and sample != self.expected_sample:
            self.gaps += 1
        self.expected_sample = sample + HOP_SAMPLES
        smoothed = self.smoother.update(raw)
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
        )
        self.socket.send_multipart([b"estimate", *messages.encode(msg)], zmq.NOBLOCK)
        self.published += 1
        self.last = {
            "valence": round(v, 3),
            "arousal": round(a, 3),
            "dominance": round(d, 3),
            "confidence": round(conf, 3),
        }

    def telemetry(self) -> dict[str, Any]:
        """``estimates``, ``gated``, ``gaps``, latency percentiles (ms) and the last values."""
        lat = np.array(self.latency) * 1000 if self.latency else np.zeros(1)
        return {
            "estimates": self.published,
            "gated": self.smoother.gated,
            "gaps": self.gaps,
            "latency_ms_p50": round(float(np.percentile(lat, 50)), 3),
            "latency_ms_p99": round(float(np.percentile(lat, 99)), 3),
            "last": self.last,
        }

    def close(self) -> None:
        self.socket.close(0)
