"""systemd's notification protocol (``sd_notify(3)``) without libsystemd: one datagram to
``$NOTIFY_SOCKET`` per message (``READY=1``, ``WATCHDOG=1``, ``STATUS=…``, ``STOPPING=1``)."""

from __future__ import annotations

import os
import socket


def watchdog_period() -> float | None:
    """Seconds between two ``WATCHDOG=1`` (half of ``$WATCHDOG_USEC``, as systemd advises);
    None when systemd does not watch this process."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    owner = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0 or (owner and owner != str(os.getpid())):
        return None
    return int(usec) / 2e6


def notify(message: str) -> bool:
    """Send ``message`` to the service manager; False when there is none (not run by
    systemd) or it cannot be reached. Never raises, never blocks."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)
            sock.connect(address)
            sock.send(message.encode())
    except OSError:
        return False
    return True
