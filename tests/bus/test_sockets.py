"""The socket factory: every socket gets linger 0, a size limit and, if asked, CURVE."""

from __future__ import annotations

import pytest
import zmq

from kelly_actors.bus import curve, sockets


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def test_a_socket_from_the_factory_never_lingers_and_refuses_oversized_messages(ctx) -> None:
    sock = sockets.make(ctx, zmq.DEALER, 4096)
    unlimited = sockets.make(ctx, zmq.PUB, 0)
    try:
        assert sock.linger == 0
        assert sock.maxmsgsize == 4096
        assert unlimited.maxmsgsize == -1
    finally:
        sock.close()
        unlimited.close()


def test_curve_keys_make_a_server_and_a_client_and_missing_keys_name_the_file(
    ctx, tmp_path
) -> None:
    curve.generate(tmp_path / "keys")
    server = sockets.make(ctx, zmq.ROUTER, curve_server=tmp_path / "keys")
    client = sockets.make(ctx, zmq.DEALER, curve_client=tmp_path / "keys")
    try:
        assert server.mechanism == client.mechanism == zmq.CURVE
        assert server.curve_server and not client.curve_server
    finally:
        server.close()
        client.close()
    with pytest.raises(curve.KeyError_, match="nowhere"):
        sockets.make(ctx, zmq.DEALER, curve_client=tmp_path / "nowhere")
