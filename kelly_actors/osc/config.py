"""The OSC actor's options (``[actors.options]`` of ``kelly_actors.osc.actor:OscActor``).

::

    [actors.options]
    bind = "127.0.0.1"          # loopback: only this machine can reach the port
    port = 9000
    subscribers = ["127.0.0.1:9001"]

    # Listening for a tablet on the stage network needs the senders named:
    # bind = "0.0.0.0"
    # allow = ["192.168.1.23", "192.168.1.0/24"]

Every address is an IP literal: a host name would need a DNS lookup, which can block
the actor's loop for seconds. Ranges are metadata on the fields
(:func:`~kelly_actors.config.typed.setting`); the checks across fields (an allow-list
for a non-loopback bind, subscribers the socket can reach) are in ``__post_init__``, so a
bad table is a ``ConfigError`` naming its key before the performance starts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kelly_actors.config.typed import Checked, setting
from kelly_actors.sensors.reading import MAX_SENSORS
from kelly_actors.sensors.spec import SensorSpec, check_unique

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(text: str, what: str) -> IPAddress:
    """``text`` as an IP address; ValueError naming ``what`` otherwise."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{what} must be an IP address (no host names), got {text!r}") from None


def parse_endpoint(text: str, what: str) -> tuple[str, int]:
    """``"HOST:PORT"`` or ``"[V6HOST]:PORT"`` → (host, port), host an IP literal."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{what} must be HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{what}: port {port_text!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{what}: port must be within 1…65535, got {port}")
    return str(parse_ip(host, what)), port


@dataclass(frozen=True)
class OscConfig(Checked):
    """How the OSC actor listens, whom it answers and what telemetry it sends.

    Attributes:
        bind: the IP address the UDP port listens on. A loopback address (the default)
            is reachable only from this machine; any other needs ``allow``.
        port: the UDP port (0: the kernel picks one, shown in the actor's telemetry as
            ``port``; for tests).
        allow: sender addresses or networks (``"192.168.1.23"``, ``"10.0.0.0/24"``) whose
            packets are taken; empty: every sender that can reach ``bind`` (only allowed
            with a loopback ``bind``). Packets from anyone else are refused unread.
        subscribers: ``"HOST:PORT"`` that receive telemetry from the start, beside the
            hosts that send ``/kelly/subscribe``.
        max_subscribers: most subscribers at once (config and ``/kelly/subscribe``).
        listener_hz: listener estimates (``/kelly/listener``) sent per second, at most
            (the inference actor publishes one per feature frame, ~94 Hz).
        transport_hz: beat and tempo messages per second.
        state_hz: actors' states, restarts, xruns, key and bar emotion: messages per
            second at most (each status snapshot of the supervisor, 4 Hz by default).
        reply_timeout_s: a command unanswered this long is answered ``timeout`` (the
            supervisor itself gives an actor 5 s).
        max_pending: commands waiting for the supervisor's answer at once; more are
            refused ``busy``.
        bundle_horizon_s: a bundle's time tag may lie this far ahead (s); later is
            refused ``bad_timetag``. Earlier messages wait for their time.
        max_scheduled: bundle messages waiting for their time tag at once.
        max_text_bytes: longest string argument taken (bytes of UTF-8).
        receive_buffer_bytes: the UDP socket's receive buffer asked of the kernel
            (SO_RCVBUF; the kernel caps it at ``net.core.rmem_max``).
        allow_stop: take ``/kelly/stop`` (end the performance). Off by default: a UDP
            port is not private like the run directory, and a stray packet must not end
            a show.
        composer / inference / synth: actor names the commands go to.
        estimates: the inference actor's estimates socket in the run directory.
        sensors: the performance's ``[[sensors]]`` whose bridge is this actor (the config
            loader puts them here; docs/osc.md, "Sensors").
        sensors_ring: the ring the sensors' readings go to (written by this actor, read
            by the composer); needed only with sensors.
    """

    bind: str = "127.0.0.1"
    port: int = setting(9000, low=0, high=65535)
    allow: tuple[str, ...] = ()
    subscribers: tuple[str, ...] = ()
    max_subscribers: int = setting(16, low=1, high=256)
    listener_hz: float = setting(20.0, low=10.0, high=100.0)
    transport_hz: float = setting(10.0, low=1.0, high=100.0)
    state_hz: float = setting(4.0, low=0.5, high=50.0)
    reply_timeout_s: float = setting(6.0, above=0.0)
    max_pending: int = setting(64, low=1, high=4096)
    bundle_horizon_s: float = setting(10.0, low=0.0, high=3600.0)
    max_scheduled: int = setting(64, low=0, high=4096)
    max_text_bytes: int = setting(4096, low=16, high=32768)
    receive_buffer_bytes: int = setting(1 << 20, low=4096, high=1 << 28)
    allow_stop: bool = False
    composer: str = "composer"
    inference: str = "inference"
    synth: str = "synth"
    estimates: str = "estimates.sock"
    sensors: tuple[SensorSpec, ...] = ()
    sensors_ring: str = "sensors"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_unique(self.sensors)
        if len(self.sensors) > MAX_SENSORS:
            raise ValueError(f"at most {MAX_SENSORS} sensors, got {len(self.sensors)}")
        bind = parse_ip(self.bind, "bind")
        networks = self.allowed()
        if not bind.is_loopback and not networks:
            raise ValueError(
                f"bind = {self.bind!r} listens beyond this machine: name the senders in "
                "allow (addresses or networks), or bind to 127.0.0.1"
            )
        for network in networks:
            if network.version != bind.version:
                raise ValueError(f"allow: {network} is not IPv{bind.version} like bind")
        if len(self.subscribers) > self.max_subscribers:
            raise ValueError(f"more subscribers than max_subscribers ({self.max_subscribers})")
        for host, _ in self.subscriber_endpoints():
            ip = ipaddress.ip_address(host)
            if ip.version != bind.version:
                raise ValueError(f"subscribers: {host} is not IPv{bind.version} like bind")
            if bind.is_loopback and not ip.is_loopback:
                raise ValueError(
                    f"subscribers: {host} cannot be reached from a socket bound to {self.bind}"
                )

    def allowed(self) -> tuple[Network, ...]:
        """``allow`` as networks (a bare address is a network of one)."""
        networks = []
        for entry in self.allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"allow: {entry!r} is not an IP address or network") from None
        return tuple(networks)

    def subscriber_endpoints(self) -> tuple[tuple[str, int], ...]:
        """``subscribers`` as (host, port)."""
        return tuple(parse_endpoint(s, "subscribers") for s in self.subscribers)
