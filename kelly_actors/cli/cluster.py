"""``kelly cluster serve|status|stop``: the emotion model and the transformer as replicas on
a running Ray cluster (the ``cluster`` extra), for performances with ``backend = "ray"``.

The address comes from ``--address`` or the environment (``KELLY_RAY_ADDRESS``,
``RAY_ADDRESS``); this machine must be a node of the cluster (``ray start``).
``serve --autoscale`` stays and keeps the replicas between ``--min-replicas`` and
``--max-replicas`` by how full their batches and queues are.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.inference.cluster.config import ClusterConfig
from kelly_actors.inference.config import DEFAULT_MODEL

#: Seconds between two looks of the autoscaler.
SCALE_EVERY_S = 2.0


def performance_cluster(path: str) -> dict:
    """The ``[actors.options.cluster]`` table of the performance's inference actor ({} if
    it has none); ValueError if the file is not a performance."""
    from kelly_actors.config.performance import load

    for actor in load(path).actors:
        if actor.target.endswith("InferenceActor"):
            return dict(actor.options.get("cluster") or {})
    raise ValueError(f"{path}: no inference actor")


def _config(args: argparse.Namespace) -> ClusterConfig:
    """The performance's cluster settings (``--config``), the flags given over them."""
    fields = performance_cluster(args.config) if getattr(args, "config", None) else {}
    fields.setdefault("namespace", "kelly")
    for name in ("address", "namespace", "node_ip"):
        if getattr(args, name, None):
            fields[name] = getattr(args, name)
    for name in ("replicas", "min_replicas", "max_replicas", "max_batch", "batch_wait_ms"):
        if getattr(args, name, None) is not None:
            fields[name] = getattr(args, name)
    for name in ("num_cpus", "num_gpus", "threads"):
        if getattr(args, name, None) is not None:
            fields[name] = getattr(args, name)
    if "replicas" in fields:
        fields.setdefault("min_replicas", min(fields["replicas"], ClusterConfig.min_replicas))
        fields.setdefault("max_replicas", max(fields["replicas"], ClusterConfig.max_replicas))
    return from_mapping(ClusterConfig, fields, "cluster")


def _connect(args: argparse.Namespace):
    from kelly_actors.inference.cluster import deploy

    config = _config(args)
    return deploy, config, deploy.connect(config)


def _serve(args: argparse.Namespace) -> int:
    from kelly_actors.inference.cluster.deploy import ClusterError
    from kelly_actors.inference.model import ModelError

    try:
        deploy, config, ray = _connect(args)
        stats = deploy.deploy(ray, config, args.model or None, args.transformer or None)
    except (ClusterError, ModelError, ConfigError, ValueError) as exc:
        print(f"kelly cluster serve: {exc}", file=sys.stderr)
        return 1
    for name, s in stats.items():
        print(f"{name}: pid {s['pid']} on {s['host']}, {s['provider']}, models {s['models']}")
    if not args.autoscale:
        return 0
    try:
        _autoscale(deploy, ray, config, args)
    except KeyboardInterrupt:
        return 0
    return 0


def _autoscale(deploy, ray, config: ClusterConfig, args: argparse.Namespace) -> None:
    """Add a replica when the replicas' queues or batches run full, remove the last one when
    they idle; always within min_replicas…max_replicas."""
    count = config.replicas
    before: dict[str, int] = {}
    while True:
        time.sleep(SCALE_EVERY_S)
        handles = deploy.find_replicas(ray, config.namespace)
        stats = [ray.get(h.stats.remote()) for h in handles.values()]
        calls = {s["name"]: s["calls"] for s in stats}
        busy = sum(calls[n] - before.get(n, 0) for n in calls)
        before = calls
        # batch_mean covers the last calls, however old: only a busy interval counts.
        full = busy > 0 and any(
            s["queued"] > config.max_batch or s["batch_mean"] > 0.75 * config.max_batch
            for s in stats
        )
        if full and count < config.max_replicas:
            count += 1
            deploy.deploy(ray, config, args.model or None, args.transformer or None, count)
            print(f"scaled up to {count} replicas", flush=True)
        elif busy == 0 and count > config.min_replicas:
            count -= 1
            deploy.remove(ray, config.namespace, keep=count)
            print(f"scaled down to {count} replicas", flush=True)


