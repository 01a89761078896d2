"""CurveZMQ keys and the authentication of everything that connects over TCP.

``kelly keys generate DIR`` writes two key pairs (ZeroMQ certificate files): ``server.key``
/ ``server.key_secret`` for the performance (the inference actor's worker endpoint, the
supervisor's remote control and status endpoints) and ``client.key`` /
``client.key_secret`` for remote workers and consoles. Give a remote host the directory
without ``server.key_secret``; the performance needs ``server.key_secret`` and ``client.key``.

A TCP endpoint is bound only as a CURVE server, and the binding process answers ZAP
requests itself (:class:`Authenticator`): a connection is accepted only with CURVE and a
client public key listed in the keys directory (``client.key`` and any ``*.key`` besides
``server.key``); every refusal is reported with the peer's address so it can be logged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import zmq
import zmq.auth

ZAP_ENDPOINT = "inproc://zeromq.zap.01"


class KeyError_(ValueError):
    """Keys missing or unreadable; the message names the file."""


def generate(directory: Path) -> list[Path]:
    """Create server and client key pairs in ``directory``; refuse to overwrite."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = [p for p in ("server.key", "client.key") if (directory / p).exists()]
    if existing:
        raise KeyError_(f"{directory} already holds {', '.join(existing)}; not overwritten")
    written = []
    for name in ("server", "client"):
        public, secret = zmq.auth.create_certificates(str(directory), name)
        os.chmod(secret, 0o600)
        written += [Path(public), Path(secret)]
    return written


def _load(path: Path, secret: bool) -> tuple[bytes, bytes | None]:
    try:
        public, private = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyError_(f"{path}: cannot load a CURVE key ({exc})") from None
    if secret and private is None:
        raise KeyError_(f"{path}: holds no secret key")
    return public, private


def server_keys(directory: Path) -> tuple[bytes, bytes]:
    public, secret = _load(directory / "server.key_secret", secret=True)
    return public, secret  # type: ignore[return-value]


def client_keys(directory: Path) -> tuple[bytes, bytes, bytes]:
    """(client public, client secret, server public)."""
    public, secret = _load(directory / "client.key_secret", secret=True)
    server, _ = _load(directory / "server.key", secret=False)
    return public, secret, server  # type: ignore[return-value]


def authorized_clients(directory: Path) -> set[bytes]:
    keys = set()
    for path in sorted(directory.glob("*.key")):
        if path.name != "server.key":
            keys.add(_load(path, secret=False)[0])
    if not keys:
        raise KeyError_(f"{directory}: no client public key (client.key) to accept")
    return keys


def make_server(socket: zmq.Socket, directory: Path) -> None:
    """Turn ``socket`` (before bind) into a CURVE server with the directory's server key."""
    public, secret = server_keys(directory)
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_server = True
    socket.zap_domain = b"kelly"


def make_client(socket: zmq.Socket, directory: Path) -> None:
    public, secret, server = client_keys(directory)
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_serverkey = server


class Authenticator:
    """The ZAP handler (RFC 27) on ``ctx``; call :meth:`serve` when its socket is readable.

    ``on_refused(address, reason)`` is called for every refused connection.
    """

    def __init__(
        self, ctx: zmq.Context, directory: Path, on_refused: Callable[[str, str], None]
    ) -> None:
        self.allowed = {
            zmq.utils.z85.decode(k) if len(k) == 40 else k for k in authorized_clients(directory)
        }
        self.on_refused = on_refused
        # Imported here: the socket factory imports this module for its CURVE keys, so a
        # module-level import would make the two modules import each other.
        from kelly_actors.bus import sockets

        self.socket = sockets.make(ctx, zmq.REP)
        self.socket.bind(ZAP_ENDPOINT)
        self.accepted = 0
        self.refused = 0

    def serve(self) -> None:
        while self.socket.poll(0):
            frames = self.socket.recv_multipart()
            version, request_id, _domain, address, _identity, mechanism = frames[:6]
            credentials = frames[6:]
            ok = mechanism == b"CURVE" and bool(credentials) and credentials[0] in self.allowed
            if ok:
                self.accepted += 1
                reply = [version, request_id, b"200", b"OK", b"client", b""]
            else:
                self.refused += 1
                why = (
                    "unknown client key"
                    if mechanism == b"CURVE"
                    else f"mechanism {mechanism.decode(errors='replace')}"
                )
                self.on_refused(address.decode(errors="replace"), why)
                reply = [version, request_id, b"400", b"refused", b"", b""]
            self.socket.send_multipart(reply)

    def close(self) -> None:
        self.socket.close(0)
