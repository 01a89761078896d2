"""Reaching a Ray cluster, deploying replicas to it and finding them (needs the ``cluster``
extra: ``pip install kelly-actors[cluster]``).

Replicas are detached, named Ray actors (``kelly-replica-0``, ``-1``, … in the configured
namespace), so they outlive ``kelly cluster serve`` and every performance finds them by
name. Ray restarts a replica whose process dies (``max_restarts``); it gets its models again from
the first bridge that finds it without them.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from kelly_actors.inference.cluster.config import REPLICA_PREFIX, ClusterConfig
from kelly_actors.inference.cluster.replica import Replica
from kelly_actors.inference.model import EmotionModel, ModelError, read_model

#: Ray restarts a dead replica this many times (then it stays dead and is reported).
MAX_RESTARTS = 10
#: Concurrent calls one async replica accepts (requests waiting to be batched).
MAX_CONCURRENCY = 4096


class ClusterError(RuntimeError):
    """The cluster cannot be reached or a replica cannot start; the message says why."""


def import_ray() -> Any:
    """Ray, or ClusterError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "the Ray backend needs the cluster extra: pip install 'kelly-actors[cluster]'"
        ) from None
    return ray


def connect(config: ClusterConfig) -> Any:
    """Join the cluster as a driver (this machine must be a node of it); Ray, connected."""
    try:
        address = config.resolved_address()
    except ValueError as exc:
        raise ClusterError(str(exc)) from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # `ray start` turns token authentication on; a driver must say it uses it too.
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    ray = import_ray()
    options: dict[str, Any] = {
        "address": address,
        "namespace": config.namespace,
        "log_to_driver": False,
        "logging_level": "error",
    }
    if config.node_ip:
        options["_node_ip_address"] = config.node_ip
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc}") from None
    return ray


def transformer_id(data: bytes) -> str:
    """The transformer's id as the inference actor names it (its file's hash)."""
    return f"transformer-{hashlib.sha256(data).hexdigest()[:12]}"


def replica_names(ray: Any, namespace: str) -> list[str]:
    """The deployed replicas' names, in index order."""
    names = [
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a.get("namespace") == namespace and a["name"].startswith(REPLICA_PREFIX)
    ]
    return sorted(names, key=lambda n: int(n[len(REPLICA_PREFIX) :] or 0))


def find_replicas(ray: Any, namespace: str) -> dict[str, Any]:
    """name → actor handle of every deployed replica that Ray still knows."""
    found = {}
    for name in replica_names(ray, namespace):
        try:
            found[name] = ray.get_actor(name, namespace=namespace)
        except ValueError:  # removed between the listing and the look-up
            continue
    return found


def deploy(
    ray: Any,
    config: ClusterConfig,
    model: str | Path | None,
    transformer: str | Path | None,
    count: int | None = None,
    timeout_s: float = 60.0,
) -> dict[str, dict[str, Any]]:
    """Start replicas ``kelly-replica-0 … count-1`` (those already running are kept) with
    the emotion model and the transformer (paths; None = not served) and wait until each
    has loaded them. name → its stats; ClusterError with the replica's reason otherwise."""
    emotion = read_model(model) if model else None
    if emotion is not None:
        EmotionModel(emotion, "cpu", 1, source=str(model))  # refuse a bad file here first
    step = read_model(transformer) if transformer else None
    remote = ray.remote(Replica)
    handles = {}
    for i in range(config.replicas if count is None else count):
        name = f"{REPLICA_PREFIX}{i}"
        handles[name] = remote.options(
            name=name,
            namespace=config.namespace,
            lifetime="detached",
            num_cpus=config.num_cpus,
            num_gpus=config.num_gpus,
            max_concurrency=MAX_CONCURRENCY,
            max_restarts=MAX_RESTARTS,
            get_if_exists=True,
        ).remote(
            name,
            config.provider,
            config.threads,
            config.max_batch,
            config.batch_wait_ms,
        )
    # The models go in calls, not in the constructor's arguments: those would have to
    # outlive this driver for Ray to restart a replica. A restarted replica is sent them
    # again by the bridge that finds it without them.
    loads = []
    for handle in handles.values():
        if emotion is not None:
            loads.append(handle.add_model.remote(EmotionModel(emotion, "cpu", 1).version, emotion))
        if step is not None:
            loads.append(handle.add_transformer.remote(transformer_id(step), step))
    try:
        ray.get(loads, timeout=timeout_s)
    except ray.exceptions.GetTimeoutError:
        raise ClusterError(f"the replicas did not load the models within {timeout_s:g} s") from None
    except ray.exceptions.RayError as exc:
        raise ClusterError(f"a replica failed to load a model: {reason(exc)}") from None
    return wait_ready(ray, handles, timeout_s)


def wait_ready(ray: Any, handles: dict[str, Any], timeout_s: float) -> dict[str, dict[str, Any]]:
    """Each replica's stats once it runs; ClusterError with the first failure's reason."""
    deadline = time.monotonic() + timeout_s
    out = {}
    for name, handle in handles.items():
        try:
            out[name] = ray.get(
                handle.stats.remote(), timeout=max(0.1, deadline - time.monotonic())
            )
        except ray.exceptions.GetTimeoutError:
            raise ClusterError(f"{name} did not start within {timeout_s:g} s") from None
        except ray.exceptions.RayError as exc:
            raise ClusterError(f"{name} failed to start: {reason(exc)}") from None
    return out


def remove(ray: Any, namespace: str, keep: int = 0) -> list[str]:
    """Kill the replicas from index ``keep`` on (0: all); the names removed."""
    gone = []
    for name, handle in find_replicas(ray, namespace).items():
        if int(name[len(REPLICA_PREFIX) :]) >= keep:
            ray.kill(handle, no_restart=True)
            gone.append(name)
    return gone


def reason(exc: BaseException) -> str:
    """The first line that says why a Ray call failed (a ModelError's own text where the
    replica raised one), without Ray's traceback."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, (ModelError, ValueError)):
        return str(cause)
    text = str(exc)
    for marker in ("ModelError: ", "BadRequest: ", "ValueError: "):
        if marker in text:
            return text.split(marker, 1)[1].strip().splitlines()[0]
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else type(exc).__name__
