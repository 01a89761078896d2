"""Who may talk to the OSC actor, what was refused, and who receives telemetry.

A UDP source address can be anything, so every table here is bounded: refusals are
counted by kind without limit (integers), but the set of (sender, kind) already logged
holds at most :data:`MAX_LOGGED` entries, after which one ``osc_refusals_unlogged`` event
says that later senders are counted only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from kelly_actors.osc.config import Network

#: Refusal kind for a packet from a sender the allow-list does not name.
NOT_ALLOWED = "not_allowed"
#: (sender, kind) pairs logged once each, at most; then counting only.
MAX_LOGGED = 1024
#: Allow-list answers remembered per sender address (a flood of spoofed sources only
#: evicts the cache, it does not grow it).
MAX_CACHED = 4096

Address = tuple[str, int]


class Gate:
    """The allow-list: every sender when empty (loopback only, see the config), else
    the senders within one of ``networks``."""

    def __init__(self, networks: tuple[Network, ...]) -> None:
        self.networks = networks
        self._cache: dict[str, bool] = {}

    def admits(self, host: str) -> bool:
        if not self.networks:
            return True
        known = self._cache.get(host)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        verdict = any(ip in net for net in self.networks)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[host] = verdict
        return verdict


class Refusals:
    """Counts refused packets by kind and logs each (sender, kind) once.

    ``emit(event, **detail)``: the actor's event log (``ActorContext.emit``).
    """

    def __init__(self, emit: Callable[..., None]) -> None:
        self.emit = emit
        self.counts: dict[str, int] = {}
        self._logged: set[tuple[str, str]] = set()
        self._full = False

    def refuse(self, host: str, kind: str, reason: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        key = (host, kind)
        if key in self._logged:
            return
        if len(self._logged) < MAX_LOGGED:
            self._logged.add(key)
            self.emit("osc_refused", sender=host, kind=kind, reason=reason[:200])
        elif not self._full:
            self._full = True
            self.emit("osc_refusals_unlogged", logged=MAX_LOGGED)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Subscribers:
    """Where telemetry goes: the configured hosts (fixed) and those that subscribed."""

    def __init__(self, fixed: tuple[Address, ...], limit: int) -> None:
        self.fixed = tuple(dict.fromkeys(fixed))
        self.dynamic: list[Address] = []
        self.limit = limit

    def all(self) -> tuple[Address, ...]:
        return self.fixed + tuple(self.dynamic)

    def __len__(self) -> int:
        return len(self.fixed) + len(self.dynamic)

    def add(self, who: Address) -> bool:
        """Subscribe ``who``; False when the table is full. Already there: True."""
        if who in self.fixed or who in self.dynamic:
            return True
        if len(self) >= self.limit:
            return False
        self.dynamic.append(who)
        return True

    def remove(self, who: Address) -> bool:
        """Unsubscribe ``who`` (configured subscribers stay); True if it was there."""
        if who in self.dynamic:
            self.dynamic.remove(who)
            return True
        return False

    def state(self) -> list[list[Any]]:
        """The dynamic subscribers, for the next incarnation."""
        return [[host, port] for host, port in self.dynamic]

    def restore(self, saved: Any) -> None:
        """Take back :meth:`state` (anything malformed is skipped)."""
        if not isinstance(saved, list):
            return
        for item in saved:
            if (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], int)
                and 0 < item[1] < 65536
            ):
                self.add((item[0], item[1]))
