"""Skip a test whose service is missing — except where the test command requires it — and
fail loudly on a missing library that the setup always installs."""

from __future__ import annotations

import os
from types import ModuleType

import pytest

#: Set by scripts/test (and so CI): a test that needs JACK fails instead of skipping.
REQUIRE_JACK = os.environ.get("KELLY_REQUIRE_JACK") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without the service; fail where the test command requires it."""
    if REQUIRE_JACK:
        pytest.fail(f"{reason} (KELLY_REQUIRE_JACK=1 forbids skipping)")
    pytest.skip(reason)


def import_sounddevice() -> ModuleType:
    """The ``sounddevice`` module; a test failure saying what to install when it or the
    PortAudio library under it is missing (``scripts/setup`` installs both, so a missing
    one is a broken installation, never a reason to skip)."""
    try:
        import sounddevice
    except ImportError as exc:
        pytest.fail(f"sounddevice is not installed ({exc}); run scripts/setup", pytrace=False)
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not found
        pytest.fail(
            f"the PortAudio library is missing ({exc}); install it with scripts/setup "
            "(Debian/Ubuntu: apt-get install libportaudio2)",
            pytrace=False,
        )
    return sounddevice
