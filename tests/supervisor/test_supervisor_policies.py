"""Restart intensity, backoff and strategies as plain functions."""

from __future__ import annotations

import random

import pytest

from kelly_actors.config.performance import ChildSpec, SupervisorSettings
from kelly_actors.supervisor.backoff import Backoff
from kelly_actors.supervisor.child import FAILED, STOPPED, Child
from kelly_actors.supervisor.intensity import RestartIntensity
from kelly_actors.supervisor.policy import RestartPolicy
from kelly_actors.supervisor.strategy import restart_set


def test_intensity_allows_max_restarts_and_refuses_the_next_within_the_window() -> None:
    intensity = RestartIntensity(max_restarts=3, period=10.0)
    assert [intensity.allow(t) for t in (0.0, 1.0, 2.0)] == [True, True, True]
    assert intensity.allow(3.0) is False


def test_intensity_forgets_restarts_older_than_the_window() -> None:
    intensity = RestartIntensity(max_restarts=2, period=5.0)
    assert intensity.allow(0.0) and intensity.allow(1.0)
    assert intensity.allow(6.5)  # 0.0 and 1.0 are outside (1.5, 6.5]
    assert intensity.recent == 1


def test_a_zero_intensity_escalates_at_the_first_restart() -> None:
    assert RestartIntensity(0, 60.0).allow(0.0) is False


def test_backoff_restarts_the_first_failure_at_once_then_doubles_with_jitter_up_to_the_cap() -> (
    None
):
    backoff = Backoff(initial=0.1, maximum=0.5, rng=random.Random(0))
    delays = [backoff.next_delay() for _ in range(6)]
    assert delays[0] == 0.0
    for n, delay in enumerate(delays[1:], start=2):
        nominal = min(0.5, 0.1 * 2 ** (n - 2))
        assert nominal * 0.5 <= delay <= nominal


def test_backoff_reset_makes_the_next_failure_immediate_again() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0)
    backoff.next_delay()
    backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.0


@pytest.mark.parametrize(
    ("strategy", "failed", "expected"),
    [
        ("one_for_one", "features", ["features"]),
        ("rest_for_one", "features", ["features", "inference", "composer"]),
        ("rest_for_one", "composer", ["composer"]),
        ("one_for_all", "composer", ["audio", "features", "inference", "composer"]),
    ],
)
def test_the_strategy_picks_who_restarts_with_the_failed_actor(strategy, failed, expected) -> None:
    order = ["audio", "features", "inference", "composer"]
    assert restart_set(strategy, failed, order) == expected


ORDER = ["audio", "features", "inference", "composer"]


def child(name: str, restart: str = "permanent") -> Child:
    return Child(ChildSpec(name, "m:A", restart=restart), Backoff(0.1, 1.0, random.Random(0)))


@pytest.mark.parametrize(
    ("restart", "crashed", "state"),
    [("temporary", True, FAILED), ("temporary", False, STOPPED), ("transient", False, STOPPED)],
)
def test_the_policy_leaves_down_what_its_restart_kind_says_stays_down(restart, crashed, state):
    policy = RestartPolicy(SupervisorSettings(), ORDER)
    verdict = policy.on_exit(child("features", restart), crashed, "exit code 1", 0.0)
    assert (verdict.state, verdict.together, verdict.escalate) == (state, (), "")


def test_the_policy_restarts_a_crash_with_its_strategy_set_after_its_backoff() -> None:
    policy = RestartPolicy(SupervisorSettings(strategy="rest_for_one"), ORDER)
    features = child("features", "transient")
    first = policy.on_exit(features, True, "exit code 1", 0.0)
    assert first.together == ("features", "inference", "composer") and first.delay == 0.0
    assert policy.on_exit(features, True, "exit code 1", 1.0).delay > 0.0


def test_the_policy_escalates_beyond_the_intensity_and_names_the_last_exit() -> None:
    policy = RestartPolicy(SupervisorSettings(max_restarts=1, max_seconds=10.0), ORDER)
    audio = child("audio")
    assert policy.on_exit(audio, True, "exit code 1", 0.0).together == ("audio",)
    verdict = policy.on_exit(audio, True, "killed by SIGSEGV", 1.0)
    assert verdict.state == FAILED and verdict.together == ()
    assert verdict.escalate == "audio: 2 restarts within 10 s (max 1); last: killed by SIGSEGV"


def test_a_stable_run_resets_the_backoff_and_a_short_one_does_not() -> None:
    policy = RestartPolicy(SupervisorSettings(stable_after=2.0), ORDER)
    audio = child("audio")
    audio.backoff.next_delay()
    audio.ready_at = 10.0
    policy.settle(audio, 11.0)
    assert audio.backoff.failures == 1
    policy.settle(audio, 12.5)
    assert audio.backoff.failures == 0
