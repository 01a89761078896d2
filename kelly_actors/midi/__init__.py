"""MIDI that leaves the performance: the ``midi`` ring's wire format (:mod:`.wire`)."""
