"""The web console's routes: the page, its API, its WebSocket and its files.

Every route but the static assets goes through :class:`Guard` (the token, the Origin and
the Host; see :mod:`.security`). Blocking work (a control request, hashing a model,
listing directories) runs in a worker thread so the loop keeps feeding the WebSocket.

Routes: ``GET /`` the page; ``WS /ws`` the live stream; ``GET /api/info``;
``POST /api/ctl`` a verb; ``GET /api/models``, ``GET /api/models/{root}/{name}`` a card,
``POST /api/load`` load a model; ``GET /api/train``, ``POST /api/train``,
``POST /api/train/cancel``; ``GET /api/takes``, ``POST /api/takes/report``;
``GET /files/takes/{root}/{path}`` a take's WAV (range requests), MIDI or report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from kelly_actors.web import control, models, security, takes, training
from kelly_actors.web.live import LiveHub
from kelly_actors.web.security import Denied
from kelly_actors.web.settings import WebSettings

STATIC = Path(str(resources.files("kelly_actors.web") / "static"))
#: Files of a take the page may fetch, and their types.
TAKE_FILES = {".wav": "audio/wav", ".mid": "audio/midi", ".html": "text/html"}
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", **(extra or {})}


class Guard:
    """ASGI middleware: the token on every request but ``/`` and ``/static``; a
    state-changing request and the WebSocket also need a matching Origin."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        path = scope["path"]
        try:
            if not security.host_allowed(conn.headers.get("host", ""), self.settings.host_names):
                raise Denied(403, "this Host is not this server")
            if path != "/" and not path.startswith("/static/"):
                changing = scope["type"] == "websocket" or scope["method"] not in (
                    security.SAFE_METHODS
                )
                security.check_token(
                    conn, self.settings.token, header_required=scope["type"] == "http" and changing
                )
                if changing:
                    security.check_origin(conn, self.settings.scheme, self.settings.host_names)
        except Denied as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": str(exc)[:120]})
                return None
            response = JSONResponse({"ok": False, "error": str(exc)}, exc.status, _headers())
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


