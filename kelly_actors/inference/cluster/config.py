"""The Ray backend's settings: ``[actors.options.cluster]`` of the inference actor and the
flags of ``kelly cluster serve``.

The cluster's address comes from here or from the environment (``KELLY_RAY_ADDRESS``, then
Ray's own ``RAY_ADDRESS``), never from a ZeroMQ message. Ray's token (``RAY_AUTH_TOKEN`` or
``~/.ray/auth_token``) is read by Ray itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kelly_actors.config.typed import Checked, setting

#: The environment variables the address may come from, in order.
ADDRESS_ENV = ("KELLY_RAY_ADDRESS", "RAY_ADDRESS")
#: Ray namespace and name prefix of the replicas ``kelly cluster serve`` deploys.
REPLICA_PREFIX = "kelly-replica-"


@dataclass(frozen=True)
class ClusterConfig(Checked):
    """How the inference actor reaches a Ray cluster, and how replicas are deployed.

    Attributes:
        address: ``HOST:PORT`` of the cluster's GCS ("" = from ``KELLY_RAY_ADDRESS`` or
            ``RAY_ADDRESS``). This machine must be a node of the cluster (``ray start
            --address=…``): the bridge process is a Ray driver on the local raylet.
        namespace: Ray namespace the replicas live in.
        node_ip: this node's address as the cluster knows it ("" = Ray's guess; tests and
            a one-machine cluster use 127.0.0.1).
        slots: requests the bridge keeps in flight at once (one per pool "worker" it
            registers; more streams than slots queue in the pool).
        reconnect_s: seconds between a lost bridge and the next attempt to reach the
            cluster (the local pool serves meanwhile).
        connect_timeout_s: a bridge that has not reached the cluster and found a replica
            within this long gives up (and is tried again after ``reconnect_s``).
        lost_s: a cluster that answers no health check for this long is given up.
        replicas: replicas ``kelly cluster serve`` starts; min_replicas/max_replicas bound
            what ``kelly cluster serve --autoscale`` may scale to.
        max_batch: most streams one replica runs in one model call.
        batch_wait_ms: how long a replica waits for more streams before a model call.
        num_cpus, num_gpus: Ray resources each replica reserves (num_gpus > 0 → CUDA).
        threads: onnxruntime threads per replica.
    """

    address: str = ""
    namespace: str = "kelly"
    node_ip: str = ""
    slots: int = setting(16, low=1, high=256)
    reconnect_s: float = setting(2.0, above=0.0)
    connect_timeout_s: float = setting(20.0, above=0.0)
    lost_s: float = setting(1.0, above=0.0)
    replicas: int = setting(2, low=1)
    min_replicas: int = setting(1, low=1)
    max_replicas: int = setting(4, low=1)
    max_batch: int = setting(256, low=1, high=4096)
    batch_wait_ms: float = setting(1.0, low=0.0, high=100.0)
    num_cpus: float = setting(1.0, low=0.0)
    num_gpus: float = setting(0.0, low=0.0)
    threads: int = setting(1, low=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        if not self.min_replicas <= self.replicas <= self.max_replicas:
            raise ValueError("replicas must lie within min_replicas…max_replicas")

    @property
    def provider(self) -> str:
        """The onnxruntime provider a replica uses: CUDA where it reserves a GPU."""
        return "cuda" if self.num_gpus > 0 else "cpu"

    def resolved_address(self) -> str:
        """The address to connect to; ValueError naming where it may come from if none."""
        if self.address:
            return self.address
        for name in ADDRESS_ENV:
            if os.environ.get(name):
                return os.environ[name]
        raise ValueError(
            "backend = 'ray' needs the cluster's address: [actors.options.cluster] address "
            f"or the environment variable {' or '.join(ADDRESS_ENV)}"
        )
