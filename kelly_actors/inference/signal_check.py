"""Is there music in a stream? Evidence 0…1 that scales the listener's confidence.

The emotion model learned from music only. Fed silence, noise, clipped noise, a DC
offset, clicks or a sweep, the shipped model still answered with confidences of
0.46–0.70 — above the smoother's and the composer's gates (0.3, 0.4), so an open
microphone on a noisy stage would have steered the music. :class:`SignalCheck` reads
the feature frames (docs/features.md) as they arrive and gives each one an evidence
that multiplies the confidence of its estimate, whichever backend made it:

* a frame is **musical** when it is louder than :data:`MIN_LOUDNESS_DB`, its chroma is
  peaked (the mean of the max-normalised chroma under :data:`MAX_CHROMA_MEAN`; noise,
  a DC offset and mains hum spread it to 0.7–0.95) and its spectrum is not flat
  (flatness under :data:`MAX_FLATNESS`; white and clipped noise read 0.5–0.6);
* a frame that **glides** is not musical: the pitch has moved one way by
  :data:`GLIDE_SEMITONES` over the last :data:`GLIDE_HOPS` hops, voiced throughout,
  in steps under :data:`MAX_GLIDE_STEP` — a sweep or a siren (a held note moves less,
  a new note jumps);
* over the last :data:`WINDOW_HOPS` hops, evidence = ramp(musical fraction,
  :data:`MUSICAL_RAMP`) × (1 − ramp(gliding fraction, :data:`GLIDING_RAMP`)).

A stream's first :data:`GLIDE_HOPS` frames count as not musical; after them the
window is what has arrived. A frame costs a few small vector operations on fixed
rings; nothing blocks. Figures: docs/emotions.md.
"""

from __future__ import annotations

import numpy as np

from kelly_actors.bus.frames import CHROMA, FLATNESS, LOUDNESS_DB, PITCH_MIDI, VOICED

MIN_LOUDNESS_DB = -60.0
MAX_CHROMA_MEAN = 0.6
MAX_FLATNESS = 0.2
GLIDE_HOPS = 8
GLIDE_SEMITONES = (0.6, 4.0)
MAX_GLIDE_STEP = 0.8
#: Half a second at 48 kHz with 512-sample hops.
WINDOW_HOPS = 48
#: Musical fraction → evidence: 0 at or below the first, 1 at or above the second.
MUSICAL_RAMP = (0.3, 0.6)
#: Gliding fraction → penalty: none at or below the first, all at or above the second.
GLIDING_RAMP = (0.3, 0.5)
#: Monotone within this much (semitones) per hop: YIN's jitter on a steady glide.
_JITTER = 0.02


def _ramp(x: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (x - low) / (high - low)))


class SignalCheck:
    """The evidence of music in one stream, frame after frame."""

    def __init__(self) -> None:
        self._musical = np.zeros(WINDOW_HOPS, bool)
        self._gliding = np.zeros(WINDOW_HOPS, bool)
        self._pitch = np.zeros(GLIDE_HOPS + 1)
        self._voiced = np.zeros(GLIDE_HOPS + 1, bool)
        self._steps = np.zeros(GLIDE_HOPS)
        self._seen = 0

    def update(self, frame: np.ndarray) -> float:
        """The evidence 0…1 after ``frame`` (float32 (128,), the feature layout)."""
        slot = self._seen % WINDOW_HOPS
        gliding = self._glide(frame)
        # Until a glide can be judged a frame is no evidence of music (a sweep's first
        # hops look like a held note), nor is a gliding one.
        self._musical[slot] = self._seen >= GLIDE_HOPS and not gliding and self.musical(frame)
        self._gliding[slot] = gliding
        self._seen += 1
        n = min(self._seen, WINDOW_HOPS)
        musical = float(np.count_nonzero(self._musical[:n])) / n
        gliding = float(np.count_nonzero(self._gliding[:n])) / n
        return _ramp(musical, *MUSICAL_RAMP) * (1.0 - _ramp(gliding, *GLIDING_RAMP))

    @staticmethod
    def musical(frame: np.ndarray) -> bool:
        """Loud enough, peaked chroma, not a flat spectrum."""
        chroma = frame[CHROMA]
        return bool(
            frame[LOUDNESS_DB] > MIN_LOUDNESS_DB
            and float(chroma.mean()) < MAX_CHROMA_MEAN
            and frame[FLATNESS] < MAX_FLATNESS
        )

    def _glide(self, frame: np.ndarray) -> bool:
        """Whether the last :data:`GLIDE_HOPS` hops, ending with ``frame``, glide."""
        self._pitch[:-1] = self._pitch[1:]
        self._voiced[:-1] = self._voiced[1:]
        self._pitch[-1] = frame[PITCH_MIDI]
        self._voiced[-1] = frame[VOICED] > 0.5
        if self._seen < GLIDE_HOPS or not self._voiced.all():
            return False
        np.subtract(self._pitch[1:], self._pitch[:-1], out=self._steps)
        one_way = bool((self._steps >= -_JITTER).all() or (self._steps <= _JITTER).all())
        moved = abs(float(self._pitch[-1] - self._pitch[0]))
        low, high = GLIDE_SEMITONES
        return one_way and low < moved < high and float(np.abs(self._steps).max()) < MAX_GLIDE_STEP
