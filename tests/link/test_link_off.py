"""Without Link enabled, or without aalink installed, nothing changes: the composer's
tempo requests go to the engine, as always."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from kelly_actors.link import session
from kelly_actors.link.config import LinkSettings


class Engine:
    def __init__(self) -> None:
        self.requests: list[tuple[Any, ...]] = []

    def request_tempo(self, *request: Any) -> bool:
        self.requests.append(request)
        return True


class Context:
    transport = None

    def __init__(self) -> None:
        self.degraded: list[str] = []

    def set_degraded(self, reason: str) -> None:
        self.degraded.append(reason)


def test_link_off_sends_the_composers_requests_to_the_engine() -> None:
    engine, ctx = Engine(), Context()
    link = session.open_link(LinkSettings(), ctx, engine, 0)
    assert link.sink(engine)(48_000, 132.0, 8.0, 4)
    assert engine.requests == [(48_000, 132.0, 8.0, 4)]
    assert link.status() == {"enabled": False, "error": None} and ctx.degraded == []
    link.close()


def test_link_enabled_without_aalink_degrades_with_the_reason_and_plays_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "aalink", None)  # import aalink raises ImportError
    engine, ctx = Engine(), Context()
    link = session.open_link(LinkSettings(enabled=True), ctx, engine, 0)
    assert isinstance(link, session.Unlinked)
    assert ctx.degraded and "aalink is not installed" in ctx.degraded[0]
    assert "kelly-actors[link]" in ctx.degraded[0]
    assert link.sink(engine)(0, 120.0, 0.0, 4) and engine.requests
