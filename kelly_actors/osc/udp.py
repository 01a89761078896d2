"""The OSC actor's UDP port: bound when it can be, never blocking, counting losses.

The receive socket exists from the start, so its descriptor is the one the actor's loop
polls for its whole life, whether the bind has succeeded yet or not (a port in use is
tried again until it is free). Until it is bound, telemetry leaves through a second,
unbound socket: sending from the receive socket would give it an ephemeral port and it
could never bind. Every send is non-blocking; a full buffer or an unreachable host is
counted, not waited for.

Linux tells a socket how many datagrams the kernel dropped for want of room in its
receive buffer (``SO_RXQ_OVFL``, a counter attached to each datagram received); the
actor reports it as ``kernel_drops``, so "sent" can be reconciled with "seen".
"""

from __future__ import annotations

import errno
import socket
import struct
import sys

#: Room for the largest UDP payload (65 507 bytes over IPv4, 65 527 over IPv6).
MAX_DATAGRAM = 65_536
#: Linux's SO_RXQ_OVFL (Python's socket module does not name it).
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
_ANC_SPACE = socket.CMSG_SPACE(4)
_U32 = struct.Struct("=I")


class UdpPort:
    """A UDP socket on ``host``:``port`` (``port`` 0: the kernel picks).

    Attributes:
        bound: the socket listens; ``port``: the port it listens on (0 until bound).
        error: why the last bind failed ("" once bound).
        kernel_drops: datagrams the kernel dropped for this socket (None where the
            system does not report it).
        send_errors: datagrams not sent (buffer full, host unreachable).
    """

    def __init__(self, host: str, port: int, receive_buffer: int) -> None:
        self.host = host
        self.wanted_port = port
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(self.family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.kernel_drops: int | None = None
        if sys.platform.startswith("linux"):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
                self.kernel_drops = 0
            except OSError:
                pass
        self._spare: socket.socket | None = None
        self.bound = False
        self.port = 0
        self.error = ""
        self.send_errors = 0
        self.buffer = bytearray(MAX_DATAGRAM)
        self._view = memoryview(self.buffer)

    def try_bind(self) -> bool:
        """Bind now if not yet bound; False (and ``error`` set) when the port is taken."""
        if self.bound:
            return True
        try:
            self.sock.bind((self.host, self.wanted_port))
        except OSError as exc:
            reason = errno.errorcode.get(exc.errno or 0, "")
            why = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            self.error = f"UDP {self.host}:{self.wanted_port} {why} ({reason})".replace(" ()", "")
            return False
        self.bound = True
        self.port = self.sock.getsockname()[1]
        self.error = ""
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        return True

    # -- the actor's Waitable --------------------------------------------------

    def arm(self) -> bool:
        """Nothing to raise: a UDP socket's descriptor is readable while data waits."""
        return False

    def disarm(self) -> None:
        return None

    def fileno(self) -> int:
        return self.sock.fileno()

    # -- traffic -------------------------------------------------------------------

    def receive(self) -> tuple[memoryview, tuple[str, int]] | None:
        """The next datagram (a view of :attr:`buffer`, valid until the next call) and
        its sender, or None when none waits."""
        if not self.bound:
            return None
        try:
            size, ancdata, _flags, sender = self.sock.recvmsg_into([self._view], _ANC_SPACE)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            # An ICMP error of an earlier send (ECONNREFUSED) can surface here: it
            # concerns a subscriber, not a datagram waiting; count it with the sends.
            self.send_errors += 1
            return None
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(data) >= 4:
                self.kernel_drops = _U32.unpack_from(data)[0]
        return self._view[:size], (sender[0], sender[1])

    def send(self, data: bytes, to: tuple[str, int]) -> bool:
        """Send one datagram without blocking; False (counted) when it could not go."""
        sock = self.sock if self.bound else self._spare_socket()
        try:
            sock.sendto(data, to)
            return True
        except OSError:
            self.send_errors += 1
            return False

    def _spare_socket(self) -> socket.socket:
        if self._spare is None:
            self._spare = socket.socket(self.family, socket.SOCK_DGRAM)
            self._spare.setblocking(False)
        return self._spare

    def close(self) -> None:
        self.sock.close()
        if self._spare is not None:
            self._spare.close()
            self._spare = None
