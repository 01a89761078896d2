"""Index layout of the 128-value feature vector (one per hop). See ``docs/features.md``.

Every index is a module constant; ranges are ``slice`` objects. ``FEATURE_NAMES[i]`` names
index ``i``. The layout is versioned by :data:`LAYOUT_VERSION`: change it when indices move.

The emotion model's recurrent state (:data:`STATE_SIZE`) belongs to the same contract: the
features actor writes frames, the inference actor (or a worker on another host) carries the
stream's LSTM state ``h``, ``c`` from one frame to the next, and training exports models
with that state size.
"""

from __future__ import annotations

LAYOUT_VERSION = 1
#: Values in one feature frame: float32 (N_FEATURES,) per hop.
N_FEATURES = 128
#: Width of each of the emotion model's LSTM states ``h`` and ``c``: float32 (1, B, STATE_SIZE).
STATE_SIZE = 128

N_CONTRAST = 7
N_MFCC = 13
N_CHROMA = 12
N_LOGMEL = 64

# Energy and waveform.
RMS = 0
LOUDNESS_DB = 1
PEAK = 2
CREST_DB = 3
ZCR = 4
# Spectral shape.
CENTROID_HZ = 5
BANDWIDTH_HZ = 6
ROLLOFF_HZ = 7
FLATNESS = 8
FLUX = 9
CONTRAST = slice(10, 10 + N_CONTRAST)  # 10..16
# Cepstrum.
MFCC = slice(17, 17 + N_MFCC)  # 17..29
MFCC_DELTA = slice(30, 30 + N_MFCC)  # 30..42
# Harmony.
CHROMA = slice(43, 43 + N_CHROMA)  # 43..54
# Pitch.
F0_HZ = 55
F0_CONFIDENCE = 56
VOICED = 57
PITCH_MIDI = 58
# Rhythm.
ONSET_STRENGTH = 59
ONSET = 60
TEMPO_BPM = 61
TEMPO_CONFIDENCE = 62
BEAT_PHASE = 63
# Coarse log-mel spectrum.
LOGMEL = slice(64, 64 + N_LOGMEL)  # 64..127

#: Most streams (an ensemble's performers) one ``frames`` ring carries.
MAX_STREAMS = 8


def streams_of(shape: tuple[int, ...]) -> int:
    """Streams a ``frames`` ring carries, from its shape: ``(128,)`` is one stream (the
    solo performance's layout), ``(N, 128)`` is N streams, row k the vector of stream k
    (audio_in's column k) for the same hop, all rows stamped with one sample time.
    ValueError for any other shape."""
    shape = tuple(int(x) for x in shape)
    if shape == (N_FEATURES,):
        return 1
    if len(shape) == 2 and shape[1] == N_FEATURES and 1 <= shape[0] <= MAX_STREAMS:
        return shape[0]
    raise ValueError(
        f"a frames ring is float32[{N_FEATURES}] (one stream) or float32[N, {N_FEATURES}] "
        f"with 1 <= N <= {MAX_STREAMS} (one row per stream), not {list(shape)}"
    )


_PITCH_CLASSES = ("C", "Cs", "D", "Ds", "E", "F", "Fs", "G", "Gs", "A", "As", "B")


def _names() -> tuple[str, ...]:
    names = [""] * N_FEATURES
    scalars = {
        RMS: "rms",
        LOUDNESS_DB: "loudness_db",
        PEAK: "peak",
        CREST_DB: "crest_db",
        ZCR: "zcr",
        CENTROID_HZ: "centroid_hz",
        BANDWIDTH_HZ: "bandwidth_hz",
        ROLLOFF_HZ: "rolloff_hz",
        FLATNESS: "flatness",
        FLUX: "flux",
        F0_HZ: "f0_hz",
        F0_CONFIDENCE: "f0_confidence",
        VOICED: "voiced",
        PITCH_MIDI: "pitch_midi",
        ONSET_STRENGTH: "onset_strength",
        ONSET: "onset",
        TEMPO_BPM: "tempo_bpm",
        TEMPO_CONFIDENCE: "tempo_confidence",
        BEAT_PHASE: "beat_phase",
    }
    for i, name in scalars.items():
        names[i] = name
    for i in range(N_CONTRAST):
        names[CONTRAST.start + i] = f"contrast_{i}"
    for i in range(N_MFCC):
        names[MFCC.start + i] = f"mfcc_{i}"
        names[MFCC_DELTA.start + i] = f"mfcc_delta_{i}"
    for i, pc in enumerate(_PITCH_CLASSES):
        names[CHROMA.start + i] = f"chroma_{pc}"
    for i in range(N_LOGMEL):
        names[LOGMEL.start + i] = f"logmel_{i}"
    return tuple(names)


FEATURE_NAMES: tuple[str, ...] = _names()
