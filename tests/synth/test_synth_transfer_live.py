"""Timbre transfer in a real performance: a WAV as the live input drives the violin decoder."""

from __future__ import annotations

import numpy as np
import pytest
from performance import REPO, Performance, wait_until
from transfer_support import SR, glide, transfer_graph_toml, write_wav

from kelly_actors.audio.features.extractor import extract
from kelly_actors.audio.wav import read
from kelly_actors.bus import frames as L

BLOCK = 256
LOOKAHEAD = 4
#: The least latency a frame can have: its whole window must have arrived (2048 samples), and
#: by then the synth has rendered LOOKAHEAD − 1 further blocks ahead of the arriving block.
MIN_LATENCY_MS = (2048 + (LOOKAHEAD - 1) * BLOCK) / SR * 1e3
MAX_LATENCY_MS = 150.0


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_sung_glide_through_the_live_graph_comes_out_as_a_violin_at_the_same_pitch(
    run_dir,
) -> None:
    signal, _ = glide(4.0, 220.0, 330.0, level=0.25, lead_s=1.0)
    wav = write_wav(run_dir / "sung.wav", np.concatenate([signal, np.zeros(SR, np.float32)]))
    record = run_dir / "rec"
    config = transfer_graph_toml(
        wav, str(record), {"timbre_model": str(REPO / "models/ddsp-violin.onnx")}
    )
    with Performance(run_dir, config) as perf:
        perf.wait_ready(45)
        synth = perf.wait_actor(
            "synth",
            lambda a: (
                a["telemetry"].get("transfer_latency_ms") is not None
                and a["telemetry"].get("transfer_voiced")
            ),
            30,
            "the transfer voice to pick up the sung input",
        )
        assert synth["telemetry"]["mode"] == "transfer"
        assert synth["telemetry"]["transfer_timbre"] == "violin"
        total = wav.stat().st_size // 2  # 16-bit mono samples of the file

        def played() -> bool:
            return perf.actor("audio")["telemetry"]["callbacks"] * BLOCK >= total

        wait_until(played, 30, "the whole input file to play")
        tele = perf.actor("synth")["telemetry"]
        audio = perf.actor("audio")["telemetry"]
        assert perf.stop() == 0

    assert tele["transfer_frames"] > 200
    latency = tele["transfer_latency_ms"]
    assert MIN_LATENCY_MS <= latency <= MAX_LATENCY_MS, {
        k: v for k, v in tele.items() if "transfer" in k or "skipped" in k
    }
    inp, _ = read(record / "input.wav")
    out, _ = read(record / "output.wav")
    n = min(inp.shape[0], out.shape[0])
    assert np.max(np.abs(out[:n])) > 0.01, (
        "the transfer voice is silent",
        {k: audio[k] for k in ("callbacks", "underruns", "late_blocks", "sample")},
        tele,
    )
    _, fin = extract(inp[:n, 0], SR, 2048, 512)
    _, fout = extract(out[:n, 0], SR, 2048, 512)
    # Output frame j carries input frame j − lag: lag from the reported latency.
    lag = round((latency / 1e3 * SR - 1024 + 511) / 512)
    j = np.arange(lag, len(fout))
    i = j - lag
    both = (fin[i, L.F0_HZ] > 0) & (fout[j, L.F0_HZ] > 0) & (fin[i, L.LOUDNESS_DB] > -30)
    assert both.sum() > 200, "under 2 s of the 4 s glide came out voiced"
    cents = 1200.0 * np.abs(np.log2(fout[j[both], L.F0_HZ] / fin[i[both], L.F0_HZ]))
    assert np.median(cents) < 25.0 and np.percentile(cents, 90) < 50.0, np.percentile(cents, 90)
