"""The audio actor: owns the sound device and is the performance's clock."""

from __future__ import annotations

import collections
import gc
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kelly_actors.actor.base import Actor
from kelly_actors.audio.backends.base import Backend, BackendError
from kelly_actors.audio.backends.jack import JackOptions, midi_status
from kelly_actors.audio.backends.paced import FileBackend, NullBackend, check_input
from kelly_actors.audio.engine import AudioEngine
from kelly_actors.audio.native.layout import MAX_INPUTS
from kelly_actors.audio.standby import StandbyWatch
from kelly_actors.audio.wav import RecordingError, WavWriter
from kelly_actors.bus import midi_wire, note_events
from kelly_actors.bus.clock import MusicalClock
from kelly_actors.config.typed import Checked, ConfigError, setting
from kelly_actors.files import private_dir
from kelly_actors.link.session import LinkSettings, open_link

BACKENDS = ("null", "file", "sounddevice", "jack", "auto")
SAMPLE_RATES = (44_100, 48_000, 96_000)
FLUSH_INTERVAL = 0.5
SWITCH_INTERVAL = 0.0002


@dataclass(frozen=True)
class AudioConfig(Checked):
    """Settings of the audio actor.

    Attributes:
        backend: ``null`` (clocked silence), ``file`` (``input_file`` as the
            microphone), ``sounddevice`` (``device`` on ``host_api``, a Python
            callback), ``jack`` (a native JACK client with a compiled callback) or
            ``auto`` (``kelly run`` picks one of them before the run starts:
            :mod:`kelly_actors.audio.backends.choice`).
        device: substring of the PortAudio device name ("" = the host API's default).
        host_api: substring of the host API name, e.g. ``JACK`` ("" = any).
        input_file: WAV used by the ``file`` backend (mono or stereo, same rate).
        sample_rate: Hz.
        block_size: frames per callback.
        channels: output channels (stereo only).
        input_channels: input channels taken from the device (0 = output only; 2–8: an
            ensemble, one channel per performer, each its own stream through features,
            inference and the composer's ensemble fusion). ``in_ring`` is float32
            (block, max(1, input_channels)).
        tempo: bpm until the composer asks for another.
        record_input: also record the input when the run records.
        in_ring / out_ring / tempo_ring: ring names ("" = not used).
        standby_ring: the warm standby synth's ring ("" = no standby): its block
            plays whenever the active synth's is missing (see ``audio/engine.py``).
        midi_ring: the composer's MIDI messages (int64 [1]; "" = none), written into
            the JACK MIDI port ``jack.midi_port`` at their frames (``jack`` backend only).
        jack: the ``jack`` backend's client (:class:`JackOptions`).
        link: an Ableton Link session the clock joins (``[actors.options.link]``).
    """

    backend: str = setting("null", choices=BACKENDS)
    device: str = ""
    host_api: str = ""
    input_file: str = ""
    sample_rate: int = setting(48_000, choices=SAMPLE_RATES)
    block_size: int = setting(256, low=64, high=2048)
    channels: int = setting(2, choices=(2,))
    input_channels: int = setting(1, low=0, high=MAX_INPUTS)
    tempo: float = setting(120.0, above=0.0)
    record_input: bool = False
    in_ring: str = "audio_in"
    out_ring: str = "audio_out"
    standby_ring: str = ""
    tempo_ring: str = "tempo"
    midi_ring: str = ""
    jack: JackOptions = field(default_factory=JackOptions)
    link: LinkSettings = field(default_factory=LinkSettings)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.backend == "file" and not self.input_file:
            raise ValueError("the file backend needs input_file")
        if (self.midi_ring or self.jack.midi_clock) and self.backend != "jack":
            raise ValueError(
                "midi_ring and jack.midi_clock write MIDI in the JACK cycle: they need "
                f"backend = 'jack', not {self.backend!r} (without JACK the composer sends "
                "MIDI itself: [actors.options.midi] output = 'rtmidi')"
            )


def _check_ring(rings: dict[str, Any], name: str, shape: tuple[int, ...], dtype: str) -> None:
    spec = rings.get(name)
    if spec is None:
        raise ConfigError(f"ring {name!r} is not declared for this actor")
    if tuple(spec.shape) != shape or spec.dtype != dtype:
        raise ConfigError(
            f"ring {name!r} carries {spec.dtype}{list(spec.shape)}, "
            f"the audio actor needs {dtype}{list(shape)}"
        )


