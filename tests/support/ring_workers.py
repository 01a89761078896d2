"""Processes for the ring tests and benchmarks: a checked writer and reader.

Each 2 KiB block (256 × 2 float32) is viewed as 512 uint32 words:
word 0 = sequence number, word 1 = CRC-32 of words 2…511, which are a fixed
random pattern XOR the sequence number.
"""

from __future__ import annotations

import zlib
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

import numpy as np

from kelly_actors.bus.ring import RingReader, RingWriter

SHAPE = (256, 2)
_PATTERN = np.random.default_rng(7).integers(0, 2**32, 510, dtype=np.uint32)


def fill_block(block: np.ndarray, seq: int) -> None:
    """Write sequence ``seq`` and its CRC into ``block`` (float32 (256, 2))."""
    words = block.reshape(-1).view(np.uint32)
    np.bitwise_xor(_PATTERN, np.uint32(seq & 0xFFFFFFFF), out=words[2:])
    words[0] = seq & 0xFFFFFFFF
    words[1] = zlib.crc32(words[2:])


def check_block(block: np.ndarray) -> tuple[int, bool]:
    """(sequence number, CRC and pattern intact)."""
    words = block.reshape(-1).view(np.uint32)
    seq = int(words[0])
    intact = zlib.crc32(words[2:]) == int(words[1]) and words[2] == (_PATTERN[0] ^ np.uint32(seq))
    return seq, bool(intact)


def run_writer(segment: str, count: int) -> None:
    """Write blocks ``index … count-1`` (resuming at the published index), waiting for space."""
    writer = RingWriter.attach(segment)
    block = np.empty(SHAPE, np.float32)
    while writer.index < count:
        if writer.free() == 0:
            writer.wait_free(0.5)
            continue
        fill_block(block, writer.index)
        writer.write(block, sample_time=writer.index * 256)
    writer.close()


def run_reader(segment: str, count: int, conn: Connection) -> None:
    """Read until block ``count-1``; send back what went wrong (all zero = perfect)."""
    reader = RingReader.attach(segment, 0)
    block = np.empty(SHAPE, np.float32)
    expected = 0
    result = {"received": 0, "lost": 0, "duplicated": 0, "reordered": 0, "corrupt": 0}
    while expected < count:
        if not reader.wait(1.0):
            continue
        while reader.available() > 0 and reader.read_into(block):
            seq, intact = check_block(block)
            result["received"] += 1
            if not intact or reader.last_sample_time != reader.last_index * 256:
                result["corrupt"] += 1
            if seq == expected:
                expected += 1
            elif seq > expected:
                result["lost"] += seq - expected
                expected = seq + 1
            elif seq == expected - 1:
                result["duplicated"] += 1
            else:
                result["reordered"] += 1
    reader.close()
    conn.send(result)
    conn.close()


def write_then_hang_mid_block(segment: str, good: int, mid_write: Event) -> None:
    """Write ``good`` blocks, then half of the next one, then wait to be killed."""
    writer = RingWriter.attach(segment)
    block = np.empty(SHAPE, np.float32)
    for seq in range(good):
        fill_block(block, seq)
        writer.write(block)
    view = writer.claim()
    assert view is not None
    fill_block(block, good)
    view.reshape(-1)[: block.size // 2] = block.reshape(-1)[: block.size // 2]
    mid_write.set()
    mid_write.wait()
    while True:
        mid_write.wait(60)
