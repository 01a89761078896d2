"""Is the JACK server the config needs up, and at the configured rate?"""

from __future__ import annotations

import os
import subprocess

from kelly_actors.console.doctor.result import FAIL, PASS, CheckResult

#: Seconds any JACK command-line tool may take.
TOOL_TIMEOUT_S = 10.0


def jack_env() -> dict[str, str]:
    """The environment for JACK tools: never start a server behind the user's back."""
    return {**os.environ, "JACK_NO_START_SERVER": "1"}


def server_name() -> str:
    return os.environ.get("JACK_DEFAULT_SERVER", "default")


def _tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, env=jack_env()
    )


def jack_running() -> bool:
    """``jack_wait -c`` prints ``running`` when a server accepts clients."""
    try:
        return _tool("jack_wait", "-c").stdout.strip() == "running"
    except (OSError, subprocess.TimeoutExpired):
        return False


def check_jack(sample_rate: int, block_size: int) -> CheckResult:
    """Pass when the server runs at ``sample_rate``; report its buffer size."""
    try:
        state = _tool("jack_wait", "-c").stdout.strip()
    except FileNotFoundError:
        return CheckResult("JACK", FAIL, "the config uses JACK but jack_wait is not installed")
    except subprocess.TimeoutExpired:
        return CheckResult("JACK", FAIL, f"jack_wait did not answer in {TOOL_TIMEOUT_S:g} s")
    if state != "running":
        return CheckResult(
            "JACK",
            FAIL,
            f"the config uses JACK but server {server_name()!r} is not running "
            "(start it, e.g. scripts/jack)",
        )
    try:
        rate = int(_tool("jack_samplerate").stdout.strip())
        period = int(_tool("jack_bufsize").stdout.strip())
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return CheckResult("JACK", FAIL, f"server running but its rate is unreadable: {exc}")
    figure = f"server {server_name()!r} at {rate} Hz, period {period} frames"
    if rate != sample_rate:
        return CheckResult("JACK", FAIL, f"{figure}; the config wants {sample_rate} Hz")
    note = "" if period == block_size else f" (config block {block_size}: PortAudio re-blocks)"
    return CheckResult("JACK", PASS, figure + note)
