"""Every ZeroMQ socket in the project is made here, with the same options.

* ``linger = 0``: closing never waits on undelivered messages (a stopping actor or console
  must not hang on a peer that went away);
* ``maxmsgsize``: a peer cannot make us buffer an arbitrary message; the limit is the kind
  of traffic's (:data:`CONTROL_MAX_BYTES` for control and status, :data:`VARIATIONS_MAX_BYTES`
  for the transformer's bar requests, :data:`WORKER_MAX_BYTES` between the inference actor
  and its workers, whose messages carry model files);
* CURVE when a keys directory is given (:mod:`kelly_actors.bus.curve`): as a server before a
  TCP bind, as a client before a TCP connect.
"""

from __future__ import annotations

from pathlib import Path

import zmq

from kelly_actors.bus import curve, messages

#: Control requests, replies, heartbeats and status (JSON header plus at most one array).
CONTROL_MAX_BYTES = messages.SOCKET_MAX_MESSAGE_BYTES
#: One bar's variation request or answer (JSON, a few kB; 1 MiB leaves room for long bars).
VARIATIONS_MAX_BYTES = 1 << 20
#: The inference actor ⇄ its workers: a model file (the largest body) plus its header.
WORKER_MAX_BYTES = messages.MAX_MODEL_BYTES + messages.MAX_HEADER_BYTES


def make(
    ctx: zmq.Context,
    kind: int,
    max_bytes: int = CONTROL_MAX_BYTES,
    *,
    curve_server: Path | None = None,
    curve_client: Path | None = None,
) -> zmq.Socket:
    """A new socket of ``kind`` (``zmq.DEALER``, …) with linger 0 and ``max_bytes``.

    ``max_bytes`` 0 or less leaves the size unlimited (only for sockets that send and never
    receive, e.g. a PUB). ``curve_server`` / ``curve_client``: keys directory to secure it
    with; raises :class:`kelly_actors.bus.curve.KeyError_` (the socket closed) if the keys
    cannot be loaded.
    """
    sock = ctx.socket(kind)
    sock.linger = 0
    if max_bytes > 0:
        sock.maxmsgsize = max_bytes
    try:
        if curve_server is not None:
            curve.make_server(sock, curve_server)
        if curve_client is not None:
            curve.make_client(sock, curve_client)
    except curve.KeyError_:
        sock.close(linger=0)
        raise
    return sock


class SocketBell:
    """A ZeroMQ socket as an actor's Waitable (``arm``/``disarm``/``fileno``).

    The socket's ``FD`` is edge-triggered: it signals a change, not that a message waits,
    so :meth:`arm` checks ``EVENTS`` before the loop goes to sleep on it.
    """

    def __init__(self, socket: zmq.Socket) -> None:
        self.socket = socket

    def arm(self) -> bool:
        """True if a message can be received now (then the loop does not sleep)."""
        return bool(self.socket.getsockopt(zmq.EVENTS) & zmq.POLLIN)

    def disarm(self) -> None:
        return None

    def fileno(self) -> int:
        return self.socket.getsockopt(zmq.FD)
