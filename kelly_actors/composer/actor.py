"""The live composer actor: fused emotion → bars of music, on time, to three places.

Each bar is composed one bar ahead (bar n while bar n−1 plays; a
performance's first bar at once, to start a fraction of a second after the
performance does) by
:class:`~kelly_actors.composer.bar_composer.BarComposer`, stamped with
absolute transport sample times, and sent

* to the ``notes`` ring for the synth, whole, at composition time;
* to the ``tempo`` ring as a tempo request from the bar line on, so the
  clock's bars are the composer's bars;
* to a live MIDI port, each message when its sample time comes
  (:mod:`~kelly_actors.composer.live.sample_clock` maps samples to
  ``time.monotonic()``);
* to a crash-safe recording (:mod:`~kelly_actors.composer.live.recorder`).

Emotion changes (``feel``, ``set_emotion``, ``estimate``, ``lock``) are
taken by :mod:`~kelly_actors.composer.live.fusion` at the next bar that is
composed, i.e. on a bar line. The control state (bar grid, composer state,
emotion, locks, take) is published after every bar, so a replacement carries
on from the next bar in the same key with the same emotion. See
docs/composer.md.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from kelly_actors.actor.base import Actor, CallError
from kelly_actors.bus import messages, note_events
from kelly_actors.bus.ring import RingWriter
from kelly_actors.bus.transport import TransportState
from kelly_actors.composer import transformer_live as live_transformer
from kelly_actors.composer.bar_composer import BarComposer, ComposerState
from kelly_actors.composer.emotion import intent
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.emotion.text import MAX_TEXT_CHARS, analyse
from kelly_actors.composer.live.fusion import (
    EmotionFusion,
    Fused,
    FusionError,
    FusionSettings,
    axis_name,
    nearest_name,
    pad_from,
)
from kelly_actors.composer.live.midi_port import APIS, MidiPort
from kelly_actors.composer.live.recorder import SegmentRecorder
from kelly_actors.composer.live.sample_clock import SampleClock
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.music.notes import BEATS_PER_BAR, DRUM_CHANNEL, TRACKS, TRACKS_BY_NAME, Note
from kelly_actors.music.theory import Key

#: A bar line closer than this (s) when a bar is about to be composed is too
#: close to make; the grid moves on to the following bar line.
GUARD_S = 0.05
#: A fresh performance's first bar line lies this far (s) past the transport
#: sample seen when it is composed. Its notes must reach the synth before the
#: synth renders that sample: the synth keeps ``lookahead_blocks`` blocks
#: (4 × 256 frames = 21 ms by default) rendered ahead of the clock, plus the
#: block it is writing; composing a bar takes about 1 ms. The margin left
#: (≈ 20 ms) absorbs this loop being scheduled late; a note later still is
#: played at once by the synth (counted as ``late_events``), not lost.
FIRST_BAR_LEAD_S = GUARD_S
#: What the transformer gets (s) for a fresh performance's first bar (engines
#: hybrid and transformer), added to FIRST_BAR_LEAD_S: its answer takes about
#: 20 ms on an idle machine and 60 ms on a busy one (docs/transformer.md).
#: Less than the whole deadline, so the first sound comes 150 ms after the start,
#: not 300 ms; a slower answer leaves bar 0 to the rule engines.
FIRST_BAR_MODEL_S = 0.1
#: MIDI messages this early (s) are sent now: the loop wakes in whole ms.
SEND_EARLY_S = 0.0005
#: Poll the transport at least this often (s) when nothing else is due.
IDLE_WAKE_S = 0.05
#: Ring event ordering at one sample time: setup, then offs, then ons.
_ORDER = {
    note_events.EventKind.PROGRAM: 0,
    note_events.EventKind.EMOTION: 0,
    note_events.EventKind.NOTE_OFF: 1,
    note_events.EventKind.NOTE_ON: 2,
}


@dataclass(frozen=True)
class ComposerConfig:
    """The composer's ``[actors.options]``.

    Attributes:
        seed: fixes every random choice (key, harmony, motifs).
        strategy: express | soothe | transform — how ``feel`` with a desire travels.
        journey_bars: bars a text journey takes.
        valence, arousal, dominance: the emotion before anyone says anything.
        notes_ring / tempo_ring: rings to write ("" = none).
        midi_api: jack | alsa | coremidi | auto | none.
        midi_client / midi_port: the MIDI client and port names.
        midi_connect: connect to the first destination whose name contains this
            ("" = a virtual port others connect to).
        midi_retry_s: seconds between attempts to open a missing MIDI port.
        recording_dir: where takes go ("" = ``<run dir>/recordings``, "off" = none);
            ``kelly run --record DIR`` records the take straight into DIR instead.
        segment_bars: bars per recording segment before a new one starts.
        confidence_gate, smoothing, estimate_timeout_s, neural_weight, deadband:
            the fusion settings (docs/composer.md).
        estimates: the inference actor's PUB socket in the run directory, subscribed to
            for ``estimate`` messages ("" = none; docs/inference.md).
        engine: rules | transformer | hybrid — who writes the music (docs/transformer.md).
        transformer_service: the inference actor's variations socket in the run
            directory: its workers write the transformer's bars ("" = a thread of
            this process, with ``transformer_model``).
        transformer_model: the ONNX step model when the composer runs it itself
            (relative paths: from the repository).
        transformer_tracks: the tracks ``hybrid`` lets the transformer write.
        transformer_deadline_ms: how long a bar waits for the transformer before the
            rule engines' version of it is scheduled instead.
    """

    seed: int = 0
    strategy: str = "transform"
    journey_bars: int = 16
    valence: float = 0.0
    arousal: float = 0.5
    dominance: float = 0.5
    notes_ring: str = "notes"
    tempo_ring: str = "tempo"
    midi_api: str = "jack"
    midi_client: str = "kelly"
    midi_port: str = "composer"
    midi_connect: str = ""
    midi_retry_s: float = 2.0
    recording_dir: str = ""
    segment_bars: int = 256
    confidence_gate: float = 0.4
    smoothing: float = 0.3
    estimate_timeout_s: float = 5.0
    neural_weight: float = 0.5
    deadband: float = 0.04
    estimates: str = "estimates.sock"
    engine: str = "rules"
    transformer_service: str = "variations.sock"
    transformer_model: str = "models/transformer.onnx"
    transformer_tracks: tuple[str, ...] = ("melody", "counter")
    transformer_deadline_ms: float = 250.0

    def __post_init__(self) -> None:
        intent.Strategy(self.strategy)  # ValueError names the bad value
        PAD(self.valence, self.arousal, self.dominance)
        if self.midi_api not in (*APIS, "none"):
            raise ValueError(f"midi_api must be one of {', '.join([*APIS, 'none'])}")
        if self.journey_bars < 1 or self.segment_bars < 1:
            raise ValueError("journey_bars and segment_bars must be >= 1")
        for name in ("confidence_gate", "smoothing", "neural_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0…1")
        if self.estimate_timeout_s <= 0 or self.midi_retry_s <= 0 or self.deadband < 0:
            raise ValueError("estimate_timeout_s and midi_retry_s must be > 0, deadband >= 0")
        live_transformer.check(self.engine, self.transformer_tracks, self.transformer_deadline_ms)

    def fusion(self) -> FusionSettings:
        return FusionSettings(
            strategy=self.strategy,
            journey_bars=self.journey_bars,
            confidence_gate=self.confidence_gate,
            smoothing=self.smoothing,
            estimate_timeout_s=self.estimate_timeout_s,
            neural_weight=self.neural_weight,
            deadband=self.deadband,
        )


@dataclass(frozen=True)
class ScheduledBar:
    """A composed bar: where it starts (sample), its tempo, key and emotion."""

    bar: int
    start_sample: int
    tempo: float
    key: Key
    emotion: Fused


class ComposerActor(Actor):
    """Composes bar by bar against the transport; never lets the beat stop."""

    Config = ComposerConfig
    deadline = 0.05

    # -- lifecycle -------------------------------------------------------------

    def on_start(self) -> None:
        cfg: ComposerConfig = self.config
        self.notes_out = self._writer(cfg.notes_ring, note_events.EVENT_SHAPE)
        self.tempo_out = self._writer(cfg.tempo_ring, note_events.TEMPO_SHAPE)
        self.tempo_frame = np.empty(note_events.TEMPO_SHAPE, np.float64)
        self.composer = BarComposer(cfg.seed)
        self.fusion = EmotionFusion(cfg.fusion(), PAD(cfg.valence, cfg.arousal, cfg.dominance))
        self.problems: dict[str, str] = {}
        self.clock: SampleClock | None = None
        self.pending_midi: deque[tuple[int, bytes]] = deque()
        self.recent: deque[ScheduledBar] = deque(maxlen=4)
        self.stats = {"bars": 0, "ring_dropped_bars": 0, "midi_late_ms_max": 0.0, "regrids": 0}
        self.now_sample = 0.0
        self.first_bar_of_incarnation = True

        restored = self.ctx.restored_state
        self.next_bar = int(restored.get("next_bar", 0))
        self.next_bar_sample: int | None = restored.get("next_bar_sample")
        self.prev_bar_sample: int | None = restored.get("prev_bar_sample")
        state = restored.get("composer")
        self.cstate: ComposerState | None = ComposerState.from_dict(state) if state else None
        if "fusion" in restored:
            self.fusion.restore(restored["fusion"])
        self.take = str(restored.get("take") or time.strftime("take-%Y%m%d-%H%M%S"))

        self.midi = MidiPort(cfg.midi_api, cfg.midi_client, cfg.midi_port, cfg.midi_connect)
        self.midi_retry_at = 0.0
        self._open_midi(time.monotonic())
        self.recorder = self._open_recorder()
        self.estimates = self._subscribe(cfg.estimates)
        self.bad_estimates = 0
        self.transformer = live_transformer.LiveTransformer.start(
            cfg, self.ctx.run_dir, self.problems
        )
        self._health()
        self._publish()

    def on_stop(self) -> None:
        self.transformer.close()
        if self.estimates is not None:
            self.estimates.close(0)
        self.midi.all_notes_off()
        self.midi.close()
        self._publish()

    # -- setup helpers -----------------------------------------------------------

    def _writer(self, ring: str, shape: tuple[int, ...]) -> RingWriter | None:
        if not ring:
            return None
        writer = self.ctx.writer(ring)
        if writer.spec.shape != shape or writer.spec.dtype != np.dtype(np.float64):
            raise ValueError(f"ring {ring!r} must be float64 {list(shape)}")
        return writer

    def _open_recorder(self) -> SegmentRecorder | None:
        cfg: ComposerConfig = self.config
        if self.ctx.record_dir is not None:
            # `kelly run --record DIR`: DIR holds this take, beside the audio.
            take_dir = self.ctx.record_dir
        elif cfg.recording_dir == "off":
            return None
        else:
            base = Path(cfg.recording_dir) if cfg.recording_dir else self.ctx.run_dir / "recordings"
            take_dir = base / self.take
        try:
            return SegmentRecorder(take_dir, cfg.segment_bars)
        except OSError as exc:
            self.problems["recording"] = f"recording off: {exc}"
            return None

    def _open_midi(self, now: float) -> None:
        if not self.midi.enabled or self.midi.is_open:
            return
        error = self.midi.open()
        if error:
            self.problems["midi"] = error
            self.midi_retry_at = now + self.config.midi_retry_s
            return
        self.problems.pop("midi", None)
        # A predecessor killed mid-bar left its notes hanging on the receiver.
        self.midi.all_notes_off()
        for track in TRACKS:
            if track.channel != DRUM_CHANNEL:
                self.midi.send([0xC0 | track.channel, track.program])

    def _health(self) -> None:
        if self.problems:
            self.ctx.set_degraded("; ".join(self.problems[k] for k in sorted(self.problems)))
        else:
            self.ctx.set_healthy()

    def _subscribe(self, name: str) -> zmq.Socket | None:
        """SUB to the inference actor's estimates (connecting before it binds is fine)."""
        if not name:
            return None
        sock = zmq.Context.instance().socket(zmq.SUB)
        sock.linger = 0
        sock.maxmsgsize = messages.MAX_HEADER_BYTES + 64
        sock.setsockopt(zmq.SUBSCRIBE, b"estimate")
        sock.connect(f"ipc://{self.ctx.run_dir / name}")
        return sock

    def _take_estimates(self) -> None:
        """Every queued estimate goes through the same path as the ``estimate`` call."""
        while self.estimates is not None:
            try:
                frames = self.estimates.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                msg = messages.decode(frames[1:])
                if msg.type != "estimate":
                    raise messages.ProtocolError("unknown_type", msg.type)
                self._estimate(msg.fields)
            except (messages.ProtocolError, CallError, FusionError):
                self.bad_estimates += 1

    # -- the loop ---------------------------------------------------------------

    def next_wakeup(self) -> float:
        now = time.monotonic()
        due = now + IDLE_WAKE_S
        if self.clock is None or self.clock.offset is None:
            return due
        if self.pending_midi:
            due = min(due, self.clock.time_of(self.pending_midi[0][0]) - SEND_EARLY_S)
        due = self.transformer.wake_at(now, due)
        if self.prev_bar_sample is not None:
            due = min(due, self.clock.time_of(self.prev_bar_sample))
        return due

    def step(self) -> None:
        self._take_estimates()
        now = time.monotonic()
        transport = self.ctx.transport.read()
        if transport is None or not transport.running:
            self.problems["clock"] = "no running clock in the transport"
            self._health()
            return
        if "clock" in self.problems:
            del self.problems["clock"]
            self._health()
        if self.clock is None or self.clock.sample_rate != transport.sample_rate:
            self.clock = SampleClock(transport.sample_rate)
        self.clock.observe(transport.sample_counter, now)
        self.now_sample = self.clock.sample_at(now)
        self._send_due_midi()
        if self.transformer.waiting is not None:
            self._finish_transformer_bar(transport, now)
        elif self.next_bar_sample is None or self.prev_bar_sample is None:
            self._anchor(transport)
        if self.transformer.waiting is None and self.now_sample >= self.prev_bar_sample:
            if self.next_bar_sample < self.now_sample + GUARD_S * transport.sample_rate:
                self._anchor(transport)  # we fell behind (a long restart): skip ahead
            self._compose_next(transport, now)
            self._send_due_midi()
        if self.midi.enabled and not self.midi.is_open and now >= self.midi_retry_at:
            self._open_midi(now)
            self._health()

    def _anchor(self, transport: TransportState) -> None:
        """Place the next bar: right away when it opens the performance, else on the
        transport's next bar line."""
        if self._starts_performance():
            self._start_now(transport)
        else:
            self._regrid(transport)

    def _starts_performance(self) -> bool:
        """True before the first bar of the performance: the first incarnation,
        nothing composed yet. A replacement always has a grid to continue (its
        predecessor's, or the transport's bar lines), never a bar of its own."""
        return self.ctx.incarnation == 1 and self.cstate is None

    def _first_bar_lead_s(self) -> float:
        """Seconds from now to a fresh performance's first bar line: longer only when
        a model will be asked for the bar."""
        if self.transformer.engine == "rules" or self.transformer.model is None:
            return FIRST_BAR_LEAD_S
        return FIRST_BAR_LEAD_S + min(FIRST_BAR_MODEL_S, self.config.transformer_deadline_ms / 1e3)

    def _start_now(self, transport: TransportState) -> None:
        """Put the first bar line :meth:`_first_bar_lead_s` ahead of the transport, not
        on its next bar line (that would open every performance with a silent bar).

        The bar is numbered as the clock counts its pre-roll (bar 0 at the start of a
        performance); the bar's tempo request then moves the clock's bar line onto it,
        so the transport's beat jumps once, by less than half a bar, before any note.
        """
        rate = transport.sample_rate
        sample = math.ceil(self.now_sample + self._first_bar_lead_s() * rate)
        samples_per_beat = 60.0 / transport.tempo * rate
        beat = transport.beat + (sample - transport.sample_counter) / samples_per_beat
        self.next_bar = max(0, round(beat / transport.beats_per_bar))
        self.next_bar_sample = sample
        # Compose it in this step: floor, so the step's own sample is already past it.
        self.prev_bar_sample = math.floor(self.now_sample)

    def _regrid(self, transport: TransportState) -> None:
        """Put the next bar on the transport's next bar line at least GUARD_S ahead."""
        rate = transport.sample_rate
        spb = 60.0 / transport.tempo * rate
        bpb = transport.beats_per_bar
        beat_now = transport.beat + (self.now_sample - transport.sample_counter) / spb
        line = (math.floor(beat_now / bpb) + 1) * bpb
        sample = transport.sample_counter + (line - transport.beat) * spb
        while sample < self.now_sample + GUARD_S * rate:
            sample += bpb * spb
        self.next_bar_sample = round(sample)
        self.prev_bar_sample = round(self.now_sample)
        if self.cstate is None:
            # A replacement whose predecessor composed nothing numbers its bars as
            # the clock does; any other keeps its predecessor's count (the clock
            # follows the tempo requests).
            self.next_bar = max(
                0, round((transport.beat + (sample - transport.sample_counter) / spb) / bpb)
            )
        else:
            self.stats["regrids"] += 1

    def _send_due_midi(self) -> None:
        clock = self.clock
        if clock is None:
            return
        horizon = self.now_sample + SEND_EARLY_S * clock.sample_rate
        pending = self.pending_midi
        late_max = self.stats["midi_late_ms_max"]
        while pending and pending[0][0] <= horizon:
            sample, message = pending.popleft()
            self.midi.send(message)
            late = (self.now_sample - sample) / clock.sample_rate * 1000.0
            late_max = max(late_max, late)
        self.stats["midi_late_ms_max"] = late_max

    # -- one bar ---------------------------------------------------------------

    def _compose_next(self, transport: TransportState, now: float) -> None:
        bar, start = self.next_bar, int(self.next_bar_sample)
        emotion = self.fusion.next_bar(now)
        params = map_emotion(emotion.point, self.cstate.mode if self.cstate else None)
        notes, self.cstate = self.composer.compose_bar(bar, params, self.cstate)
        due = self._bar_due(start, now)
        if self.transformer.ask(bar, params, notes, emotion, start, due, now, self.cstate.key):
            return  # scheduled by _finish_transformer_bar when the answer or the deadline comes
        self._schedule_bar(transport, bar, start, params, notes, emotion)
        self._health_if_changed()

    def _schedule_bar(
        self,
        transport: TransportState,
        bar: int,
        start: int,
        params: Any,
        notes: list[Note],
        emotion: Fused,
    ) -> None:
        tempo = params.tempo_bpm
        spb = 60.0 / tempo * transport.sample_rate
        bar_samples = round(BEATS_PER_BAR * spb)
        key = self.cstate.key
        events = self._events(start, bar_samples, spb, notes, emotion)

        if self.tempo_out is not None:
            note_events.tempo_request(
                self.tempo_frame, start, tempo, bar * BEATS_PER_BAR, BEATS_PER_BAR
            )
            self.tempo_out.write(self.tempo_frame, start)
        self._write_ring(events, emotion.point)
        if self.midi.is_open:
            self.pending_midi.extend(_midi_messages(events))
        if self.recorder is not None:
            try:
                self.recorder.add_bar(bar, notes, tempo, key, emotion.point.as_tuple())
            except OSError as exc:
                self.recorder = None
                self.problems["recording"] = f"recording stopped: {exc}"
                self._health()

        self.recent.append(ScheduledBar(bar, start, tempo, key, emotion))
        self.prev_bar_sample = start
        self.next_bar_sample = start + bar_samples
        self.next_bar = bar + 1
        self.first_bar_of_incarnation = False
        self.stats["bars"] += 1
        self.transformer.played(tempo, notes)
        self._publish()

    # -- the transformer's variation (docs/transformer.md) -------------------------

    def _bar_due(self, start: int, now: float) -> float:
        """The last moment (monotonic s) a bar starting at ``start`` may be scheduled."""
        clock = self.clock
        return clock.time_of(start) - GUARD_S if clock is not None else now

    def _finish_transformer_bar(self, transport: TransportState, now: float) -> None:
        """Schedule the waiting bar: the model's answer if it came in time, else the rules'."""
        done = self.transformer.collect(now)
        if done is not None:
            bar, start, params, notes, emotion = done
            self._schedule_bar(transport, bar, start, params, notes, emotion)
            self._health_if_changed()

    def _health_if_changed(self) -> None:
        if self.transformer.problem_changed():
            self._health()

    def _events(
        self, start: int, bar_samples: int, spb: float, notes: list[Note], emotion: Fused
    ) -> list[tuple[int, int, int, int, int]]:
        """(sample, kind, channel, key, velocity), sorted; EMOTION first at the bar line."""
        events = [(start, note_events.EventKind.EMOTION, -1, 0, 0)]
        if self.first_bar_of_incarnation:
            events += [
                (start, note_events.EventKind.PROGRAM, t.channel, t.program, 0)
                for t in TRACKS
                if t.channel != DRUM_CHANNEL
            ]
        end = start + bar_samples
        for n in notes:
            channel = TRACKS_BY_NAME[n.track].channel
            on = start + round(n.start_beat * spb)
            off = min(end, max(on + 1, start + round(n.end_beat * spb)))
            events.append((on, note_events.EventKind.NOTE_ON, channel, n.pitch, n.velocity))
            events.append((off, note_events.EventKind.NOTE_OFF, channel, n.pitch, 0))
        events.sort(key=lambda e: (e[0], _ORDER[e[1]]))
        return events

    def _write_ring(self, events: list[tuple[int, int, int, int, int]], emotion: PAD) -> None:
        ring = self.notes_out
        if ring is None:
            return
        if ring.free() < len(events):
            # Half a bar would leave notes without their offs: drop it whole,
            # but keep the bar line's emotion if it fits.
            self.stats["ring_dropped_bars"] += 1
            events = events[:1] if ring.free() >= 1 else []
        v, a, d = emotion.as_tuple()
        for sample, kind, channel, key, velocity in events:
            view = ring.claim()
            if view is None:
                return
            if kind == note_events.EventKind.NOTE_ON:
                note_events.note_on(view, sample, channel, key, velocity)
            elif kind == note_events.EventKind.NOTE_OFF:
                note_events.note_off(view, sample, channel, key)
            elif kind == note_events.EventKind.EMOTION:
                note_events.emotion(view, sample, v, a, d)
            else:
                note_events.program(view, sample, channel, key)
            ring.publish(sample)

    def _publish(self) -> None:
        self.ctx.publish_state(
            {
                "next_bar": self.next_bar,
                "next_bar_sample": self.next_bar_sample,
                "prev_bar_sample": self.prev_bar_sample,
                "composer": self.cstate.to_dict() if self.cstate is not None else None,
                "fusion": self.fusion.to_dict(),
                "take": self.take,
            }
        )

    # -- commands -------------------------------------------------------------

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = {
            "feel": self._feel,
            "set_emotion": self._set_emotion,
            "estimate": self._estimate,
            "lock": self._lock,
            "unlock": self._unlock,
            "panic": self._panic,
            "get": lambda _: self.telemetry(),
        }.get(method)
        if handler is None:
            return super().on_call(method, args)
        try:
            result = handler(args)
        except FusionError as exc:
            raise CallError(str(exc)) from None
        if method != "get":
            self._publish()
        return result

    def _feel(self, args: dict[str, Any]) -> dict[str, Any]:
        text = args.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CallError("feel needs a non-empty text")
        if len(text) > MAX_TEXT_CHARS:
            raise CallError(f"text too long ({len(text)} characters, at most {MAX_TEXT_CHARS})")
        result = analyse(text)
        self.fusion.feel(result)
        target = self.fusion.target
        return {
            "nearest": list(result.nearest),
            "confidence": round(result.confidence, 4),
            "desired": list(result.desired_nearest),
            "target": _pad_dict(target) if target is not None else None,
            "from_bar": self.next_bar,
        }

    def _set_emotion(self, args: dict[str, Any]) -> dict[str, Any]:
        point = pad_from(args)
        self.fusion.set_emotion(point)
        return {**_pad_dict(point), "nearest": nearest_name(point), "from_bar": self.next_bar}

    def _estimate(self, args: dict[str, Any]) -> dict[str, Any]:
        point = pad_from(args)
        confidence = args.get("confidence")
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise CallError(f"confidence must be a number within 0…1, got {confidence!r}")
        stamp = args.get("time", time.time())
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise CallError(f"time must be Unix seconds, got {stamp!r}")
        age = max(0.0, time.time() - float(stamp))
        if age > self.config.estimate_timeout_s:
            return {"accepted": False, "reason": f"stale ({age:.1f} s old)"}
        accepted = self.fusion.estimate(point, float(confidence), time.monotonic() - age)
        return {"accepted": accepted, "reason": "" if accepted else "below the confidence gate"}

    def _lock(self, args: dict[str, Any]) -> dict[str, Any]:
        axis = axis_name(args.get("axis"))
        return {"axis": axis, "value": round(self.fusion.lock(axis), 4), "locks": self._locks()}

    def _unlock(self, args: dict[str, Any]) -> dict[str, Any]:
        axis = axis_name(args.get("axis"))
        self.fusion.unlock(axis)
        return {"axis": axis, "locks": self._locks()}

    def _panic(self, args: dict[str, Any]) -> dict[str, Any]:
        """All notes off now, on the ring and the MIDI port; the music goes on."""
        sample = round(self.now_sample)
        written = False
        if self.notes_out is not None and (view := self.notes_out.claim()) is not None:
            note_events.all_notes_off(view, sample)
            self.notes_out.publish(sample)
            written = True
        self.midi.all_notes_off()
        return {"sample": sample, "ring": written, "midi": self.midi.is_open}

    def _locks(self) -> dict[str, float]:
        return {a: round(v, 4) for a, v in self.fusion.locks.items()}

    # -- status ---------------------------------------------------------------

    def _playing(self) -> ScheduledBar | None:
        """The composed bar sounding now (the newest that has started)."""
        now = self.now_sample
        started = [b for b in self.recent if b.start_sample <= now]
        if started:
            return started[-1]
        return self.recent[0] if self.recent else None

    def telemetry(self) -> dict[str, Any]:
        playing = self._playing()
        fused = playing.emotion if playing is not None else self.fusion.playing
        key = playing.key if playing is not None else (self.cstate.key if self.cstate else None)
        target = self.fusion.target
        recorder = self.recorder
        return {
            "emotion": fused.to_dict(),
            "target": _pad_dict(target) if target is not None else None,
            "nearest": nearest_name(fused.point),
            "key": key.name if key is not None else None,
            "mode": key.mode if key is not None else None,
            "tempo": round(playing.tempo, 3) if playing is not None else None,
            "bar": playing.bar if playing is not None else None,
            "composed_bar": self.next_bar - 1,
            "locks": self._locks(),
            "journey_bars_left": len(self.fusion.journey),
            "midi_port": self.midi.name if self.midi.is_open else None,
            "midi": {
                "api": self.midi.api,
                "sent": self.midi.sent,
                "errors": self.midi.errors,
                "late_ms_max": round(self.stats["midi_late_ms_max"], 3),
            },
            "recording": str(recorder.path) if recorder and recorder.path else None,
            "recording_bars": recorder.total_bars if recorder else 0,
            "neural": {"accepted": self.fusion.accepted, "gated": self.fusion.gated},
            "bad_estimates": self.bad_estimates,
            "transformer": self.transformer.telemetry(),
            "bars": self.stats["bars"],
            "ring_dropped_bars": self.stats["ring_dropped_bars"],
            "regrids": self.stats["regrids"],
        }


def _pad_dict(point: PAD) -> dict[str, float]:
    v, a, d = point.as_tuple()
    return {"valence": round(v, 4), "arousal": round(a, 4), "dominance": round(d, 4)}


def _midi_messages(events: list[tuple[int, int, int, int, int]]) -> list[tuple[int, bytes]]:
    out = []
    for sample, kind, channel, key, velocity in events:
        if kind == note_events.EventKind.NOTE_ON:
            out.append((sample, bytes((0x90 | channel, key, velocity))))
        elif kind == note_events.EventKind.NOTE_OFF:
            out.append((sample, bytes((0x80 | channel, key, 0))))
        elif kind == note_events.EventKind.PROGRAM:
            out.append((sample, bytes((0xC0 | channel, key))))
    return out
