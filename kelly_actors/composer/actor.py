"""The live composer actor: fused emotion → bars of music, on time, to three places.

Each bar is composed one bar ahead (bar n while bar n−1 plays; a
performance's first bar at once, to start a fraction of a second after the
performance does) by
:class:`~kelly_actors.composer.bar_composer.BarComposer`, placed on the bar grid
(:mod:`~kelly_actors.composer.live.bar_grid`), stamped with absolute transport
sample times, and sent by :mod:`~kelly_actors.composer.live.outputs`

* to the ``notes`` ring for the synth, whole, at composition time;
* to the ``tempo`` ring as a tempo request from the bar line on, so the
  clock's bars are the composer's bars;
* to a live MIDI port, each message when its sample time comes
  (:class:`~kelly_actors.bus.clock.SampleTimeline` maps samples to
  ``time.monotonic()``);
* to a crash-safe recording (:mod:`~kelly_actors.composer.live.recorder`).

Emotion changes (``feel``, ``set_emotion``, ``estimate``, ``lock``:
:mod:`~kelly_actors.composer.live.calls`; the sensors' readings from the
``sensors`` ring; the symbolic listener's estimates of a performer's MIDI input from the
``midi_in`` ring) are taken by
:mod:`~kelly_actors.composer.live.fusion` at the next bar that is composed,
i.e. on a bar line. The control state (bar grid, composer state, emotion,
locks, take) is published after every bar, so a replacement carries on from
the next bar in the same key with the same emotion. A composer that raises
releases every note first (:meth:`ComposerActor.on_failure`). See
docs/composer.md.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
import zmq

from kelly_actors.actor.base import Actor, CallError
from kelly_actors.actor.context import ActorContext
from kelly_actors.bus import messages, sockets
from kelly_actors.bus.clock import SampleTimeline
from kelly_actors.bus.transport import LinkWords, TransportState
from kelly_actors.composer.bar_composer import BarComposer, ComposerState
from kelly_actors.composer.config import ComposerConfig
from kelly_actors.composer.live import calls, ensemble
from kelly_actors.composer.live.bar_grid import (
    FIRST_BAR_LEAD_S,
    FIRST_BAR_MODEL_S,
    GUARD_S,
    BarGrid,
)
from kelly_actors.composer.live.bar_log import BarLog
from kelly_actors.composer.live.fusion import EmotionFusion, Fused, FusionError
from kelly_actors.composer.live.outputs import SEND_EARLY_S, BarOutputs
from kelly_actors.composer.live.telemetry import ScheduledBar, composer_telemetry
from kelly_actors.composer.mapper import MusicalParams, map_emotion
from kelly_actors.composer.transformer_live import LiveTransformer
from kelly_actors.link.grid import bar_start
from kelly_actors.music.notes import BEATS_PER_BAR, Note
from kelly_actors.sensors.reading import ROW_DTYPE, ROW_SHAPE, BadReading, Reading
from kelly_actors.symbolic import reading as symbolic

#: Poll the transport at least this often (s) when nothing else is due.
IDLE_WAKE_S = 0.05


class ComposerActor(Actor):
    """Composes bar by bar against the transport; never lets the beat stop."""

    Config = ComposerConfig
    deadline = 0.05

    def __init__(self, ctx: ActorContext, config: ComposerConfig) -> None:
        super().__init__(ctx, config)
        restored = ctx.restored_state
        #: Why the composer is degraded, by part (clock, midi, recording, transformer).
        self.problems: dict[str, str] = {}
        self.composer = BarComposer(config.seed)
        state = restored.get("composer")
        self.cstate: ComposerState | None = ComposerState.from_dict(state) if state else None
        self.fusion = EmotionFusion(config.fusion, config.emotion.point(), config.ensemble)
        self.ensemble_note = ""
        if "fusion" in restored:
            self.fusion.restore(restored["fusion"])
        self.grid = BarGrid.restored(restored)
        self.take = str(restored.get("take") or time.strftime("take-%Y%m%d-%H%M%S"))
        self.outputs = BarOutputs(config, self.problems)
        self.transformer = LiveTransformer.start(
            config.transformer, config.seed, ctx.run_dir, self.problems
        )
        #: Transport samples ↔ time.monotonic(), once the transport runs.
        self.clock: SampleTimeline | None = None
        #: The transport sample (fractional) at this step's time.monotonic().
        self.now_sample = 0.0
        self.first_bar_of_incarnation = True
        #: The last bars scheduled, to tell which one sounds now.
        self.recent: deque[ScheduledBar] = deque(maxlen=4)
        self.bars = 0
        #: Each bar's ``bar`` event (kelly report's timeline).
        self.bar_log = BarLog()
        self.estimates: zmq.Socket | None = None
        self.bad_estimates = 0
        self.mismatch_said = False
        #: The transport's Link words; with Link the session places bars (link/grid.py).
        self.link = LinkWords()
        self.link_tempo: float | None = None
        self.sensor_row = np.zeros(ROW_SHAPE, ROW_DTYPE)
        self.bad_sensor_readings = 0
        self.midi_row = np.zeros(symbolic.ROW_SHAPE, symbolic.ROW_DTYPE)
        self.bad_midi_readings = 0

    # -- lifecycle -------------------------------------------------------------

    def on_start(self) -> None:
        self.outputs.open(self.ctx, self.take, time.monotonic())
        self.estimates = self._subscribe(self.config.estimates)
        ring = self.config.sensors_ring
        self.sensors = self.ctx.reader(ring) if ring in self.ctx.launch.reads else None
        ring = self.config.midi_in_ring
        self.midi_in = self.ctx.reader(ring) if ring in self.ctx.launch.reads else None
        self._health()
        self._publish()

    def on_stop(self) -> None:
        self.transformer.close()
        if self.estimates is not None:
            self.estimates.close(0)
        self.outputs.close()
        self._publish()

    def on_failure(self, exc: BaseException) -> None:
        """Release every note (ring and MIDI) so none hangs until the replacement starts."""
        clock = self.clock
        now = time.monotonic()
        sample = self.now_sample
        if clock is not None and clock.ready:
            sample = clock.sample_at(now)
        self.outputs.all_notes_off(round(sample))
        self.outputs.midi.close()

    def _health(self) -> None:
        if self.problems:
            self.ctx.set_degraded("; ".join(self.problems[k] for k in sorted(self.problems)))
        else:
            self.ctx.set_healthy()

    def _subscribe(self, name: str) -> zmq.Socket | None:
        """SUB to the inference actor's estimates (connecting before it binds is fine)."""
        if not name:
            return None
        sock = sockets.make(zmq.Context.instance(), zmq.SUB, messages.MAX_HEADER_BYTES + 64)
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
                calls.estimate(self, msg.fields)
            except (messages.ProtocolError, CallError, FusionError) as exc:
                self.bad_estimates += 1
                self._stream_mismatch(exc)

    def _stream_mismatch(self, exc: Exception) -> None:
        """Say once when estimates come from more streams than the ensemble has (the
        frames ring has more rows than ``ensemble.streams``): they are not heard."""
        if "not one of the ensemble" in str(exc) and not self.mismatch_said:
            self.mismatch_said = True
            self.ctx.emit("ensemble_mismatch", reason=f"{exc}: set [actors.options.ensemble]")

    def _take_sensors(self) -> None:
        """The sensors' newest readings (the OSC actor writes them; docs/osc.md)."""
        ring = self.sensors
        while ring is not None and ring.available() > 0 and ring.read_into(self.sensor_row):
            try:
                self.fusion.sensor(Reading.from_row(self.sensor_row))
            except BadReading:
                self.bad_sensor_readings += 1

    def _take_midi_in(self) -> None:
        """The symbolic listener's newest estimate (the MIDI input actor writes it)."""
        ring = self.midi_in
        while ring is not None and ring.available() > 0 and ring.read_into(self.midi_row):
            try:
                self.fusion.symbolic(symbolic.Reading.from_row(self.midi_row))
            except symbolic.BadReading:
                self.bad_midi_readings += 1

    # -- the loop ---------------------------------------------------------------

    def next_wakeup(self) -> float:
        now = time.monotonic()
        due = now + IDLE_WAKE_S
        clock = self.clock
        if clock is None or not clock.ready:
            return due
        midi_sample = self.outputs.next_midi_sample()
        if midi_sample is not None:
            due = min(due, clock.time_of(midi_sample) - SEND_EARLY_S)
        due = self.transformer.wake_at(now, due)
        if self.grid.prev_bar_sample is not None:
            due = min(due, clock.time_of(self.grid.prev_bar_sample))
        return due

    def step(self) -> None:
        self._take_estimates()
        self._take_sensors()
        self._take_midi_in()
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
            self.clock = SampleTimeline(transport.sample_rate)
        self.clock.observe(transport.sample_counter, now)
        self.now_sample = self.clock.sample_at(now)
        rate = transport.sample_rate
        self.outputs.send_due_midi(self.now_sample, rate)
        self.link = self.ctx.transport.read_link()
        if self.link.stopped:  # start/stop sync: the Link session is stopped
            return
        if self.transformer.waiting is not None:
            self._finish_transformer_bar(transport, now)
        elif not self.grid.anchored:
            self._anchor(transport)
        if self.transformer.waiting is None and self.grid.due(self.now_sample):
            if self.grid.behind(self.now_sample, rate):
                self._anchor(transport)  # we fell behind (a long restart): skip ahead
            self._compose_next(transport, now)
            self.outputs.send_due_midi(self.now_sample, rate)
        if self.outputs.midi_retry_due(now):
            self.outputs.open_midi(now)
            self._health()

    def _anchor(self, transport: TransportState) -> None:
        """Place the next bar: right away when it opens the performance (the first
        incarnation, nothing composed yet), else on the transport's next bar line. A
        replacement always has a grid to continue, never a bar of its own."""
        if self.ctx.incarnation == 1 and self.cstate is None:
            self.grid.start_now(transport, self.now_sample, self._first_bar_lead_s())
        else:
            self.grid.regrid(transport, self.now_sample, composed=self.cstate is not None)

    def _first_bar_lead_s(self) -> float:
        """Seconds from now to a fresh performance's first bar line: longer only when
        a model will be asked for the bar."""
        if self.transformer.engine == "rules" or self.transformer.model is None:
            return FIRST_BAR_LEAD_S
        deadline_s = self.config.transformer.deadline_ms / 1e3
        return FIRST_BAR_LEAD_S + min(FIRST_BAR_MODEL_S, deadline_s)

    # -- one bar ---------------------------------------------------------------

    def _compose_next(self, transport: TransportState, now: float) -> None:
        bar, start = self.grid.next_bar, int(self.grid.next_bar_sample)
        self.link_tempo = None
        if self.link.linked:  # on the session's next bar line, at the session's tempo there
            rate, planned = transport.sample_rate, start
            earliest = self.now_sample + GUARD_S * rate
            start, self.link_tempo = bar_start(
                transport, self.link, earliest, planned, BEATS_PER_BAR
            )
            self.grid.regrids += int(self.bars > 0 and abs(start - planned) > rate / 1000)
        emotion = self.fusion.next_bar(now)
        self._ensemble_event()
        params = map_emotion(emotion.point, self.cstate.mode if self.cstate else None)
        notes, self.cstate = self.composer.compose_bar(bar, params, self.cstate)
        due = self._bar_due(start, now)
        if self.transformer.ask(bar, params, notes, emotion, start, due, now, self.cstate.key):
            return  # scheduled by _finish_transformer_bar when the answer or the deadline comes
        self._schedule_bar(transport, bar, start, params, notes, emotion)
        self._health_if_changed()

    def _ensemble_event(self) -> None:
        """Log when the ensemble's rule falls back (the leader went silent) or recovers."""
        view = self.fusion.ensemble_view
        note = view.note if view is not None else ""
        if note != self.ensemble_note:
            self.ctx.emit("ensemble", rule=view.rule, note=note or "every rule's stream plays")
            self.ensemble_note = note

    def _schedule_bar(
        self,
        transport: TransportState,
        bar: int,
        start: int,
        params: MusicalParams,
        notes: list[Note],
        emotion: Fused,
    ) -> None:
        tempo = params.tempo_bpm if self.link_tempo is None else self.link_tempo
        samples_per_beat = 60.0 / tempo * transport.sample_rate
        bar_samples = round(BEATS_PER_BAR * samples_per_beat)
        key = self.cstate.key
        first = self.first_bar_of_incarnation
        if self.outputs.send_bar(
            bar, start, samples_per_beat, bar_samples, tempo, notes, key, emotion.point, first,
            wish=params.tempo_bpm,
        ):  # fmt: skip
            self._health()
        self.recent.append(ScheduledBar(bar, start, tempo, key, emotion))
        self.ctx.emit("bar", **self.bar_log.record(self, bar, start, tempo, key, emotion))
        self.grid.advance(bar, start, bar_samples)
        self.first_bar_of_incarnation = False
        self.bars += 1
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

    def _publish(self) -> None:
        self.ctx.publish_state(
            {
                **self.grid.to_state(),
                "composer": self.cstate.to_dict() if self.cstate is not None else None,
                "fusion": self.fusion.to_dict(),
                "take": self.take,
            }
        )

    # -- commands and status -----------------------------------------------------

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "get":
            return self.telemetry()
        handler = calls.HANDLERS.get(method)
        if handler is None:
            return super().on_call(method, args)
        try:
            result = handler(self, args)
        except FusionError as exc:
            raise CallError(str(exc)) from None
        self._publish()
        return result

    def telemetry(self) -> dict[str, Any]:
        body = self.fusion.body
        sensors = {
            "body": body.to_dict() if body is not None else None,
            "readings": len(self.fusion.sensors),
            "bad_readings": self.bad_sensor_readings,
        }
        midi = self.fusion.midi
        heard = self.fusion.heard
        listener = {
            "reading": midi.to_dict(time.monotonic()) if midi is not None else None,
            "counted": heard.to_dict() if heard is not None else None,
            "bad_readings": self.bad_midi_readings,
        }
        out = {**composer_telemetry(self), "sensors": sensors, "midi_in": listener}
        if self.fusion.ensemble.active:
            gate = self.config.fusion.confidence_gate
            now = time.monotonic()
            out["ensemble"] = ensemble.status(self.fusion.ensemble, self.fusion.voices, now, gate)
        return out