class Console:
    """The application's state: settings, the live hub, the trainer."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.hub = LiveHub(Path(settings.run_dir))
        self.trainer = training.Trainer(Path(settings.run_dir), settings.training_dir)
        self.model_dirs = (*settings.model_dirs, str(settings.training_dir))

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.hub.start(asyncio.get_running_loop())
        watcher = asyncio.create_task(self.trainer.watch(self.hub.publish))
        try:
            yield
        finally:
            watcher.cancel()
            await run_in_threadpool(self.trainer.close)
            await run_in_threadpool(self.hub.close)

    # -- the page and the stream ------------------------------------------------------

    async def page(self, request: Request) -> Response:
        given = request.query_params.get("token")
        if given is not None:
            if not security.same(given, self.settings.token):
                return HTMLResponse(_denied_page(), 403, _headers())
            response = RedirectResponse("/", 303, _headers())
            response.set_cookie(
                security.COOKIE, self.settings.token, httponly=True, samesite="strict",
                secure=self.settings.tls, path="/",
            )  # fmt: skip
            return response
        try:
            security.check_token(request, self.settings.token, header_required=False)
        except Denied:
            return HTMLResponse(_denied_page(), 403, _headers())
        html = (STATIC / "index.html").read_text()
        html = html.replace("__KELLY_TOKEN__", self.settings.token)
        return HTMLResponse(html, headers=_headers({"Content-Security-Policy": PAGE_POLICY}))

    async def stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        queue = self.hub.subscribe()

        async def pump() -> None:
            while True:
                await websocket.send_text(json.dumps(await queue.get()))

        sender = asyncio.create_task(pump())
        sender.add_done_callback(lambda _: None)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            self.hub.unsubscribe(queue)

    # -- API ------------------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        available = await run_in_threadpool(takes.report_available)
        return _ok({
            "run_dir": self.settings.run_dir,
            "model_dirs": list(self.model_dirs),
            "takes_dirs": list(self.settings.takes_dirs),
            "verbs": list(control.ALLOWED),
            "train_kinds": list(training.KINDS),
            "instruments": list(training.INSTRUMENTS),
            "report_available": available,
        })  # fmt: skip

    async def ctl(self, request: Request) -> Response:
        data = await security.read_json(request, self.settings.max_body_bytes)
        verb = security.field(data, "verb", str, limit=32)
        argv = data.get("argv", [])
        outcome = await run_in_threadpool(
            control.perform, self.settings.run_dir, verb, argv, self.model_dirs
        )
        return JSONResponse(outcome.as_json(), 200 if outcome.ok else 422, _headers())

    async def model_list(self, request: Request) -> Response:
        return _ok({"models": await run_in_threadpool(models.listing, self.model_dirs)})

    def _model_path(self, root: Any, name: Any) -> Path:
        if isinstance(root, bool) or not isinstance(root, int) or not isinstance(name, str):
            raise Denied(400, "a model is named by its directory index and file name")
        path = security.contained(self.model_dirs, root, name)
        if path.suffix != ".onnx" or not path.is_file():
            raise Denied(404, "no such model")
        return path

    async def model_card(self, request: Request) -> Response:
        root = request.path_params["root"]
        path = self._model_path(root, request.path_params["name"])
        card = await run_in_threadpool(
            models.describe, root, path, request.path_params["name"], full=True
        )
        return _ok({"model": card})

    async def load(self, request: Request) -> Response:
        data = await security.read_json(request, self.settings.max_body_bytes)
        root, name = data.get("root"), data.get("name")
        path = self._model_path(root, name)
        card = await run_in_threadpool(models.describe, root, path, name, full=False)
        if not card["loadable"]:
            raise Denied(422, f"a {card['kind'] or 'model of unknown kind'} cannot be loaded "
                         "live (load-model takes emotion and ddsp models)")  # fmt: skip
        outcome = await run_in_threadpool(
            control.perform, self.settings.run_dir, "load-model",
            [card["kind"], str(path)], self.model_dirs,
        )  # fmt: skip
        body = {**outcome.as_json(), "card_matches": card["matches"], "sha256": card["sha256"]}
        return JSONResponse(body, 200 if outcome.ok else 422, _headers())

    async def train_state(self, request: Request) -> Response:
        return _ok({"job": self.trainer.state()})

    async def train_start(self, request: Request) -> Response:
        data = await security.read_json(request, self.settings.max_body_bytes)
        kind = security.field(data, "kind", str, limit=32)
        quick = security.field(data, "quick", bool)
        options = data.get("options", {})
        if not isinstance(options, dict):
            raise Denied(400, "options must be an object")
        try:
            job = await run_in_threadpool(self.trainer.start, kind, quick, options)
        except training.TrainingError as exc:
            raise Denied(422, str(exc)) from None
        return _ok({"job": job})

    async def train_cancel(self, request: Request) -> Response:
        await security.read_json(request, self.settings.max_body_bytes)
        try:
            return _ok({"job": self.trainer.cancel()})
        except training.TrainingError as exc:
            raise Denied(409, str(exc)) from None

    async def take_list(self, request: Request) -> Response:
        found = await run_in_threadpool(takes.listing, self.settings.takes_dirs)
        return _ok({"takes": found})

    async def take_report(self, request: Request) -> Response:
        data = await security.read_json(request, self.settings.max_body_bytes)
        root = security.field(data, "root", int)
        path = security.field(data, "path", str, limit=1000)
        if path:
            take = security.contained(self.settings.takes_dirs, root, path)
        else:
            take = security.root_dir(self.settings.takes_dirs, root)
        if not takes.is_take(take):
            raise Denied(404, "no such take")
        if not await run_in_threadpool(takes.report_available):
            raise Denied(501, "this installation has no kelly report program")
        ok, output = await takes.build_report(take)
        return JSONResponse({"ok": ok, "output": output}, 200 if ok else 422, _headers())

    async def take_file(self, request: Request) -> Response:
        root = request.path_params["root"]
        path = security.contained(self.settings.takes_dirs, root, request.path_params["path"])
        kind = TAKE_FILES.get(path.suffix)
        if kind is None or not path.is_file():
            raise Denied(404, "no such file")
        # A report is a document of its own: sandboxed, it cannot call this API as the page.
        extra = {"Content-Security-Policy": "sandbox allow-scripts"} if kind == "text/html" else {}
        return FileResponse(path, media_type=kind, headers=_headers(extra))


def _ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"ok": True, **body}, headers=_headers())


def _denied_page() -> str:
    return (
        "<!doctype html><title>Kelly</title><p>This page needs the token: open the URL "
        "that <code>kelly web</code> printed when it started.</p>"
    )


async def _denied(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Denied)
    return JSONResponse({"ok": False, "error": str(exc)}, exc.status, _headers())


def build(settings: WebSettings) -> ASGIApp:
    """The application for ``settings`` (which must carry a token)."""
    if not settings.token:
        raise ValueError("the web console needs a token")
    console = Console(settings)
    routes = [
        Route("/", console.page),
        WebSocketRoute("/ws", console.stream),
        Route("/api/info", console.info),
        Route("/api/ctl", console.ctl, methods=["POST"]),
        Route("/api/models", console.model_list),
        Route("/api/models/{root:int}/{name:path}", console.model_card),
        Route("/api/load", console.load, methods=["POST"]),
        Route("/api/train", console.train_state),
        Route("/api/train", console.train_start, methods=["POST"]),
        Route("/api/train/cancel", console.train_cancel, methods=["POST"]),
        Route("/api/takes", console.take_list),
        Route("/api/takes/report", console.take_report, methods=["POST"]),
        Route("/files/takes/{root:int}/{path:path}", console.take_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=console.lifespan, exception_handlers={Denied: _denied})
    app.state.console = console
    return Guard(app, settings)
