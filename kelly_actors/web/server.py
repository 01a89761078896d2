"""Serve the web console: bind, print the URL with its token, run uvicorn until a signal.

The socket is bound here, before uvicorn starts, so a ``port = 0`` setting gets a free
port and the printed URL names it. ``url_file`` (``kelly web --url-file``) receives the
same URL (mode 0600) once the socket listens, for scripts and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
from dataclasses import replace
from pathlib import Path

import uvicorn

from kelly_actors.files import atomic_write
from kelly_actors.web import app, security
from kelly_actors.web.settings import LOOPBACK, WebSettings

LAN_WARNING = (
    "kelly web: WARNING: serving plain HTTP on {host}: anyone on this network who sees "
    "the URL can watch and steer the performance, and the token crosses the network in the "
    "clear. Use --certfile and --keyfile for HTTPS."
)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (IPv6 when ``host`` is an IPv6 literal)."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url(settings: WebSettings, port: int) -> str:
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    return f"{settings.scheme}://{host}:{port}/?token={settings.token}"


def serve(settings: WebSettings, url_file: Path | None = None) -> int:
    """Run until SIGINT/SIGTERM; the exit code (0, or 1 when the address is taken)."""
    settings = replace(settings, token=settings.token or security.new_token())
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        print(f"kelly web: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    address = url(settings, sock.getsockname()[1])
    if settings.host not in LOOPBACK and not settings.tls:
        print(LAN_WARNING.format(host=settings.host), file=sys.stderr)
    print(f"kelly web: open {address}", flush=True)
    if url_file is not None:
        atomic_write(url_file, address + "\n", mode=0o600)
    config = uvicorn.Config(
        app.build(settings),
        ssl_certfile=settings.certfile or None,
        ssl_keyfile=settings.keyfile or None,
        ws_max_size=settings.max_body_bytes,
        h11_max_incomplete_event_size=settings.max_body_bytes,
        log_level="warning",
        lifespan="on",
        access_log=False,
        server_header=False,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
    return 0
