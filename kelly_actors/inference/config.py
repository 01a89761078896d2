"""The inference actor's options (``[actors.options]``) and its worker pool's settings.

Ranges are metadata on the fields (:func:`~kelly_actors.config.typed.setting`), checked
whenever a config is built, from TOML or in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kelly_actors.bus.messages import MAX_FRAMES
from kelly_actors.config.typed import Checked, setting
from kelly_actors.inference.cluster.config import ClusterConfig

#: Default model, relative to the repository (or absolute in the options).
DEFAULT_MODEL = str(Path(__file__).resolve().parents[2] / "models" / "emotion.onnx")
ESTIMATES_SOCKET = "estimates.sock"
VARIATIONS_SOCKET = "variations.sock"


@dataclass(frozen=True)
class InferenceConfig(Checked):
    """The inference actor's ``[actors.options]``.

    Attributes:
        model: path of the ONNX model ("" = none: heuristic mode).
        provider: ``cpu`` | ``cuda`` (CUDA needs onnxruntime-gpu and a GPU; checked at start).
        workers: worker processes (0 = run the model in this process).
        pin_workers: pin worker i to core i (psutil CPU affinity).
        threads: onnxruntime intra-op threads per worker (or for this process).
        deadline_s: a frame's estimate must be ready this long after the frame was read;
            later results are dropped and counted.
        retry_s: a request unanswered this long is sent to another worker.
        max_batch: most frames in one request.
        smoothing: α of the per-frame exponential smoothing; confidence_gate: frames below
            this confidence do not move it.
        remote_endpoint: ``tcp://HOST:PORT`` for remote workers ("" = none; needs keys_dir).
        keys_dir: CurveZMQ keys (``kelly keys generate DIR``).
        frames_ring: the ring of feature frames; publish: socket name in the run dir.
        transformer_model: the step model that serves the composer's variations
            ("" = none; relative paths: from the repository).
        variations: the socket in the run dir the composer asks on ("" = not served).
        backend: ``pool`` (this machine's workers and ``kelly worker`` hosts) | ``ray``
            (replicas on a Ray cluster, ``[actors.options.cluster]``; the local workers —
            at least one — serve whenever the cluster does not).
        cluster: the Ray cluster (:class:`ClusterConfig`), used with ``backend = "ray"``.
    """

    model: str = DEFAULT_MODEL
    provider: str = "cpu"
    workers: int = setting(0, low=0)
    pin_workers: bool = False
    threads: int = setting(1, low=1)
    deadline_s: float = setting(0.5, above=0.0)
    retry_s: float = setting(0.1, above=0.0)
    max_batch: int = setting(32, low=1, high=MAX_FRAMES)
    smoothing: float = setting(0.1, above=0.0, high=1.0)
    confidence_gate: float = setting(0.3, low=0.0, high=1.0)
    remote_endpoint: str = ""
    keys_dir: str = ""
    frames_ring: str = "frames"
    publish: str = ESTIMATES_SOCKET
    transformer_model: str = "models/transformer.onnx"
    variations: str = VARIATIONS_SOCKET
    backend: str = setting("pool", choices=("pool", "ray"))
    cluster: ClusterConfig = field(default_factory=ClusterConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_remote(self.remote_endpoint, self.keys_dir, "remote_endpoint", "keys_dir")
        if self.backend == "ray" and self.workers < 1:
            raise ValueError(
                "backend = 'ray' needs workers >= 1: the local pool serves while the "
                "cluster is away"
            )

    def pool(self) -> PoolConfig:
        """The settings of this actor's worker pool."""
        return PoolConfig(
            workers=self.workers,
            pin=self.pin_workers,
            provider=self.provider,
            threads=self.threads,
            retry_s=self.retry_s,
            tcp=self.remote_endpoint,
            keys=self.keys_dir,
        )


@dataclass(frozen=True)
class PoolConfig(Checked):
    """workers: local worker processes; pin: pin worker i to core i; provider; threads per
    worker; retry_s: resend a request after this long without an answer; tcp: endpoint
    for remote workers ("" = none); keys: CurveZMQ keys directory (required with tcp)."""

    workers: int = setting(1, low=0)
    pin: bool = False
    provider: str = "cpu"
    threads: int = setting(1, low=1)
    retry_s: float = setting(0.1, above=0.0)
    tcp: str = ""
    keys: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_remote(self.tcp, self.keys, "tcp", "keys")


def _check_remote(endpoint: str, keys: str, endpoint_name: str, keys_name: str) -> None:
    if endpoint and not endpoint.startswith("tcp://"):
        raise ValueError(f"{endpoint_name} must be tcp://HOST:PORT")
    if endpoint and not keys:
        raise ValueError(
            f"{endpoint_name} needs {keys_name}: TCP is never opened without CurveZMQ keys"
        )
