"""An actor that only heartbeats: the smallest thing the supervisor can run."""

from __future__ import annotations

from kelly_actors.actor.base import Actor


class IdleActor(Actor):
    """Does nothing but stay alive and answer the supervisor."""
