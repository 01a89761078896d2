"""``kelly web`` over plain HTTP and a WebSocket: the token, the Origin, the Host, body
limits, paths kept inside the configured directories, range requests, model cards.

One real ``kelly web`` for the module, over a run directory where nothing runs."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from performance import REPO, env_with_support, wait_until
from web_support import WebServer, web_server, write_take
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

MODEL = REPO / "models" / "ddsp-flute"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, Path]]:
    work = tmp_path_factory.mktemp("web-http")
    models = work / "models"
    models.mkdir()
    for suffix in (".onnx", ".json", ".md"):
        shutil.copy(MODEL.with_suffix(suffix), models / f"flute{suffix}")
        shutil.copy(MODEL.with_suffix(suffix), models / f"tampered{suffix}")
    with (models / "tampered.onnx").open("ab") as f:
        f.write(b"\0")  # the card's sha256 no longer matches
    card = "# flute\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    (models / "flute.md").write_text(card)
    takes = work / "takes"
    write_take(takes / "take-1")
    (work / "secret.wav").write_bytes(b"RIFF secret")
    os.symlink(work / "secret.wav", takes / "take-1" / "escape.wav")
    (work / "run").mkdir()
    with web_server(
        work / "run", work, "--models", str(models), "--takes", str(takes),
        "--train-dir", str(work / "train"),
    ) as server:  # fmt: skip
        yield server, work


def test_the_page_and_the_api_want_the_token_and_the_page_hands_it_over_as_a_strict_cookie(
    site: tuple[WebServer, Path],
) -> None:
    server, _ = site
    assert server.request("/", token=False)[0] == 403
    assert server.request("/?token=" + "x" * 43, token=False)[0] == 403
    assert server.request("/api/models", token=False)[0] == 403
    assert server.request("/api/models", headers={"X-Kelly-Token": "wrong"}, token=False)[0] == 403
    assert server.request("/static/app.js", token=False)[0] == 200  # assets hold no secret

    opener = urllib.request.build_opener(NoRedirect())
    try:
        opener.open(server.url, timeout=30)
        raise AssertionError("the token URL should redirect")
    except urllib.error.HTTPError as exc:
        assert exc.code == 303
        cookie = exc.headers["set-cookie"]
    assert f"kelly_token={server.token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    status, headers, page = server.request(
        "/", token=False, headers={"Cookie": f"kelly_token={server.token}"}
    )
    assert status == 200 and server.token.encode() in page
    assert "default-src 'self'" in headers["content-security-policy"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_a_state_changing_request_from_another_origin_host_or_with_only_the_cookie_is_refused(
    site: tuple[WebServer, Path],
) -> None:
    server, _ = site
    feel = {"verb": "feel", "argv": ["I feel calm"]}
    status, body = server.json("/api/ctl", feel, origin="http://evil.example")
    assert status == 403 and "cross-origin" in body["error"]
    status, body = server.json("/api/ctl", feel, origin=None)
    assert status == 403 and "Origin" in body["error"]
    status, body = server.json(
        "/api/ctl", feel, token=False, headers={"Cookie": f"kelly_token={server.token}"}
    )
    assert status == 403 and "X-Kelly-Token" in body["error"]
    port = server.origin.rsplit(":", 1)[1]
    rebound = f"http://rebound.example:{port}"
    status, body = server.json("/api/ctl", feel, origin=rebound, headers={"Host": rebound[7:]})
    assert status == 403 and "Host" in body["error"]
    # The right token and Origin get through to the verb: nothing runs here, and it says so.
    status, body = server.json("/api/ctl", feel)
    assert status == 422 and body["code"] == "not_running" and "no performance" in body["text"]


def test_bodies_are_size_limited_json_objects_and_verbs_parse_their_arguments_as_kelly_ctl(
    site: tuple[WebServer, Path],
) -> None:
    server, _ = site
    huge = {"verb": "feel", "argv": ["x" * 70_000]}
    assert server.json("/api/ctl", huge)[0] == 413
    assert server.request("/api/ctl", raw=b"{not json")[0] == 400
    assert server.request("/api/ctl", raw=b"[1, 2]")[0] == 400
    status, _, _ = server.request("/api/ctl", raw=b"{}", headers={"Content-Type": "text/plain"})
    assert status == 415
    status, body = server.json("/api/ctl", {"verb": "call", "argv": ["composer", "stop"]})
    assert status == 422 and "unknown action" in body["text"]
    status, body = server.json("/api/ctl", {"verb": "set-emotion", "argv": ["high", "0.5", "0.5"]})
    assert status == 422 and body["code"] == "usage" and "invalid float value" in body["text"]
    status, body = server.json("/api/ctl", {"verb": "feel", "argv": "I feel calm"})
    assert status == 422 and "list" in body["text"]
    status, body = server.json("/api/train", {"kind": "rm -rf", "quick": True})
    assert status == 422 and "unknown training kind" in body["error"]
    status, body = server.json(
        "/api/train", {"kind": "ddsp", "quick": True, "options": {"out": "/etc"}}
    )
    assert status == 422 and "unknown option" in body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/files/takes/0/take-1/%2e%2e/%2e%2e/secret.wav",
        "/files/takes/0/take-1/..%2f..%2fsecret.wav",
        "/files/takes/0/take-1/escape.wav",  # a symbolic link pointing out
        "/files/takes/0/%2fetc%2fpasswd",
        "/files/takes/7/take-1/output.wav",
        "/api/models/0/..%2f..%2fsecret.wav",
        "/api/models/0/%2e%2e/takes/take-1/output.wav",
    ],
)
def test_no_file_outside_the_configured_directories_is_served(
    site: tuple[WebServer, Path], path: str
) -> None:
    server, _ = site
    status, _, body = server.request(path)
    assert status == 404 and b"secret" not in body and b"RIFF" not in body


def test_load_and_report_refuse_names_outside_the_configured_directories(
    site: tuple[WebServer, Path],
) -> None:
    server, _ = site
    assert server.json("/api/load", {"root": 0, "name": "../takes/take-1/output.wav"})[0] == 404
    assert server.json("/api/load", {"root": 0, "name": "/etc/passwd"})[0] == 404
    assert server.json("/api/load", {"root": "0", "name": "flute.onnx"})[0] == 400
    assert server.json("/api/takes/report", {"root": 0, "path": "../.."})[0] == 404
    status, body = server.json("/api/ctl", {"verb": "load-model", "argv": ["emotion", "/etc/x"]})
    assert status == 422 and "configured model directories" in body["text"]


def test_a_take_s_wav_is_served_with_range_requests_so_the_player_can_seek(
    site: tuple[WebServer, Path],
) -> None:
    server, work = site
    wav = (work / "takes" / "take-1" / "output.wav").read_bytes()
    status, body = server.json("/api/takes")
    assert status == 200
    take = next(t for t in body["takes"] if t["name"] == "take-1")
    assert [w["name"] for w in take["wavs"]] == ["take-1/escape.wav", "take-1/output.wav"]
    status, headers, part = server.request(
        "/files/takes/0/take-1/output.wav", headers={"Range": "bytes=1000-1999"}
    )
    assert status == 206 and part == wav[1000:2000]
    assert headers["content-range"] == f"bytes 1000-1999/{len(wav)}"
    assert headers["content-type"] == "audio/wav"


def test_model_cards_say_whether_they_match_their_file_and_render_no_raw_html(
    site: tuple[WebServer, Path],
) -> None:
    server, _ = site
    status, body = server.json("/api/models")
    assert status == 200
    found = {m["name"]: m for m in body["models"] if m["root"] == 0}
    assert found["flute.onnx"]["matches"] and not found["tampered.onnx"]["matches"]
    assert found["flute.onnx"]["kind"] == "ddsp" and found["flute.onnx"]["loadable"]  # its card
    status, body = server.json("/api/models/0/flute.onnx")
    html = body["model"]["card_html"]
    assert "<table>" in html and "<script>" not in html and "&lt;script&gt;" in html


def test_the_websocket_wants_the_token_and_this_origin_and_then_streams(
    site: tuple[WebServer, Path],
) -> None:
    server, _ = site
    ws_url = server.origin.replace("http", "ws", 1) + "/ws"
    cookie = {"Cookie": f"kelly_token={server.token}"}
    with pytest.raises(InvalidStatus):
        connect(ws_url, origin=server.origin, open_timeout=10).close()
    with pytest.raises(InvalidStatus):
        connect(ws_url, origin="http://evil.example", additional_headers=cookie, open_timeout=10)
    with connect(ws_url, origin=server.origin, additional_headers=cookie, open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello"
        state = json.loads(ws.recv(timeout=10))
        if state["why"] == "not looked yet":  # the hub had not looked when we connected
            state = json.loads(ws.recv(timeout=10))
        assert state["type"] == "offline" and "no performance" in state["why"]


def test_kelly_web_refuses_a_network_address_without_tls_and_warns_with_insecure_lan(
    tmp_path: Path,
) -> None:
    base = [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(tmp_path), "web"]
    # 127.0.0.2 is on the loopback interface but is not one of the loopback names.
    done = subprocess.run(
        [*base, "--host", "127.0.0.2", "--port", "0"],
        capture_output=True, text=True, env=env_with_support(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "--insecure-lan" in done.stderr
    url_file = tmp_path / "url"
    log = tmp_path / "log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*base, "--host", "127.0.0.2", "--port", "0", "--insecure-lan", "--url-file",
             str(url_file)], stdout=out, stderr=subprocess.STDOUT, env=env_with_support(),
        )  # fmt: skip
        try:
            wait_until(lambda: url_file.exists() or proc.poll() is not None, 30, "kelly web")
        finally:
            proc.terminate()
            proc.wait(20)
    assert url_file.read_text().startswith("http://127.0.0.2:")
    assert "WARNING: serving plain HTTP on 127.0.0.2" in log.read_text()


def test_with_a_certificate_kelly_web_serves_https_and_the_cookie_is_secure(
    tmp_path: Path,
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.2", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with web_server(
        tmp_path, tmp_path, "--host", "127.0.0.2", "--certfile", str(cert), "--keyfile", str(key)
    ) as server:  # fmt: skip
        assert server.url.startswith("https://127.0.0.2:")
        assert "WARNING" not in server.log()
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False  # the certificate names an address, not a host
        opener = urllib.request.build_opener(
            NoRedirect(), urllib.request.HTTPSHandler(context=context)
        )
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(server.url, timeout=30)
        assert redirect.value.code == 303
        assert "Secure" in redirect.value.headers["set-cookie"]
        redirect.value.close()
