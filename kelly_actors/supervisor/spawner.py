"""Starting an actor process: the checks before any starts, its launch description and the
forkserver it forks from."""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.process import BaseProcess

from kelly_actors.actor import runtime
from kelly_actors.actor.launch import Launch, RingAttachment
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.supervisor.child import Child
from kelly_actors.supervisor.rundir import RunDir


def validate_actors(config: PerformanceConfig) -> None:
    """Import every actor class, check its options and run its preflight,
    before anything starts."""
    for spec in config.actors:
        cls = runtime.load_actor_class(spec.target)
        options = from_mapping(cls.Config, spec.options, f"actors.{spec.name}.options")
        rings = {
            r.name: r.spec()
            for r in config.rings
            if r.writer == spec.name or spec.name in r.readers
        }
        try:
            cls.preflight(options, rings)
        except ConfigError as exc:
            raise ConfigError(f"actors.{spec.name}: {exc}") from None


class Spawner:
    """Starts incarnations of the actors of one run, in its namespace."""

    def __init__(
        self, config: PerformanceConfig, run_dir: RunDir, ns: RunNamespace, actors_endpoint: str
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.ns = ns
        self.actors_endpoint = actors_endpoint
        self.mp = multiprocessing.get_context("forkserver")
        modules = sorted({s.target.partition(":")[0] for s in config.actors})
        # Each child re-runs the main module (multiprocessing does, to find pickled
        # functions): preloading every project module this process has imported
        # makes that nearly free. The main module itself must not be preloaded
        # (runpy would warn that it is already imported).
        main = getattr(sys.modules["__main__"].__spec__, "name", None)
        loaded = sorted(m for m in sys.modules if m.startswith("kelly_actors.") and m != main)
        preload = ["kelly_actors.actor.runtime", *modules, *loaded]
        self.mp.set_forkserver_preload([*preload, "kelly_actors.actor.forkserver_freeze"])

    def launch(self, child: Child) -> Launch:
        """What incarnation ``child.incarnation`` of ``child`` is started with."""
        name = child.name
        return Launch(
            name=name,
            target=child.spec.target,
            options=child.spec.options,
            incarnation=child.incarnation,
            supervisor_pid=os.getpid(),
            endpoint=self.actors_endpoint,
            transport=self.ns.segment_name("transport"),
            writes={
                r.name: RingAttachment(self.ns.segment_name(r.name))
                for r in self.config.rings
                if r.writer == name
            },
            reads={
                r.name: RingAttachment(self.ns.segment_name(r.name), r.readers.index(name))
                for r in self.config.rings
                if name in r.readers
            },
            heartbeat_interval=child.spec.heartbeat_interval,
            cpu_affinity=child.spec.cpu_affinity,
            nice=child.spec.nice,
            restored_state=child.saved_state,
            record_dir=self.config.supervisor.record_dir,
            run_dir=str(self.run_dir.path.resolve()),
            tag=self.ns.tag,
            adoption_grace=self.config.supervisor.adoption_grace,
        )

    def start(self, child: Child) -> BaseProcess:
        """Start ``child``'s next incarnation (the caller counts it first)."""
        proc = self.mp.Process(
            target=runtime.main, args=(self.launch(child),), name=f"kelly-{child.name}"
        )
        proc.start()
        return proc
