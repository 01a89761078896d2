"""The strict OSC decoder against python-osc's packets, and every kind of bad packet."""

from __future__ import annotations

import random
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from osc_support import build
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from kelly_actors.osc import wire
from kelly_actors.osc.wire import BAD_TIMETAG, MALFORMED, OscError

NOW = 1_800_000_000.0
HORIZON = 10.0
NTP = wire.NTP_UNIX_OFFSET

args_strategy = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.floats(width=32, allow_nan=False),
        st.text(st.characters(blacklist_characters="\x00"), max_size=40),
        st.binary(min_size=1, max_size=40),
        st.booleans(),
        st.none(),
    ),
    max_size=8,
)


def ntp(unix: float) -> bytes:
    seconds = int(unix) + NTP
    return struct.pack(">II", seconds, int((unix % 1) * 2**32))


def bundle(timetag: bytes, *elements: bytes) -> bytes:
    return b"#bundle\x00" + timetag + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def decode(packet: bytes) -> list[wire.Timed]:
    return wire.decode(packet, NOW, HORIZON)


def refused(packet: bytes) -> OscError:
    with pytest.raises(OscError) as info:
        decode(packet)
    return info.value


@settings(max_examples=300, deadline=None)
@given(
    address=st.from_regex(r"/[a-z]{1,12}(/[a-z_]{1,12}){0,3}", fullmatch=True), args=args_strategy
)
def test_every_message_python_osc_builds_decodes_to_the_same_address_and_arguments(
    address: str, args: list
) -> None:
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    dgram = builder.build().dgram
    [timed] = decode(dgram)
    reference = OscPacket(dgram).messages[0].message
    assert timed.at is None
    assert timed.message.address == reference.address
    assert list(timed.message.args) == reference.params


def test_a_bundle_python_osc_builds_gives_its_messages_in_order_with_their_time() -> None:
    outer = OscBundleBuilder(IMMEDIATELY)
    outer.add_content(OscMessageBuilder("/kelly/panic").build())
    inner = OscBundleBuilder(time.time() + 2.0)
    msg = OscMessageBuilder("/kelly/lock")
    msg.add_arg("arousal")
    inner.add_content(msg.build())
    outer.add_content(inner.build())
    now = time.time()
    first, second = wire.decode(outer.build().dgram, now, HORIZON)
    assert (first.at, first.message.address) == (None, "/kelly/panic")
    assert second.message == wire.Message("/kelly/lock", "s", ("arousal",))
    assert second.at == pytest.approx(now + 2.0, abs=0.5)


def test_a_message_without_type_tags_is_taken_as_osc_1_0_allows() -> None:
    [timed] = decode(b"/kelly/panic\x00\x00\x00\x00")
    assert timed.message == wire.Message("/kelly/panic", "", ())


def test_every_truncation_of_a_message_after_its_address_is_refused_as_malformed() -> None:
    dgram = build("/kelly/emotion", 0.5, 0.8, 0.7)
    tags_start = dgram.index(b",")  # cut there, it is a message without type tags
    for cut in range(tags_start + 1, len(dgram)):
        assert refused(dgram[:cut]).kind == MALFORMED, cut


