"""Per-run names and the sweep: dead runs' objects go, live runs' stay."""

from __future__ import annotations

import subprocess
import sys

from performance import env_with_support

from kelly_actors.bus import namespace
from kelly_actors.bus.namespace import RunNamespace, runtime_dir
from kelly_actors.bus.shm import Segment


def test_the_sweep_removes_a_dead_runs_segments_and_keeps_a_live_runs() -> None:
    code = (
        "import os\n"
        "from kelly_actors.bus.namespace import RunNamespace\n"
        "from kelly_actors.bus.shm import Segment\n"
        "ns = RunNamespace.create()\n"
        "Segment.create(ns.segment_name('left'), 4096)\n"
        "print(ns.tag, flush=True)\n"
        "os._exit(0)\n"  # dies without releasing anything
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env_with_support(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    dead_tag = out.stdout.strip()
    assert (runtime_dir() / f"kelly-{dead_tag}-left").exists()
    live = RunNamespace.create()
    try:
        seg = Segment.create(live.segment_name("mine"), 4096)
        removed = namespace.sweep_dead_runs()
        assert f"kelly-{dead_tag}-left" in removed
        assert f"kelly-{dead_tag}.lock" in removed
        assert not (runtime_dir() / f"kelly-{dead_tag}-left").exists()
        assert (runtime_dir() / live.segment_name("mine")).exists()
        assert not namespace.run_is_dead(live.tag)
        seg.close()
    finally:
        live.release()
    assert namespace.run_is_dead(live.tag)


def test_object_names_carry_the_prefix_and_refuse_odd_characters() -> None:
    ns = RunNamespace.create()
    try:
        assert ns.segment_name("audio_in") == f"kelly-{ns.tag}-audio_in"
        try:
            ns.segment_name("../etc")
        except ValueError as exc:
            assert "invalid object name" in str(exc)
        else:
            raise AssertionError("a path-like name was accepted")
    finally:
        ns.release()


def test_a_successor_adopts_a_run_only_once_its_owner_let_go_and_abandons_it_intact() -> None:
    owner = RunNamespace.create()
    seg = Segment.create(owner.segment_name("ring"), 4096)
    try:
        try:
            RunNamespace.adopt(owner.tag)
        except LookupError as exc:
            assert "still owned" in str(exc)
        else:
            raise AssertionError("a live run was adopted")
        owner.abandon()  # as a SIGKILLed owner: the lock goes, the objects stay
        successor = RunNamespace.adopt(owner.tag)
        assert not namespace.run_is_dead(owner.tag)
        successor.abandon()
        assert (runtime_dir() / owner.segment_name("ring")).exists()
    finally:
        seg.close()
        namespace.sweep_dead_runs()
    assert not (runtime_dir() / owner.segment_name("ring")).exists()
    try:
        RunNamespace.adopt(owner.tag)
    except LookupError as exc:
        assert "is gone" in str(exc)
    else:
        raise AssertionError("a swept run was adopted")
