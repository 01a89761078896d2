"""The symbolic listener beside the composer's emotion, as ``kelly top`` shows it: a JACK MIDI
client plays into a real performance; the composer's bar records carry what the listener
heard and its telemetry's agreement says how far the two agree (the audio listener, not in
this performance, says it has no reading)."""

from __future__ import annotations

import time

import pytest
from midi_in_support import (
    JackSender,
    client_name,
    midi_in_performance,
    port_of,
    tune,
    until_composer,
)
from performance import Performance, kelly

pytestmark = [pytest.mark.jack, pytest.mark.slow]


def test_kelly_top_shows_what_the_midi_listener_hears_beside_the_composer(jack, run_dir) -> None:
    with Performance(run_dir, midi_in_performance(client_name("agree"))) as perf:
        port = port_of(perf)["input"]["port"]
        until_composer(perf, lambda t: t["bar"] is not None, 30, "the composer's first bar")
        with JackSender(client_name("agree-tx"), run_dir) as sender:
            sender.connect(port)
            start = time.monotonic()
            for at, message in tune([60, 64, 67, 72, 76, 79], 120, 0.09, 60):
                delay = start + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing the performer's notes, not waiting for a result
                sender.send([message])
            sender.drain()
            heard = until_composer(
                perf,
                lambda t: t["agreement"]["midi"]["heard"] >= 2,
                20,
                "two bars with the MIDI listener's reading",
            )
        figures = heard["agreement"]
        midi, audio = figures["midi"], figures["audio"]
        assert figures["window"] == 16 and midi["bars"] <= 16
        assert midi["last"]["arousal"] > 0.7 and midi["last"]["confidence"] >= 0.2
        assert 0.0 <= midi["quadrant"] <= 1.0
        assert set(midi["distance"]) == {"valence", "arousal", "dominance"}
        assert (audio["heard"], audio["reason"]) == (0, "no listener reading")

        shown = kelly("top", "--once", run_dir=run_dir, timeout=30)
        assert shown.returncode == 0, shown.stderr
        text = " ".join(shown.stdout.split())
        assert "LISTENER vs COMPOSER (last 16 bars, conf ≥ 0.20)" in text
        assert "audio no listener reading" in text
        assert "midi hears V" in text and "same quadrant" in text
        assert perf.stop() == 0