def test_a_bundle_cut_anywhere_but_between_elements_is_refused() -> None:
    first, second = build("/kelly/feel", "calm"), build("/kelly/panic")
    dgram = bundle(ntp(NOW + 1), first, second)
    # OSC gives a bundle no total length: cut between two elements, it is a shorter bundle.
    boundaries = {16: 0, 16 + 4 + len(first): 1}
    for cut in range(1, len(dgram)):
        if cut in boundaries:
            assert len(decode(dgram[:cut])) == boundaries[cut]
        else:
            assert refused(dgram[:cut]).kind == MALFORMED, cut


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"", "neither"),
        (b"\xff" * 65_507, "neither"),  # 64 KiB of garbage
        (b"/kelly" + b"\xfe" * 65_000, "no terminating NUL"),
        (b"/kelly/panic\x00\x00\x00\x00,x\x00\x00", "unsupported type tag"),
        (b"/kelly/panic\x00\x00\x00\x00,[]\x00", "unsupported type tag"),
        (b"/kelly/feel\x00,s\x00\x00\xff\xfe\x00\x00", "not UTF-8"),
        (b"/kelly/feel\x00x\x00\x00", "does not start with ','"),
        (b"/kelly/panic\x00\x01\x00\x00", "padding is not NUL"),
        (b"/kelly/panic\x00\x00\x00\x00,\x00\x00\x00\x00\x00\x00\x00", "bytes after"),
        (b"/kelly/feel\x00,b\x00\x00\xff\xff\xff\xf0", "blob of -16 bytes"),
        (b"/kelly/feel\x00,b\x00\x00\x00\x00\x01\x00abcd", "blob of 256 bytes"),
        (b"/a b\x00\x00\x00\x00", "bad address"),
        (b"/\x00\x00\x00", "bad address"),
        (b"/kelly/feel\x00,c\x00\x00\xff\xff\xff\xff", "not a character"),
        (bundle(ntp(NOW), b"\xff\xff\xff\xff"), "neither a message nor a bundle"),
        (b"#bundle\x00" + ntp(NOW) + b"\x00\x00\x00\x08abc", "does not fit"),
        (b"#bundle\x00" + ntp(NOW) + b"\xff\xff\xff\xfc", "does not fit"),
        (b"#bundle\x00" + ntp(NOW) + b"\x00\x00\x00\x03abc\x00", "does not fit"),
        (b"#bundle\x00" + ntp(NOW) + b"\x00\x00", "cut off"),
        (b"#bundle\x00\x00\x00\x00", "no room for its time tag"),
    ],
)
def test_malformed_packets_are_refused_with_the_reason(packet: bytes, reason: str) -> None:
    error = refused(packet)
    assert error.kind == MALFORMED and reason in str(error)


def test_bundles_nested_deeper_than_the_limit_are_refused() -> None:
    packet = build("/kelly/panic")
    for _ in range(wire.MAX_DEPTH):
        packet = bundle(ntp(NOW), packet)
    assert len(decode(packet)) == 1
    error = refused(bundle(ntp(NOW), packet))
    assert error.kind == MALFORMED and "nested deeper" in str(error)


@pytest.mark.parametrize(
    ("timetag", "reason"),
    [
        (b"\x00" * 8, "time tag 0"),
        (ntp(NOW + HORIZON + 5), "ahead"),
        (b"\xff" * 8, "ahead"),
    ],
)
def test_bundles_with_bad_time_tags_are_refused_as_bad_timetag(timetag: bytes, reason: str) -> None:
    error = refused(bundle(timetag, build("/kelly/panic")))
    assert error.kind == BAD_TIMETAG and reason in str(error)


def test_a_nested_bundle_timed_before_its_enclosing_bundle_is_refused() -> None:
    inner = bundle(ntp(NOW + 1), build("/kelly/panic"))
    error = refused(bundle(ntp(NOW + 5), inner))
    assert error.kind == BAD_TIMETAG and "before the bundle around it" in str(error)


def test_a_past_time_tag_means_now_and_immediately_inside_a_timed_bundle_inherits_it() -> None:
    [past] = decode(bundle(ntp(NOW - 3600), build("/kelly/panic")))
    assert past.at is None
    inner = bundle(struct.pack(">Q", wire.IMMEDIATELY), build("/kelly/panic"))
    [inherited] = decode(bundle(ntp(NOW + 3), inner))
    assert inherited.at == pytest.approx(NOW + 3, abs=1e-6)


def test_random_bytes_never_raise_anything_but_an_osc_error() -> None:
    rng = random.Random(14)
    valid = [build("/kelly/emotion", 0.1, 0.2, 0.3), bundle(ntp(NOW), build("/kelly/feel", "x"))]
    for _ in range(5000):
        base = bytearray(rng.choice(valid))
        for _ in range(rng.randint(1, 4)):
            base[rng.randrange(len(base))] = rng.randrange(256)
        cut = bytes(base[: rng.randint(0, len(base))])
        for packet in (bytes(base), cut, b"/" + rng.randbytes(rng.randint(0, 64))):
            try:
                decode(packet)
            except OscError:
                pass


def test_encode_builds_messages_python_osc_parses_back() -> None:
    dgram = wire.encode("/kelly/listener", 0.25, 1, "calm", float("nan"))
    message = OscPacket(dgram).messages[0].message
    assert message.address == "/kelly/listener"
    assert message.params == [0.25, 1, "calm", 0.0]
