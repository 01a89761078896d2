"""The composer's ``[actors.options]``: a few keys of its own and one table per part.

::

    [actors.options]              # seed, notes_ring, tempo_ring, estimates
    [actors.options.emotion]      # the emotion before anyone says anything
    [actors.options.fusion]       # how text, estimates and overrides combine
    [actors.options.ensemble]     # several performers' listeners → one (docs/architecture.md)
    [actors.options.midi]         # the live MIDI port
    [actors.options.recording]    # the crash-safe recording
    [actors.options.transformer]  # who writes the music (docs/transformer.md)

Each range is metadata on its field (:func:`~kelly_actors.config.typed.setting`), so a
wrong value is a ``ConfigError`` naming the table and the key. See docs/composer.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.ensemble import EnsembleSettings
from kelly_actors.composer.live.fusion import FusionSettings
from kelly_actors.composer.live.midi_port import APIS, OUTPUTS
from kelly_actors.composer.transformer_engine import DEFAULT_TRACKS, ENGINES
from kelly_actors.config.typed import Checked, setting
from kelly_actors.transformer import vocab as V


@dataclass(frozen=True)
class EmotionOptions(Checked):
    """``[actors.options.emotion]``: the emotion played before anyone says anything.

    Attributes:
        valence (−1…1), arousal (0…1), dominance (0…1): the PAD point.
    """

    valence: float = setting(0.0, low=-1.0, high=1.0)
    arousal: float = setting(0.5, low=0.0, high=1.0)
    dominance: float = setting(0.5, low=0.0, high=1.0)

    def point(self) -> PAD:
        return PAD(self.valence, self.arousal, self.dominance)


@dataclass(frozen=True)
class MidiOptions(Checked):
    """``[actors.options.midi]``: the live MIDI port (docs/composer.md).

    Attributes:
        output: ``rtmidi`` — python-rtmidi on ``api``, each message sent when its time
            comes by the wall clock (a JACK period late or so); ``jack`` — into ``ring``
            for the audio actor's JACK client, which writes each message at its frame
            in the cycle that plays it (needs the audio actor on ``backend = "jack"``
            with ``midi_ring`` set to the same ring; README "MIDI out on JACK").
        api: (``rtmidi``) jack | alsa | coremidi | auto | none.
        client / port: (``rtmidi``) the MIDI client and port names.
        connect: (``rtmidi``) connect to the first destination whose name contains
            this ("" = a virtual port others connect to).
        retry_s: (``rtmidi``) seconds between attempts to open a missing port.
        ring: (``jack``) the ring of MIDI messages (int64 [1]) the audio actor reads.
    """

    output: str = setting("rtmidi", choices=OUTPUTS)
    api: str = setting("jack", choices=(*APIS, "none"))
    client: str = "kelly"
    port: str = "composer"
    connect: str = ""
    retry_s: float = setting(2.0, above=0.0)
    ring: str = "midi"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.output == "jack" and not self.ring:
            raise ValueError("output = 'jack' needs ring: the ring the audio actor reads MIDI from")


@dataclass(frozen=True)
class RecordingOptions(Checked):
    """``[actors.options.recording]``: where takes go.

    Attributes:
        directory: "" = ``<run dir>/recordings``, "off" = no recording;
            ``kelly run --record DIR`` records the take straight into DIR instead.
        segment_bars: bars per recording segment before a new one starts.
    """

    directory: str = ""
    segment_bars: int = setting(256, low=1)


@dataclass(frozen=True)
class TransformerOptions(Checked):
    """``[actors.options.transformer]``: the transformer's part (docs/transformer.md).

    Attributes:
        engine: rules | transformer | hybrid — who writes the music.
        service: the inference actor's variations socket in the run directory: its
            workers write the transformer's bars ("" = a thread of this process,
            with ``model``).
        model: the ONNX step model when the composer runs it itself (relative
            paths: from the repository).
        tracks: the tracks ``hybrid`` lets the transformer write.
        deadline_ms: how long a bar waits for the transformer (ms) before the rule
            engines' version of it is scheduled instead.
    """

    engine: str = setting("rules", choices=ENGINES)
    service: str = "variations.sock"
    model: str = "models/transformer.onnx"
    tracks: tuple[str, ...] = DEFAULT_TRACKS
    deadline_ms: float = setting(250.0, above=0.0, high=10_000.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.tracks or any(t not in V.TRACK_INDEX for t in self.tracks):
            raise ValueError(f"tracks must be a non-empty list of {', '.join(V.TRACK_ORDER)}")


@dataclass(frozen=True)
class ComposerConfig(Checked):
    """The composer's ``[actors.options]``.

    Attributes:
        seed: fixes every random choice (key, harmony, motifs, the model's sampling).
        notes_ring / tempo_ring: rings to write ("" = none).
        estimates: the inference actor's PUB socket in the run directory, subscribed
            to for ``estimate`` messages ("" = none; docs/inference.md).
        sensors_ring: the ring the sensors' readings arrive on, when this actor reads it
            (the OSC actor writes it; docs/osc.md, "Sensors").
        midi_in_ring: the ring the symbolic listener's estimates arrive on, when this
            actor reads it (the MIDI input actor writes it; docs/midi.md).
        emotion, fusion, ensemble, midi, recording, transformer: the tables above.
    """

    seed: int = 0
    notes_ring: str = "notes"
    tempo_ring: str = "tempo"
    estimates: str = "estimates.sock"
    sensors_ring: str = "sensors"
    midi_in_ring: str = "midi_in"
    emotion: EmotionOptions = field(default_factory=EmotionOptions)
    fusion: FusionSettings = field(default_factory=FusionSettings)
    ensemble: EnsembleSettings = field(default_factory=EnsembleSettings)
    midi: MidiOptions = field(default_factory=MidiOptions)
    recording: RecordingOptions = field(default_factory=RecordingOptions)
    transformer: TransformerOptions = field(default_factory=TransformerOptions)
