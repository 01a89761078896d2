"""Biometric sensors: heart rate, electrodermal activity and motion as emotion sources.

A library the OSC actor (which receives the samples) and the composer (which fuses the
readings into each bar's emotion) both use, like ``music/``; see docs/osc.md, "Sensors".

* :mod:`.spec` — ``[[sensors]]`` of the performance: each sensor's kind, OSC address,
  weight and tuning, and each kind's physical limits and defaults;
* :mod:`.signal` — the pure steps, with their units: plausibility, the resting baseline,
  spike clipping, smoothing, the level above rest, confidence decay;
* :mod:`.state` — one sensor's pipeline, calibration window and counts;
* :mod:`.reading` — the row the OSC actor writes on the ``sensors`` ring for the composer;
* :mod:`.simulate` — a realistic synthetic stream (``kelly sensor simulate``).
"""