def open_backend(cfg: AudioConfig, midi_reader: Any = None, replacement: bool = False) -> Backend:
    """The configured backend; ``replacement``: a restarted actor's (it releases the
    MIDI notes its predecessor may have left hanging)."""
    if cfg.backend == "jack":
        from kelly_actors.audio.backends.jack import jack_backend

        return jack_backend(cfg, midi_reader, replacement)
    if cfg.backend == "file":
        return FileBackend(
            Path(cfg.input_file), cfg.sample_rate, cfg.block_size, cfg.channels, cfg.input_channels
        )
    if cfg.backend == "sounddevice":
        from kelly_actors.audio.backends.device import SoundDeviceBackend

        return SoundDeviceBackend(
            cfg.device,
            cfg.host_api,
            cfg.sample_rate,
            cfg.block_size,
            cfg.channels,
            cfg.input_channels,
        )
    return NullBackend(cfg.sample_rate, cfg.block_size, cfg.channels)


class AudioActor(Actor):
    """Copies blocks between the device and the rings, keeps time, records."""

    Config = AudioConfig

    @classmethod
    def preflight(cls, config: AudioConfig, rings: dict[str, Any]) -> None:
        if config.in_ring:
            columns = max(1, config.input_channels)
            _check_ring(rings, config.in_ring, (config.block_size, columns), "float32")
        for ring in (config.out_ring, config.standby_ring):
            if ring:
                _check_ring(rings, ring, (config.block_size, config.channels), "float32")
        if config.tempo_ring:
            _check_ring(rings, config.tempo_ring, note_events.TEMPO_SHAPE, "float64")
        if config.midi_ring:
            _check_ring(rings, config.midi_ring, midi_wire.SHAPE, midi_wire.DTYPE)
        if config.backend == "auto":
            # Chosen once for the whole run, before the first fork; never per incarnation.
            raise ConfigError("backend 'auto' is resolved by kelly run before the actors start")
        try:
            if config.backend == "jack":
                from kelly_actors.audio.backends.jack import preflight

                preflight(config)
            elif config.backend == "file":
                check_input(Path(config.input_file), config.sample_rate, config.input_channels)
            elif config.backend == "sounddevice":
                from kelly_actors.audio.backends.device import check_device

                check_device(
                    config.device,
                    config.host_api,
                    config.sample_rate,
                    config.channels,
                    config.input_channels,
                )
        except BackendError as exc:
            raise ConfigError(str(exc)) from None

    def on_start(self) -> None:
        cfg: AudioConfig = self.config
        ctx = self.ctx
        clock = MusicalClock.resume(
            ctx.transport.read(), cfg.sample_rate, cfg.block_size, cfg.tempo
        )
        recording = ctx.record_dir is not None
        engine_class, self.callback_kind = self._engine_class()
        self.engine = engine_class(
            clock,
            ctx.transport,
            ctx.writer(cfg.in_ring) if cfg.in_ring else None,
            ctx.reader(cfg.out_ring) if cfg.out_ring else None,
            cfg.block_size,
            cfg.channels,
            record_output=recording,
            record_input=recording and cfg.record_input,
            standby_reader=ctx.reader(cfg.standby_ring) if cfg.standby_ring else None,
            # A fresh performance's clock waits for the synth's first block; a
            # replacement continues the running clock at once.
            preroll=ctx.incarnation == 1 and clock.sample == 0,
        )
        # Dependents read the rate and block size from the transport when they start.
        clock.publish(ctx.transport, running=False)
        self.tempo_reader = ctx.reader(cfg.tempo_ring) if cfg.tempo_ring else None
        self.midi_reader = ctx.reader(cfg.midi_ring) if cfg.midi_ring else None
        self.tempo_request = np.empty(note_events.TEMPO_SHAPE, np.float64)
        self.writers: list[tuple[Any, WavWriter]] = []
        self.next_flush = time.monotonic() + FLUSH_INTERVAL
        self.reported_xruns = 0
        self.reported_overruns = 0
        self.reported_underruns = 0
        self.published_connections: dict[str, list[str]] = {}
        self.tempo_backlog: collections.deque[tuple[int, float, float, int]] = collections.deque()
        self.standby = (
            StandbyWatch((cfg.out_ring, cfg.standby_ring), ctx) if cfg.standby_ring else None
        )
        # Both before the stream starts. The callback must not pause for the
        # collector (nothing it does creates cycles), and PortAudio's thread needs
        # the GIL within a fraction of a period, not after this loop's default 5 ms slice.
        gc.disable()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.backend = self._start_backend()
        # After the backend: a failed device swaps the engine, and with it the buffers.
        if recording:
            self._open_recordings()
        self.control_priority = self._raise_priority()
        self.link = open_link(cfg.link, ctx, self.engine, self.backend.output_latency)

    def _engine_class(self) -> tuple[type, str]:
        """The compiled engine where the backend runs it (JACK) and it can be built,
        else the Python one; and which runs, and why, for status."""
        if self.config.backend != "jack":
            return AudioEngine, "python"
        if not self.config.jack.compiled_callback:
            return AudioEngine, "python (configured: compiled_callback = false)"
        from kelly_actors.audio.backends.jack import compiled_callback
        from kelly_actors.audio.native.engine import NativeEngine

        module, why = compiled_callback()
        return (NativeEngine if module is not None else AudioEngine), why

    def _python_engine(self) -> AudioEngine:
        """The Python engine on the compiled one's rings and clock (for a paced fallback)."""
        cfg: AudioConfig = self.config
        native = self.engine
        native.close()
        clock = MusicalClock.resume(
            self.ctx.transport.read(), cfg.sample_rate, cfg.block_size, cfg.tempo
        )
        self.callback_kind = "python"
        return AudioEngine(
            clock,
            self.ctx.transport,
            native.in_writer,
            native.out_reader,
            cfg.block_size,
            cfg.channels,
            record_output=native.out_record is not None,
            record_input=native.in_record is not None,
            standby_reader=native.standby_reader,
            preroll=native.prerolling,
        )

    def _raise_priority(self) -> str:
        """Run this thread real-time below the device's callback thread.

        The callback needs the GIL this thread holds in every step; a holder
        preempted by the machine's ordinary load would leave the callback
        waiting past its period (the server records an xrun). It only sleeps
        or does a few hundred microseconds of bookkeeping, so it cannot starve
        anyone."""
        if not self.backend.name.startswith("sounddevice"):
            return "unchanged"
        from kelly_actors.audio.backends.device import CONTROL_PRIORITY, raise_thread_priority

        return raise_thread_priority(CONTROL_PRIORITY)

    def _start_backend(self) -> Backend:
        cfg: AudioConfig = self.config
        try:
            backend = open_backend(cfg, self.midi_reader, self.ctx.incarnation > 1)
            # A replacement reconnects its JACK ports where its predecessor's were.
            backend.restore_connections = self.ctx.restored_state.get("jack_connections", {})
            backend.start_engine(self.engine)
        except BackendError as exc:
            # The show goes on: keep the clock running on silence and say why.
            self.ctx.set_degraded(f"audio backend {cfg.backend} unavailable: {exc}")
            self.ctx.emit("audio_fallback", reason=str(exc))
            backend = NullBackend(cfg.sample_rate, cfg.block_size, cfg.channels)
            if hasattr(self.engine, "close"):  # the compiled engine runs only under JACK
                self.engine = self._python_engine()
            backend.start_engine(self.engine)
        return backend

    def _open_recordings(self) -> None:
        cfg: AudioConfig = self.config
        record_dir = self.ctx.record_dir
        assert record_dir is not None
        suffix = "" if self.ctx.incarnation == 1 else f"-{self.ctx.incarnation}"
        pairs = [
            (self.engine.out_record, "output", cfg.channels),
            (self.engine.in_record, "input", getattr(self.engine, "input_channels", 1)),
        ]
        for buffer, what, channels in pairs:
            if buffer is not None:
                path = record_dir / f"{what}{suffix}.wav"
                try:
                    private_dir(record_dir)
                    self.writers.append((buffer, WavWriter(path, cfg.sample_rate, channels)))
                except OSError as exc:  # a full disk, a directory refused: play on unrecorded
                    self.ctx.emit("recording_stopped", **RecordingError.of(exc, path).detail())

    def next_wakeup(self) -> float | None:
        due = self.backend.next_due()
        return self.next_flush if due is None else min(due, self.next_flush)

    def step(self) -> None:
        now = time.monotonic()
        reader = self.tempo_reader
        if reader is not None:
            while reader.available() > 0 and reader.read_into(self.tempo_request):
                start, tempo, beat, bpb = self.tempo_request
                self.tempo_backlog.append((int(start), float(tempo), float(beat), int(bpb)))
        # The compiled callback's queue is bounded: what does not fit waits here.
        while self.tempo_backlog and self.link.sink(self.engine)(*self.tempo_backlog[0]):
            self.tempo_backlog.popleft()
        self.backend.pump(now)
        if self.standby is not None:
            self.standby.check(self.engine, now)
        if now >= self.next_flush:
            self._flush()
            self._report_glitches()
            self._publish_connections()
            reconnect_midi = getattr(self.backend, "connect_midi_ports", None)
            if reconnect_midi is not None:  # a MIDI destination that went and came back
                reconnect_midi()
            self.next_flush = now + FLUSH_INTERVAL

    def _report_glitches(self) -> None:
        """Put new xruns and under-runs in the run's event log, with whom they blame."""
        engine = self.engine
        if engine.xruns > self.reported_xruns:
            samples = engine.xrun_samples()[self.reported_xruns :]
            stats = engine.callback_stats()
            self.ctx.emit(
                "xrun",
                count=engine.xruns - self.reported_xruns,
                samples=samples,
                callback_max_ms=stats["callback_max_ms"],
                blame=self._xrun_blame(stats),
            )
            self.reported_xruns = engine.xruns
        if engine.underruns > self.reported_underruns:
            self.ctx.emit(
                "underrun",
                count=engine.underruns - self.reported_underruns,
                blame=(
                    self.standby.underrun_blame()
                    if self.standby is not None
                    else f"the writer of {self.config.out_ring} (it ran dry)"
                ),
            )
            self.reported_underruns = engine.underruns

    def _publish_connections(self) -> None:
        """Keep the supervisor's copy of where our JACK ports are connected (also what a
        performer patched by hand), so a replacement reconnects them."""
        connections = getattr(self.backend, "connections", None)
        if connections is None:
            return
        now = connections()
        if now and now != self.published_connections:
            self.ctx.publish_state({"jack_connections": now})
            self.published_connections = now

    def _xrun_blame(self, stats: dict[str, Any]) -> str:
        """This actor when its own work overran a period since the last report;
        else the machine (the cycle started late, or the thread was preempted)."""
        own = stats.get("own_overruns")
        if own is None:  # the Python callback: its longest block against the period
            period_ms = self.config.block_size / self.config.sample_rate * 1e3
            ours = stats["callback_max_ms"] > period_ms
        else:
            ours = own > self.reported_overruns
            self.reported_overruns = own
        if ours:
            return self.ctx.name
        return "the machine (our callback was on time: the cycle started late or was preempted)"

    def _flush(self, close: bool = False) -> None:
        """Drain each recording buffer into its WAV here, never in the callback (which only
        copies into the buffer). A writer that fails (disk full, file removed) is dropped
        with a ``recording_stopped`` event, its file valid up to the frames it kept; its
        buffer then just fills and counts drops, and the music goes on."""
        for pair in list(self.writers):
            buffer, writer = pair
            frames = buffer.pop_all()
            try:
                if frames.shape[0]:
                    writer.write(frames)
                (writer.close if close else writer.flush)()
            except RecordingError as exc:
                self.writers.remove(pair)
                self.ctx.emit("recording_stopped", **exc.detail())

    def on_stop(self) -> None:
        self.link.close()
        self.backend.stop()
        self._flush(close=True)
        if hasattr(self.engine, "close"):
            self.engine.close()

    def telemetry(self) -> dict[str, Any]:
        cfg: AudioConfig = self.config
        engine = self.engine
        queued_blocks = engine.queued_blocks()
        latency = self.backend.input_latency + self.backend.output_latency
        return {
            "backend": self.backend.name,
            "callback": self.callback_kind,
            "callback_priority": self.backend.priority,
            "control_priority": self.control_priority,
            "sample_rate": cfg.sample_rate,
            "block_size": cfg.block_size,
            "period_ms": round(cfg.block_size / cfg.sample_rate * 1e3, 4),
            "callbacks": engine.callbacks,
            "xruns": engine.xruns,
            "xrun_samples": engine.xrun_samples(),
            "underruns": engine.underruns,
            "late_blocks": engine.late_blocks,
            "device_latency_frames": latency,
            "queued_frames": queued_blocks * cfg.block_size,
            "latency_frames": latency + queued_blocks * cfg.block_size,
            "recording_dropped_frames": sum(b.dropped for b, _ in self.writers),
            "sample": engine.sample,
            "midi_out": midi_status(cfg, self.backend),
            **(self.standby.telemetry(engine) if self.standby is not None else {}),
            "link": self.link.status(),
            **engine.callback_stats(),
        }


__all__ = ["AudioActor", "AudioConfig"]