def _status(args: argparse.Namespace) -> int:
    from kelly_actors.inference.cluster.deploy import ClusterError

    try:
        deploy, config, ray = _connect(args)
        handles = deploy.find_replicas(ray, config.namespace)
        stats = [ray.get(h.stats.remote(), timeout=10) for h in handles.values()]
    except (ClusterError, ValueError) as exc:
        print(f"kelly cluster status: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a Ray error from a replica
        print(f"kelly cluster status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(stats))
        return 0 if stats else 1
    if not stats:
        print(f"no replicas in namespace {config.namespace!r}", file=sys.stderr)
        return 1
    for s in stats:
        print(
            f"{s['name']}: pid {s['pid']} on {s['host']} ({s['provider']}), "
            f"{s['requests']} requests in {s['calls']} calls (batch mean {s['batch_mean']}, "
            f"max {s['batch_max']}), call {s['call_ms_p50']}/{s['call_ms_p99']} ms p50/p99, "
            f"{s['bars']} bars"
        )
    return 0


def _stop(args: argparse.Namespace) -> int:
    from kelly_actors.inference.cluster.deploy import ClusterError

    try:
        deploy, config, ray = _connect(args)
        gone = deploy.remove(ray, config.namespace)
    except (ClusterError, ValueError) as exc:
        print(f"kelly cluster stop: {exc}", file=sys.stderr)
        return 1
    print(f"removed {len(gone)} replicas" + (f": {', '.join(gone)}" if gone else ""))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", help="HOST:PORT of the cluster (default: $KELLY_RAY_ADDRESS)")
    p.add_argument("--namespace", help="Ray namespace (kelly)")
    p.add_argument(
        "--config",
        metavar="PERFORMANCE.toml",
        help="take the settings from the inference actor's [actors.options.cluster]",
    )
    p.add_argument("--node-ip", help="this node's address in the cluster (default: Ray's)")


def register(subparsers: argparse._SubParsersAction) -> None:
    cluster = subparsers.add_parser(
        "cluster", help="serve inference from a Ray cluster (the cluster extra)"
    )
    sub = cluster.add_subparsers(dest="cluster_command", required=True)
    serve = sub.add_parser("serve", help="deploy the models as replicas to a running cluster")
    _common(serve)
    serve.add_argument("--model", default=DEFAULT_MODEL, help="emotion model (the shipped one)")
    serve.add_argument(
        "--transformer", default="models/transformer.onnx", help='step model ("" = none)'
    )
    serve.add_argument("--replicas", type=int, help="replicas to start (2)")
    serve.add_argument("--min-replicas", type=int, help="autoscaling's lower bound (1)")
    serve.add_argument("--max-replicas", type=int, help="autoscaling's upper bound (4)")
    serve.add_argument("--max-batch", type=int, help="most streams per model call (256)")
    serve.add_argument("--batch-wait-ms", type=float, help="wait for more streams (1 ms)")
    serve.add_argument("--num-cpus", type=float, help="CPUs each replica reserves (1)")
    serve.add_argument("--num-gpus", type=float, help="GPUs each replica reserves (0; >0: CUDA)")
    serve.add_argument("--threads", type=int, help="onnxruntime threads per replica (1)")
    serve.add_argument("--autoscale", action="store_true", help="stay and scale the replicas")
    serve.set_defaults(func=_serve)
    status = sub.add_parser("status", help="the replicas, their batch sizes and latency")
    _common(status)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)
    stop = sub.add_parser("stop", help="remove the replicas")
    _common(stop)
    stop.set_defaults(func=_stop)
