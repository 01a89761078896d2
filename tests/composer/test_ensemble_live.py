"""An ensemble live on JACK: three performers into kelly:in_1..in_3, one stream each
through features and inference, fused by the composer's rule.

A test JACK client (another process, tests/support/jack_player.py) plays a bright fast
major pattern into in_1 (ana, the leader), a slow dark low one into in_2 (ben) and
silence into in_3 (cleo). Two composers subscribe to the same estimates: one with the
``leader`` rule, one with ``mean``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from performance import REPO, Performance, kelly, ready_process, wait_until

EXAMPLE = REPO / "examples" / "ensemble.toml"
PLAYER = REPO / "tests" / "support" / "jack_player.py"
#: Estimates of each stream (~94 a second) before the streams are compared.
SETTLED = 200

#: A second composer beside the example's: the same streams fused by the mean, writing
#: no notes (it only listens).
MEAN_COMPOSER = """
[[actors]]
name = "composer_mean"
target = "kelly_actors.composer.actor:ComposerActor"
depends_on = ["audio"]

[actors.options]
notes_ring = ""
tempo_ring = ""

[actors.options.midi]
api = "none"

[actors.options.ensemble]
streams = 3
names = ["ana", "ben", "cleo"]
rule = "mean"
"""


def ensemble_toml(client: str) -> str:
    """examples/ensemble.toml with its own JACK client name (a CI run may hold "kelly")
    and the mean composer."""
    text = EXAMPLE.read_text()
    text = text.replace(
        "input_channels = 3\n",
        f'input_channels = 3\n\n[actors.options.jack]\nclient = "{client}"\n',
        1,
    )
    return text + MEAN_COMPOSER


def ensemble(perf: Performance, actor: str) -> dict[str, Any]:
    return perf.actor(actor)["telemetry"].get("ensemble") or {}


def by_name(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in view["streams"]}


def both_playing(perf: Performance, actor: str) -> dict[str, Any] | None:
    view = ensemble(perf, actor)
    if not view:
        return None
    s = by_name(view)
    return view if s["ana"]["live"] and s["ben"]["live"] else None


@pytest.fixture
def player(tmp_path: Path):
    """Start the JACK player for a performance whose client is ``client``."""
    with contextlib.ExitStack() as stack:

        def start(client: str) -> subprocess.Popen:
            argv = [sys.executable, str(PLAYER), "--ready", str(tmp_path / "player.ready")]
            argv += ["--connect", f"{client}:in_", "--client", f"{client}-player"]
            argv += ["bright", "dark", "silence"]
            ready = ready_process(argv, tmp_path / "player.ready", "the JACK player")
            return stack.enter_context(ready)

        yield start


@pytest.mark.timeout(150)
def test_three_performers_on_jack_get_their_own_estimates_fused_by_leader_and_mean(
    jack, run_dir, player
) -> None:
    client = f"kens{os.getpid() % 100000}"
    with Performance(run_dir, ensemble_toml(client)) as perf:
        perf.wait_ready()
        proc = player(client)

        # Each stream gets its own estimates; the silent one never counts. The model's
        # state settles over its first frames: read the views after ~2 s of playing.
        def settled() -> list[dict[str, Any]] | None:
            streams = perf.actor("inference")["telemetry"].get("streams") or []
            return streams if streams and min(s["estimates"] for s in streams) >= SETTLED else None

        streams = wait_until(settled, 60, f"{SETTLED} estimates of every stream")
        assert [s["stream"] for s in streams] == [0, 1, 2]
        lead = wait_until(lambda: both_playing(perf, "composer"), 30, "ana and ben heard")
        streams = by_name(lead)
        ana, ben, cleo = streams["ana"], streams["ben"], streams["cleo"]
        assert not cleo["live"] and cleo["share"] == 0.0
        # Loud, fast and bright against slow, quiet and low: arousal is the reliable axis.
        assert ana["arousal"] > ben["arousal"] + 0.1, (ana, ben)
        assert (ana["valence"], ana["dominance"]) != (ben["valence"], ben["dominance"])

        # The leader rule follows the leader.
        assert lead["rule"] == "leader" and lead["leader"] == "ana" and not lead["note"]
        assert ana["leader"] and ana["share"] == 1.0 and ben["share"] == 0.0
        assert lead["fused"]["arousal"] == pytest.approx(ana["arousal"], abs=2e-4)

        # The mean sits between the two who play; the silent one does not pull it down.
        mean = wait_until(lambda: both_playing(perf, "composer_mean"), 30, "the mean view")
        m = by_name(mean)
        assert m["cleo"]["share"] == 0.0 and m["ana"]["share"] == pytest.approx(0.5)
        middle = (m["ana"]["arousal"] + m["ben"]["arousal"]) / 2
        assert mean["fused"]["arousal"] == pytest.approx(middle, abs=2e-4)
        assert m["ben"]["arousal"] < mean["fused"]["arousal"] < m["ana"]["arousal"]

        # kelly top shows one line per performer, the leader marked.
        top = kelly("top", "--once", run_dir=run_dir)
        assert top.returncode == 0, top.stderr
        assert "ENSEMBLE  rule leader (ana)" in top.stdout
        assert re.search(r"★ ana +V [+-]\d\.\d\d  A \d\.\d\d .* share 100%", top.stdout)
        assert re.search(r"\n  cleo +(not heard yet|.*out \(silent\))", top.stdout)

        # The leader stops: after dropout_s the rule falls back to the others and says so.
        proc.send_signal(signal.SIGUSR1)

        def fell_back() -> dict[str, Any] | None:
            view = ensemble(perf, "composer")
            return view if "leader ana silent" in (view.get("note") or "") else None

        view = wait_until(fell_back, 30, "the leader rule to fall back")
        s = by_name(view)
        assert not s["ana"]["live"] and s["ben"]["live"] and s["ben"]["share"] == 1.0
        assert view["fused"]["arousal"] == pytest.approx(s["ben"]["arousal"], abs=2e-4)
        wait_until(
            lambda: any(
                e.get("event") == "ensemble" and "ana silent" in str(e.get("detail", e))
                for e in perf.events()
            ),
            30,
            "the ensemble event in the log",
        )
        assert perf.stop() == 0
