"""Settings of the synth actor: ``[actors.options]`` of a synth, with nested tables.

::

    [actors.options]
    preset = "strings"
    mode = "transfer"

    [actors.options.features]      # how the features actor analyses the input
    frame_size = 2048
    hop = 512

    [actors.options.transfer]      # the voice the live input drives (mode = "transfer")
    gain = 1.0
    confidence = 0.5

Ranges are metadata on the fields (:func:`kelly_actors.config.typed.setting`), checked when a
config is built; a value out of range is a ``ConfigError`` naming its key.
"""

from __future__ import annotations

from dataclasses import dataclass

from kelly_actors.config.typed import Checked, setting
from kelly_actors.synth.presets import PRESET_NAMES

__all__ = ["MODES", "FeaturesOptions", "SynthConfig", "TransferOptions"]

MODES = ("notes", "transfer")


@dataclass(frozen=True)
class FeaturesOptions(Checked):
    """``[actors.options.features]``: the features actor's analysis, which transfer mode
    needs to place each feature frame in time.

    Attributes:
        frame_size: samples of the features actor's analysis window.
        hop: samples between its frames.
    """

    frame_size: int = setting(2048, above=0)
    hop: int = setting(512, above=0)


@dataclass(frozen=True)
class TransferOptions(Checked):
    """``[actors.options.transfer]``: the voice the live input drives in transfer mode (see
    ``docs/neural_ddsp.md``, "Timbre transfer").

    Attributes:
        gain: linear gain of the transfer voice on each output channel (1.0: about the
            input's level).
        confidence: f0 confidence (0…1) below which an input frame is unvoiced.
        fade_db: dB per feature frame the transfer voice fades while unvoiced.
        slack_blocks: blocks of safety between what is rendered and the first transfer
            frame's output (more: fewer late frames, more latency).
    """

    gain: float = setting(1.0, low=0.0)
    confidence: float = setting(0.5, low=0.0, high=1.0)
    fade_db: float = setting(6.0, above=0.0)
    slack_blocks: int = setting(1, low=0, high=64)


@dataclass(frozen=True)
class SynthConfig(Checked):
    """Settings of the synth actor.

    Attributes:
        sample_rate: Hz, as the audio actor's.
        block_size: frames per block, as the audio actor's.
        lookahead_blocks: blocks rendered ahead of the callback (latency vs safety).
        voices: polyphony.
        preset: timbre until a PROGRAM event picks one per channel.
        master_gain: linear output gain before emotion's dominance gain.
        play_drums: render channel 10 (the DDSP voice has no drum kit, so off by default).
        notes_ring / out_ring: ring names.
        timbre_model: path of a neural DDSP timbre (``models/ddsp-NAME.onnx``); "" plays the
            preset voice. A model that is missing or broken leaves the preset voice playing
            and the actor degraded.
        crossfade_s: length of the crossfade when the timbre changes (on a bar line).
        decoder_budget_us: a decoder frame slower than this on average (over a second) is
            late: the synth falls back to the preset voice and reports it.
        mode: ``"notes"`` (MIDI voices only) or ``"transfer"``: the live input's f0 and
            loudness (the ``frames`` ring) also drive one voice with the loaded timbre, mixed
            with the MIDI voices (see ``docs/neural_ddsp.md``, "Timbre transfer").
        frames_ring: ring of feature frames read in transfer mode.
        features: the features actor's analysis (:class:`FeaturesOptions`).
        transfer: the transfer voice (:class:`TransferOptions`).
        seed: seed of the voices' noise; synths with the same settings and seed fed the same
            events render bit-identical blocks.
    """

    sample_rate: int = 48_000
    block_size: int = 256
    lookahead_blocks: int = setting(4, low=1, high=64)
    voices: int = setting(32, low=1, high=256)
    preset: str = setting("strings", choices=PRESET_NAMES)
    master_gain: float = 0.25
    play_drums: bool = False
    notes_ring: str = "notes"
    out_ring: str = "audio_out"
    timbre_model: str = ""
    crossfade_s: float = setting(0.1, low=0.0, high=5.0)
    decoder_budget_us: float = setting(2000.0, above=0.0)
    mode: str = setting("notes", choices=MODES)
    frames_ring: str = "frames"
    features: FeaturesOptions = FeaturesOptions()
    transfer: TransferOptions = TransferOptions()
    seed: int = 0
