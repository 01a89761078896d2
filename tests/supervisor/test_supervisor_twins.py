"""A standby (``twin_of``) gets every command its primary gets, with the primary's result."""

from __future__ import annotations

import json

import pytest
from performance import REPO, Performance, kelly, wait_until

VIOLIN = REPO / "models" / "ddsp-violin.onnx"


def _synths(perf: Performance) -> dict[str, dict]:
    return {name: perf.actor(name)["telemetry"] for name in ("synth", "synth_b")}


def _gaps(perf: Performance) -> dict[str, tuple[int, int]]:
    """Each synth's (restarts, skipped blocks): the two timing decisions after which a neural
    voice cannot be bit-identical to its twin's (its decoder's recurrent state restarts)."""
    actors = {a["name"]: a for a in perf.status()["actors"]}
    return {
        name: (actors[name]["restarts"], actors[name]["telemetry"].get("skipped_blocks", 0))
        for name in ("synth", "synth_b")
    }


@pytest.mark.slow
def test_a_timbre_swap_reaches_the_standby_on_the_primarys_bar_line(run_dir) -> None:
    with Performance(run_dir, None) as perf:
        perf.wait_ready()
        gaps_before = _gaps(perf)
        done = kelly("ctl", "load-model", "ddsp", str(VIOLIN), run_dir=run_dir)
        assert done.returncode == 0, done.stderr
        switch_at = json.loads(done.stdout)["switch_at"]
        wait_until(
            lambda: all(t.get("timbre") == "violin" for t in _synths(perf).values()),
            15,
            "both synths on the violin",
        )
        # Past the crossfade, both render the same blocks again: the audio actor has
        # compared every block of both rings and found none that differ.
        wait_until(
            lambda: perf.actor("audio")["telemetry"]["sample"] > switch_at + 48_000,
            15,
            "a second past the swap",
        )
        audio = perf.actor("audio")["telemetry"]
        synths = _synths(perf)
        gaps_after = _gaps(perf)
        assert perf.stop() == 0
        events = perf.events()
    names = [e["event"] for e in events]
    assert "standby_call_failed" not in names
    fallbacks = [e for e in events if e["event"] == "timbre_fallback"]
    report = {"audio": audio, "synths": synths, "gaps": (gaps_before, gaps_after)}
    diverged = sum(audio["diverged_blocks"].values())
    if fallbacks or (diverged and gaps_after != gaps_before):
        # Decisions of timing, not of the events, on a loaded machine: a synth whose
        # decoder ran late went back to the preset voice, or one that stalled past its
        # look-ahead skipped blocks (or was restarted) and its neural voices restarted
        # their decoders. The two then differ, and what must hold is that the standby
        # was caught, not trusted.
        assert "standby_diverged" in names, (fallbacks, report)
        return
    assert audio["diverged_blocks"] == {"audio_out": 0, "audio_out_b": 0}, report
    assert audio["standby_trusted"] is True, report
    assert "standby_diverged" not in names, report
