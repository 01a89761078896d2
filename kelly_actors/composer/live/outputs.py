"""Where a composed bar goes: the ``notes`` and ``tempo`` rings, a MIDI port, a recording.

* ``notes`` ring (the synth): the whole bar at composition time, as
  :func:`~kelly_actors.composer.live.events.bar_events` rows; a bar that does not
  fit is dropped whole (half a bar would leave notes without their offs), keeping
  the bar line's emotion if that fits.
* ``tempo`` ring (the clock): a tempo request from the bar line on, so the clock's
  bars are the composer's bars.
* MIDI: the same events as MIDI messages. ``output = "jack"``: written into the
  ``midi`` ring at composition time, stamped with their samples, for the audio actor's
  JACK cycle to write at their frames (:mod:`~kelly_actors.composer.live.jack_midi`).
  ``output = "rtmidi"``: each sent through python-rtmidi when its sample time comes
  (:meth:`BarOutputs.send_due_midi`); a missing port is retried every ``retry_s``.
* recording: :class:`~kelly_actors.composer.live.recorder.SegmentRecorder`; a write
  error stops the recording, never the music.

Problems (MIDI port missing, recording off) go into the actor's shared ``problems``
dict, keyed ``midi`` and ``recording``.
"""

from __future__ import annotations

import functools
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from kelly_actors.actor.context import ActorContext
from kelly_actors.bus import note_events
from kelly_actors.bus.note_events import TIME
from kelly_actors.bus.ring import RingWriter
from kelly_actors.composer.config import ComposerConfig
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live import jack_midi
from kelly_actors.composer.live.events import bar_events, midi_message
from kelly_actors.composer.live.jack_midi import JackMidiOut
from kelly_actors.composer.live.midi_port import MidiPort
from kelly_actors.composer.live.recorder import SegmentRecorder
from kelly_actors.music.notes import BEATS_PER_BAR, DRUM_CHANNEL, TRACKS, Note
from kelly_actors.music.theory import Key

#: MIDI messages this early (s) are sent now: the loop wakes in whole ms.
SEND_EARLY_S = 0.0005


