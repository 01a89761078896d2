"""Kill the synth of a recorded performance and measure the hole it leaves in ``output.wav``."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

import numpy as np
from audio_support import HeldNoteActor, HeldNoteConfig, live_graph_toml
from performance import Performance, wait_until

from kelly_actors.bus import note_events as ne

SAMPLE_RATE = 48_000
BLOCK = 256


def restart_graph_toml(
    record_dir: str,
    backoff_initial: float,
    backoff_max: float,
    preset: str,
    key: int,
    notes_target: str = "",
    notes_options: dict[str, Any] | None = None,
) -> str:
    """The audio path (null backend, recording when ``record_dir``) with a held note and the
    given backoff; ``notes_target`` replaces the note source (e.g. :class:`ControlNoteActor`)."""
    text = live_graph_toml(
        synth={"preset": preset},
        notes={"key": key, "seconds": 0.0, **(notes_options or {})},
        record_dir=record_dir,
    )
    backoff = f"backoff_initial = {backoff_initial}\nbackoff_max = {backoff_max}\n"
    text = text.replace("[supervisor]\n", "[supervisor]\n" + backoff, 1)
    if notes_target:
        text = text.replace('"audio_support:HeldNoteActor"', f'"{notes_target}"', 1)
    return text


@dataclass(frozen=True)
class ControlNoteConfig(HeldNoteConfig):
    """A held note preceded by an emotion and a program change (channel 0), as a composer's
    first bar would send them. PAD values; ``program`` is a General MIDI program 0–127."""

    valence: float = 0.5
    arousal: float = 0.8
    dominance: float = 1.0
    program: int = 73  # flute


class ControlNoteActor(HeldNoteActor):
    """:class:`HeldNoteActor` that first sends EMOTION and PROGRAM events on the ring."""

    Config = ControlNoteConfig

    def step(self) -> None:
        cfg: ControlNoteConfig = self.config
        if self.next_note is None:
            state = self.ctx.transport.read()
            if state is None or state.sample_counter == 0:
                return
            t = state.sample_counter + int(cfg.lead * state.sample_rate)
            self.writer.write(ne.emotion(self.event, t, cfg.valence, cfg.arousal, cfg.dominance))
            self.writer.write(ne.program(self.event, t, 0, cfg.program))
        super().step()


def audio_sample(perf: Performance) -> int:
    """Samples the callback has played by its last heartbeat (a lower bound of now)."""
    return int(perf.actor("audio")["telemetry"]["callbacks"]) * BLOCK


def wait_audio(perf: Performance, samples: int, timeout: float) -> int:
    """Wait until the callback has played ``samples`` more; returns where it then was."""
    start = audio_sample(perf)
    return wait_until(
        lambda: (now := audio_sample(perf)) >= start + samples and now, timeout, "more audio"
    )


@dataclass
class Kill:
    """One SIGKILL of the synth: the pids and where the clock was (samples)."""

    old_pid: int
    new_pid: int
    clock_before: int
    telemetry: dict[str, Any]


def kill_synth(perf: Performance, timeout: float = 15.0) -> Kill:
    """SIGKILL the synth; wait for its successor to be ready and to report its rebuild."""
    old = perf.actor("synth")["pid"]
    clock = audio_sample(perf)
    os.kill(old, signal.SIGKILL)
    new = perf.wait_actor(
        "synth",
        lambda a: (
            a["pid"] not in (None, old) and a["state"] == "ready" and "rebuild_ms" in a["telemetry"]
        ),
        timeout,
        "a new synth reporting its rebuild",
    )
    return Kill(old, new["pid"], clock, new["telemetry"])


def restart_delays(perf: Performance, actor: str = "synth") -> list[float]:
    """Backoff delays (s) the supervisor applied to ``actor``'s restarts, in order."""
    return [
        float(e["detail"]["delay_s"])
        for e in perf.events()
        if e["event"] == "actor_restarting" and e["detail"].get("actor") == actor
    ]


def restart_spans(perf: Performance, actor: str = "synth") -> list[float]:
    """Seconds from each exit of ``actor`` to its successor's ready, from the event log
    (the restart delay, the spawn and the rebuild: what a loaded machine stretches)."""
    spans, exited = [], None
    for e in perf.events():
        if e["detail"].get("actor") != actor:
            continue
        if e["event"] == "actor_exited":
            exited = float(e["time"])
        elif e["event"] == "actor_ready" and exited is not None:
            spans.append(float(e["time"]) - exited)
            exited = None
    return spans


def silences(samples: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Runs of consecutive samples whose every channel is below ``threshold`` in magnitude.

    Args:
        samples: float ``(n, channels)``.
        threshold: linear amplitude.

    Returns:
        ``(start, length)`` in samples for each run, in order.
    """
    quiet = np.abs(samples).max(axis=1) < threshold
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def longest_silence(samples: np.ndarray, begin: int, end: int, threshold: float) -> tuple[int, int]:
    """The longest silent run ``(start, length)`` within ``samples[begin:end]`` (absolute
    sample indices); ``(begin, 0)`` when there is none."""
    runs = [(begin + s, n) for s, n in silences(samples[begin:end], threshold)]
    return max(runs, key=lambda r: r[1], default=(begin, 0))
