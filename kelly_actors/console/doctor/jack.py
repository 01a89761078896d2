"""Is the JACK server the config needs up, and at the configured rate?"""

from __future__ import annotations

import ctypes
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
    realtime = server_realtime()
    if realtime is not None:
        figure += (
            ", real-time"
            if realtime
            else ", not real-time (ordinary load delays its cycles: xruns; drop --no-realtime)"
        )
    if rate != sample_rate:
        return CheckResult("JACK", FAIL, f"{figure}; the config wants {sample_rate} Hz")
    note = "" if period == block_size else f" (config block {block_size}: PortAudio re-blocks)"
    return CheckResult("JACK", PASS, figure + note)


#: ``JackNoStartServer`` from jack/types.h.
_NO_START_SERVER = 0x01


def server_realtime() -> bool | None:
    """Whether the server runs its cycle under real-time scheduling; None
    where libjack cannot be loaded or the server not reached."""
    try:
        lib = ctypes.CDLL("libjack.so.0")
    except OSError:
        return None
    lib.jack_client_open.restype = ctypes.c_void_p
    lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.jack_is_realtime.argtypes = [ctypes.c_void_p]
    lib.jack_client_close.argtypes = [ctypes.c_void_p]
    status = ctypes.c_int(0)
    # Opened, never activated: the server does not wait for it in its cycle.
    name = f"kelly-doctor-probe-{os.getpid()}".encode()
    client = lib.jack_client_open(name, _NO_START_SERVER, ctypes.byref(status))
    if not client:
        return None
    try:
        return bool(lib.jack_is_realtime(client))
    finally:
        lib.jack_client_close(client)