class BarOutputs:
    """The composer's outputs; nothing is opened until :meth:`open`."""

    def __init__(self, cfg: ComposerConfig, problems: dict[str, str]) -> None:
        self.cfg = cfg
        self.problems = problems
        self.notes: RingWriter | None = None
        self.tempo: RingWriter | None = None
        self.tempo_frame = np.empty(note_events.TEMPO_SHAPE, np.float64)
        midi = cfg.midi
        self.midi: MidiPort | JackMidiOut = (
            JackMidiOut(midi.ring)
            if midi.output == "jack"
            else MidiPort(midi.api, midi.client, midi.port, midi.connect)
        )
        self.midi_retry_at = 0.0
        #: (sample time, MIDI message) in time order, waiting for their time.
        self.pending_midi: deque[tuple[int, bytes]] = deque()
        self.recorder: SegmentRecorder | None = None
        self.ring_dropped_bars = 0
        self.midi_late_ms_max = 0.0

    # -- setup -------------------------------------------------------------------

    def open(self, ctx: ActorContext, take: str, now: float) -> None:
        """Attach the rings, open the MIDI port (or schedule a retry) and the recording."""
        self.notes = _writer(ctx, self.cfg.notes_ring, note_events.EVENT_SHAPE)
        self.tempo = _writer(ctx, self.cfg.tempo_ring, note_events.TEMPO_SHAPE)
        if isinstance(self.midi, JackMidiOut):
            self.midi.attach(ctx.writer(self.midi.ring))
        self.open_midi(now)
        self.recorder = self._open_recorder(ctx, take)

    def _open_recorder(self, ctx: ActorContext, take: str) -> SegmentRecorder | None:
        directory = self.cfg.recording.directory
        if ctx.record_dir is not None:
            # `kelly run --record DIR`: DIR holds this take, beside the audio.
            take_dir = ctx.record_dir
        elif directory == "off":
            return None
        else:
            base = Path(directory) if directory else ctx.run_dir / "recordings"
            take_dir = base / take
        try:
            return SegmentRecorder(
                take_dir,
                self.cfg.recording.segment_bars,
                on_stop=functools.partial(ctx.emit, "recording_stopped"),
            )
        except OSError as exc:
            self.problems["recording"] = f"recording off: {exc}"
            return None

    def open_midi(self, now: float) -> None:
        """Open the MIDI port if wanted and closed; on failure retry at ``now + retry_s``."""
        if not self.midi.enabled or self.midi.is_open:
            return
        error = self.midi.open()
        if error:
            self.problems["midi"] = error
            self.midi_retry_at = now + self.cfg.midi.retry_s
            return
        self.problems.pop("midi", None)
        # A predecessor killed mid-bar left its notes hanging on the receiver.
        self.midi.all_notes_off()
        for track in TRACKS:
            if track.channel != DRUM_CHANNEL:
                self.midi.send([0xC0 | track.channel, track.program])

    def midi_retry_due(self, now: float) -> bool:
        return self.midi.enabled and not self.midi.is_open and now >= self.midi_retry_at

    def close(self) -> None:
        self.midi.all_notes_off()
        self.midi.close()

    # -- a bar -----------------------------------------------------------------

    def send_bar(
        self,
        bar: int,
        start: int,
        samples_per_beat: float,
        bar_samples: int,
        tempo: float,
        notes: list[Note],
        key: Key,
        emotion: PAD,
        first: bool,
        wish: float | None = None,
    ) -> bool:
        """Send bar ``bar`` everywhere: ``start`` its bar line and ``bar_samples`` its length
        (samples), ``tempo`` in bpm (``samples_per_beat`` at the transport's rate).

        ``first``: this incarnation's first bar, which also sets every pitched track's
        program on the ring. ``wish``: the composer's own tempo for the tempo request
        when it differs from the one played (a Link session's; kelly_actors/link).
        Returns True when the health changed (the recording stopped).
        """
        events = bar_events(
            notes, start, samples_per_beat, bar_samples, emotion=emotion, programs=first
        )
        if self.tempo is not None:
            note_events.tempo_request(
                self.tempo_frame, start, wish or tempo, bar * BEATS_PER_BAR, BEATS_PER_BAR
            )
            self.tempo.write(self.tempo_frame, start)
        self._write_ring(events)
        if self.midi.is_open:
            self._midi_bar(events)
        if self.recorder is not None:
            try:
                self.recorder.add_bar(bar, notes, tempo, key, emotion.as_tuple())
            except OSError as exc:
                self.recorder = None
                self.problems["recording"] = f"recording stopped: {exc}"
                return True
        return False

    def _write_ring(self, events: np.ndarray) -> None:
        ring = self.notes
        if ring is None:
            return
        if ring.free() < len(events):
            # Half a bar would leave notes without their offs: drop it whole,
            # but keep the bar line's emotion (the first event) if it fits.
            self.ring_dropped_bars += 1
            events = events[:1] if ring.free() >= 1 else events[:0]
        for row in events:
            view = ring.claim()
            if view is None:
                return
            view[:] = row
            ring.publish(int(row[TIME]))

    # -- MIDI on time ------------------------------------------------------------

    def _midi_bar(self, events: np.ndarray) -> None:
        """The bar's MIDI: into the ``midi`` ring now (JACK), or queued for its time (rtmidi)."""
        midi = self.midi
        if isinstance(midi, JackMidiOut):
            for row in events:
                message = midi_message(row)
                if message is not None:
                    midi.schedule(int(row[TIME]), message)
            self._midi_ring_health(midi)
            return
        for row in events:
            message = midi_message(row)
            if message is not None:
                self.pending_midi.append((int(row[TIME]), message))

    def _midi_ring_health(self, midi: JackMidiOut) -> None:
        """A ring that refuses a whole bar is a problem (the audio actor takes no MIDI:
        not on JACK, or restarting); the next bar that goes through clears it."""
        if midi.stuck:
            self.problems["midi"] = (
                f"JACK MIDI: ring {midi.ring!r} is full ({midi.refused} messages refused): "
                "the audio actor is not taking MIDI (is it on JACK, with midi_ring set?)"
            )
        else:
            self.problems.pop("midi", None)

    def next_midi_sample(self) -> int | None:
        """The sample time of the next MIDI message waiting to go out."""
        return self.pending_midi[0][0] if self.pending_midi else None

    def send_due_midi(self, now_sample: float, sample_rate: int) -> None:
        """Send every message due by ``now_sample`` (plus SEND_EARLY_S); note the latest."""
        horizon = now_sample + SEND_EARLY_S * sample_rate
        pending = self.pending_midi
        late_max = self.midi_late_ms_max
        while pending and pending[0][0] <= horizon:
            sample, message = pending.popleft()
            self.midi.send(message)
            late_max = max(late_max, (now_sample - sample) / sample_rate * 1000.0)
        self.midi_late_ms_max = late_max

    # -- silence -----------------------------------------------------------------

    def all_notes_off(self, sample: int) -> bool:
        """Release every note now: ALL_NOTES_OFF on the ring at ``sample``, MIDI panic.

        Returns whether the ring took the event. Queued MIDI messages stay queued: the
        music goes on from them.
        """
        written = False
        if self.notes is not None and (view := self.notes.claim()) is not None:
            note_events.all_notes_off(view, sample)
            self.notes.publish(sample)
            written = True
        self.midi.all_notes_off()
        return written

    def telemetry(self) -> dict[str, Any]:
        recorder = self.recorder
        midi = self.midi
        if isinstance(midi, JackMidiOut):
            path = jack_midi.PATH
            counts = {"refused": midi.refused}
        else:
            path = f"rtmidi ({midi.api}: sent when due by the wall clock)"
            counts = {"late_ms_max": round(self.midi_late_ms_max, 3)}
        return {
            "midi_port": midi.name if midi.is_open else None,
            "midi": {
                "path": path if midi.enabled else "off",
                "api": midi.api,
                "sent": midi.sent,
                "errors": midi.errors,
                **counts,
            },
            "recording": str(recorder.path) if recorder and recorder.path else None,
            "recording_bars": recorder.total_bars if recorder else 0,
            "ring_dropped_bars": self.ring_dropped_bars,
        }


def _writer(ctx: ActorContext, ring: str, shape: tuple[int, ...]) -> RingWriter | None:
    """The ring ``ring`` (float64 of ``shape``), or None for ``""``."""
    if not ring:
        return None
    writer = ctx.writer(ring)
    if writer.spec.shape != shape or writer.spec.dtype != np.dtype(np.float64):
        raise ValueError(f"ring {ring!r} must be float64 {list(shape)}")
    return writer
