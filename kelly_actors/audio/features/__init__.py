"""Feature extraction for the live audio path: a fixed 128-value vector per hop.

See :mod:`kelly_actors.bus.frames` for the index layout and ``docs/features.md``.
"""

from kelly_actors.audio.features.extractor import FeatureExtractor, extract
from kelly_actors.bus.frames import FEATURE_NAMES, LAYOUT_VERSION, N_FEATURES

__all__ = ["FEATURE_NAMES", "LAYOUT_VERSION", "N_FEATURES", "FeatureExtractor", "extract"]
