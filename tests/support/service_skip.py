"""Skip a test whose service is missing — except where the test command requires it."""

from __future__ import annotations

import os

import pytest

#: Set by scripts/test (and so CI): a test that needs JACK fails instead of skipping.
REQUIRE_JACK = os.environ.get("KELLY_REQUIRE_JACK") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without the service; fail where the test command requires it."""
    if REQUIRE_JACK:
        pytest.fail(f"{reason} (KELLY_REQUIRE_JACK=1 forbids skipping)")
    pytest.skip(reason)
