"""A bar's variation request: exact on the wire, refused with the reason when malformed,
and served the same by any worker process — also when the first one is SIGKILLed."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from performance import wait_until

from kelly_actors.inference.config import PoolConfig
from kelly_actors.inference.pool import WorkerPool
from kelly_actors.music.notes import Note
from kelly_actors.music.theory import Key
from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.request import (
    RequestError,
    VariationRequest,
    notes_from_bytes,
    notes_to_bytes,
    serve,
)
from kelly_actors.transformer.session import DEFAULT_MODEL, StepSession
from kelly_actors.transformer.tokens import Bar

GIVEN = Bar(
    96.0,
    (
        Note("bass", 36, 90, 0.0, 2.0),
        Note("chords", 60, 70, 0.0, 4.0),
        Note("chords", 64, 70, 0.0, 4.0),
        Note("melody", 72, 100, 0.5, 0.25),
        Note("drums", 36, 110, 1.0, 0.125),
    ),
)
REQUEST = VariationRequest(
    bar=5,
    seed=3,
    tracks=("melody", "counter"),
    valence=0.6,
    arousal=0.4,
    mode="ionian",
    given=GIVEN,
    history=(Bar(96.0, (Note("bass", 43, 80, 0.0, 4.0),)),),
    key=Key(0, "ionian"),
)


def test_a_request_survives_the_wire_exactly() -> None:
    assert VariationRequest.from_bytes(REQUEST.to_bytes()) == REQUEST
    unkeyed = VariationRequest(0, 0, ("bass",), -1.0, 0.0, "aeolian", Bar(60.0, ()))
    assert VariationRequest.from_bytes(unkeyed.to_bytes()) == unkeyed


def test_notes_survive_the_wire_exactly() -> None:
    assert notes_from_bytes(notes_to_bytes(GIVEN.notes)) == list(GIVEN.notes)


def _edited(**changes: object) -> bytes:
    body = json.loads(REQUEST.to_bytes())
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "request is not JSON"),
        (b"[1, 2]", "request must be a JSON object"),
        (_edited(extra=1), "request fields"),
        (_edited(tracks=["lead"]), "tracks must be a non-empty list"),
        (_edited(tracks=[]), "tracks must be a non-empty list"),
        (_edited(mode="lydianish"), "unknown mode 'lydianish'"),
        (_edited(valence=1.5), "valence must be within -1…1"),
        (_edited(arousal=float("nan")), "arousal must be a finite number"),
        (_edited(bar=True), "bar must be an integer"),
        (_edited(given={"tempo": 120}), "a bar is {tempo, notes}"),
        (_edited(given={"tempo": 5, "notes": []}), "tempo must be within 20…400"),
        (_edited(given={"tempo": 120, "notes": [["bass", 200, 80, 0, 1]]}), "pitch must be"),
        (_edited(given={"tempo": 120, "notes": [["bass", 40, 80, 0]]}), "a note is"),
        (_edited(history=[{"tempo": 120, "notes": []}] * 17), "history must be a list"),
        (_edited(key=[12, "ionian"]), "key tonic must be"),
        (_edited(key="C"), "key must be null or [tonic, mode]"),
    ],
)
def test_a_malformed_request_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(RequestError, match=re.escape(message)):
        VariationRequest.from_bytes(data)


def test_serving_is_deterministic_in_the_request() -> None:
    generator = Generator(StepSession(DEFAULT_MODEL))
    first = serve(generator, REQUEST)
    assert first == serve(Generator(StepSession(DEFAULT_MODEL.read_bytes())), REQUEST)
    assert {n.track for n in first} <= {"melody", "counter"}


@pytest.mark.slow
def test_a_variation_whose_worker_is_sigkilled_is_served_by_the_other_with_the_same_notes(
    run_dir: Path,
) -> None:
    expected = serve(Generator(StepSession(DEFAULT_MODEL)), REQUEST)
    pool = WorkerPool(PoolConfig(workers=2), run_dir / "workers.sock", lambda *a, **k: None)
    try:
        pool.set_transformer("transformer-under-test", DEFAULT_MODEL.read_bytes())

        def both_ready() -> bool:
            pool.poll(time.monotonic())
            return pool.ready_workers("transformer-under-test") == 2

        wait_until(both_ready, 30, "two workers with the transformer")
        pool.submit_variation(REQUEST.to_bytes(), time.monotonic() + 20.0, "tag")
        pool.dispatch(time.monotonic())
        # Killed as soon as it has the request: a bar takes it milliseconds to write.
        victim = next(w.pid for w in pool.workers.values() if w.busy is not None)
        os.kill(victim, signal.SIGKILL)
        results = []

        def answered() -> bool:
            results.extend(pool.poll(time.monotonic()))
            return bool(results)

        wait_until(answered, 20, "the variation")
        assert results[0].ok and results[0].request.tag == "tag"
        assert notes_from_bytes(results[0].payload) == expected
        assert pool.stats["retried"] == 1 and pool.stats["worker_exits"] == 1
    finally:
        pool.close()
