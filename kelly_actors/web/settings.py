"""What ``kelly web`` serves and where: a frozen, checked config from TOML and the command line.

A ``[web]`` table in a TOML file (``kelly web --config FILE``) gives any of the fields
below; the command line's options override it. Directories are made absolute once, here,
so every later path check compares absolute paths.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kelly_actors.config.typed import Checked, ConfigError, from_mapping, setting

#: The shipped models (``models/`` beside the package).
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class WebSettings(Checked):
    """``kelly web``'s settings.

    Attributes:
        host: the address to bind; anything but loopback needs TLS (``certfile`` and
            ``keyfile``) or ``insecure_lan``.
        port: TCP port; 0 takes a free one (the printed URL shows it).
        certfile, keyfile: PEM files for HTTPS ("" = plain HTTP).
        insecure_lan: serve plain HTTP on a non-loopback address anyway (a warning is printed).
        run_dir: the performance's run directory (its ``supervisor.json``).
        model_dirs: directories whose ``*.onnx`` files (and cards) the Models page lists.
        takes_dirs: directories whose sub-directories (or WAVs) are the Takes page's
            recordings; the run directory's ``recordings/`` (where the composer keeps
            its MIDI by default) is always added.
        train_dir: where runs started from the page write their models ("" =
            ``<run_dir>/web-training``); listed on the Models page too.
        max_body_bytes: largest request body accepted (bytes).
        token: the secret in the URL ("" = a random one at each start).
        allowed_hosts: host names (besides IP addresses, ``localhost`` and ``host``) that
            a request's ``Host`` may name, e.g. the name a TLS certificate is for; any
            other name is refused (DNS rebinding).
    """

    host: str = "127.0.0.1"
    port: int = setting(8770, low=0, high=65535)
    certfile: str = ""
    keyfile: str = ""
    insecure_lan: bool = False
    run_dir: str = ""
    model_dirs: tuple[str, ...] = (str(DEFAULT_MODELS_DIR),)
    takes_dirs: tuple[str, ...] = ()
    train_dir: str = ""
    max_body_bytes: int = setting(64 * 1024, low=256, high=16 * 1024 * 1024)
    token: str = ""
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if bool(self.certfile) != bool(self.keyfile):
            raise ValueError("TLS needs both certfile and keyfile")
        if self.host not in LOOPBACK and not self.tls and not self.insecure_lan:
            raise ValueError(
                f"host {self.host!r} is not loopback: give --certfile and --keyfile for HTTPS, "
                "or --insecure-lan to serve plain HTTP on the network anyway"
            )
        if self.token and len(self.token) < 16:
            raise ValueError("a token must be at least 16 characters")

    @property
    def tls(self) -> bool:
        return bool(self.certfile and self.keyfile)

    @property
    def host_names(self) -> tuple[str, ...]:
        return (self.host, *self.allowed_hosts)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def training_dir(self) -> Path:
        return Path(self.train_dir or Path(self.run_dir) / "web-training")

    def absolute(self) -> WebSettings:
        """The same settings with every directory absolute (and resolved)."""

        def full(p: str) -> str:
            return str(Path(p).expanduser().resolve()) if p else ""

        return replace(
            self,
            run_dir=full(self.run_dir),
            model_dirs=tuple(full(p) for p in self.model_dirs),
            takes_dirs=tuple(full(p) for p in self.takes_dirs),
            train_dir=full(self.train_dir),
            certfile=full(self.certfile),
            keyfile=full(self.keyfile),
        )


def load(path: Path | None, overrides: dict[str, Any]) -> WebSettings:
    """Settings from ``path``'s ``[web]`` table (when given) with ``overrides`` on top.

    Raises:
        ConfigError: an unreadable file, an unknown key, a value out of range.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            table = tomllib.loads(path.read_text()).get("web", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [web] must be a table")
        data.update(table)
    data.update({k: v for k, v in overrides.items() if v is not None})
    loaded = from_mapping(WebSettings, data, "[web]").absolute()
    composer_takes = str(Path(loaded.run_dir) / "recordings")
    if loaded.run_dir and composer_takes not in loaded.takes_dirs:
        loaded = replace(loaded, takes_dirs=(*loaded.takes_dirs, composer_takes))
    return loaded
