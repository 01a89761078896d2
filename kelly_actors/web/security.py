"""Who may talk to ``kelly web``, and which files it may show.

* **Token**: a random secret (``secrets.token_urlsafe``) in the URL printed at start, as
  notebook servers do. The page loaded with ``?token=…`` gets it as an HttpOnly,
  SameSite=Strict cookie; every API request, file and the WebSocket need that cookie or
  the ``X-Kelly-Token`` header; a state-changing request needs the header (the page's
  script sends it), so a cookie alone never changes anything.
* **Origin**: a state-changing request and the WebSocket handshake must carry an
  ``Origin`` equal to this server's own (scheme, host, port), and the ``Host`` must be an
  address literal, ``localhost`` or the bound name, so neither another site nor a
  DNS-rebound name reaches the API.
* **Paths**: files are named by a root's index and a path inside it; :func:`contained`
  refuses anything that resolves outside the configured directories.
* **Bodies**: JSON objects only, at most ``max_body_bytes`` (:func:`read_json`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

COOKIE = "kelly_token"
HEADER = "x-kelly-token"
#: Methods that change nothing; everything else is state-changing.
SAFE_METHODS = frozenset({"GET", "HEAD"})


class Denied(Exception):
    """A request refused: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def new_token() -> str:
    """A random URL-safe token (32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


def same(a: str, b: str) -> bool:
    """Equal, compared in constant time (a token must not leak through timing)."""
    return hmac.compare_digest(a.encode(), b.encode())


def check_token(conn: HTTPConnection, token: str, *, header_required: bool) -> None:
    """Refuse (403) a connection without the token (header, or cookie when allowed)."""
    given = conn.headers.get(HEADER, "")
    if given and same(given, token):
        return
    if header_required:
        raise Denied(403, "missing or wrong X-Kelly-Token header")
    cookie = conn.cookies.get(COOKIE, "")
    if not (cookie and same(cookie, token)):
        raise Denied(403, "missing or wrong token: open the URL kelly web printed")


def host_allowed(host_header: str, names: Sequence[str]) -> bool:
    """``Host`` is an IP literal, ``localhost`` or one of ``names`` (the bound address and
    the names configured with ``allowed_hosts``)."""
    try:
        host = urlsplit(f"//{host_header}").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host in names:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_origin(conn: HTTPConnection, scheme: str, names: Sequence[str]) -> None:
    """Refuse (403) a request whose ``Origin`` is absent or not this server, or whose
    ``Host`` is a name this server was not bound to (DNS rebinding)."""
    host = conn.headers.get("host", "")
    if not host_allowed(host, names):
        raise Denied(403, f"host {host!r} is not this server")
    origin = conn.headers.get("origin")
    if origin is None:
        raise Denied(403, "a request that changes something must carry an Origin header")
    if origin != f"{scheme}://{host}":
        raise Denied(403, f"cross-origin request refused (Origin {origin!r})")


def root_dir(roots: Sequence[str], root: int) -> Path:
    """The configured directory ``roots[root]``, resolved; :class:`Denied` (404) if none."""
    if isinstance(root, bool) or not 0 <= root < len(roots) or not roots[root]:
        raise Denied(404, "no such directory")
    return Path(roots[root]).resolve()


def contained(roots: Sequence[str], root: int, relative: str) -> Path:
    """The file ``relative`` inside ``roots[root]``, resolved; :class:`Denied` (404) for
    a root that does not exist, an absolute path, or one that leaves the root (``..``,
    a symbolic link pointing out)."""
    base = root_dir(roots, root)
    if not relative or "\0" in relative or relative.startswith(("/", "\\")):
        raise Denied(404, "no such file")
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or path == base:
        raise Denied(404, "no such file")
    return path


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The request's body as a JSON object: 415 unless ``application/json``, 413 over
    ``limit`` bytes (checked on the header and while reading), 400 unless an object."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Denied(415, "the body must be application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Denied(413, f"request body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Denied(413, f"request body over {limit} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Denied(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Denied(400, "the body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, limit: int = 0) -> Any:
    """``data[name]`` checked to be of ``kind`` (a str of at most ``limit`` characters when
    ``limit``); :class:`Denied` (400) names what is wrong."""
    value = data.get(name)
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        value = None
    if not isinstance(value, kind):
        raise Denied(400, f"field {name!r} is missing or of the wrong type")
    if limit and isinstance(value, str) and len(value) > limit:
        raise Denied(400, f"field {name!r} is longer than {limit} characters")
    return value
