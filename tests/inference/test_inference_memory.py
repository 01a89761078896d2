"""What keeps the inference actor's memory flat for hours (docs/performance.md, "Soak").

The step model serving the composer's variations sees new input shapes on almost every
call; with onnxruntime's memory pattern on (its default) each new shape left a plan and
an arena block behind, and the actor's RSS kept rising. And a variation that expired
before the actor's thread reached it stayed in the thread's queue, to be served for
nobody; a thread slower than the asks made that queue grow without end.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import zmq

from kelly_actors.bus import messages, sockets
from kelly_actors.inference.variations import VariationService
from kelly_actors.music.notes import Note
from kelly_actors.music.theory import Key
from kelly_actors.transformer import request as variation
from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.session import DEFAULT_MODEL, StepSession, session_options
from kelly_actors.transformer.tokens import Bar

REQUEST = variation.VariationRequest(
    bar=5,
    seed=3,
    tracks=("melody", "counter"),
    valence=0.6,
    arousal=0.4,
    mode="ionian",
    given=Bar(
        96.0,
        (
            Note("bass", 36, 90, 0.0, 2.0),
            Note("chords", 60, 70, 0.0, 4.0),
            Note("melody", 72, 100, 0.5, 0.25),
        ),
    ),
    history=(Bar(96.0, (Note("bass", 43, 80, 0.0, 4.0),)),),
    key=Key(0, "ionian"),
)


def _service(tmp_path: Path, zctx: zmq.Context) -> VariationService:
    return VariationService(
        zctx, f"ipc://{tmp_path / 'v.sock'}", str(DEFAULT_MODEL), None, lambda *a, **k: None
    )


def test_every_step_session_plans_no_memory_pattern_and_answers_as_onnxruntime_defaults_do(
    tmp_path,
) -> None:
    import onnxruntime as ort

    assert session_options(1).enable_mem_pattern is False
    zctx = zmq.Context()
    service = _service(tmp_path, zctx)
    try:
        served = service.thread.generator.session
        # The inference workers and the composer's own engine load theirs the same way.
        from_bytes = StepSession(DEFAULT_MODEL.read_bytes(), name="t")
        from_path = StepSession(DEFAULT_MODEL)
        for step in (served, from_bytes, from_path):
            assert step.session.get_session_options().enable_mem_pattern is False
        reference = StepSession(DEFAULT_MODEL)
        reference.session = ort.InferenceSession(
            str(DEFAULT_MODEL), providers=["CPUExecutionProvider"]
        )
        assert reference.session.get_session_options().enable_mem_pattern is True
        expected = variation.serve(Generator(reference), REQUEST)
        for step in (served, from_bytes, from_path):
            assert variation.serve(Generator(step), REQUEST) == expected
    finally:
        service.close()
        zctx.term()


def test_asks_that_expire_before_the_thread_reaches_them_are_never_served(
    tmp_path, monkeypatch
) -> None:
    release = threading.Event()
    served: list[int] = []
    real_serve = variation.serve

    def slow_serve(generator, request):
        served.append(request.bar)
        release.wait(10)
        return real_serve(generator, request)

    monkeypatch.setattr(variation, "serve", slow_serve)
    zctx = zmq.Context()
    service = _service(tmp_path, zctx)
    composer = sockets.make(zctx, zmq.DEALER)
    composer.connect(f"ipc://{tmp_path / 'v.sock'}")
    try:
        asks = 6
        for bar in range(asks):
            ask = dataclasses.replace(REQUEST, bar=bar)
            composer.send_multipart(
                messages.frames_of("ask", ask.to_bytes(), id=bar, deadline_ms=1000.0)
            )
        deadline = time.monotonic() + 10
        while service.stats["asked"] < asks and time.monotonic() < deadline:
            service.poll(time.monotonic())
            time.sleep(0.005)
        assert service.stats["asked"] == asks
        service.poll(time.monotonic() + 60)  # every ask is past its deadline
        assert service.stats["expired"] == asks and not service.local
        replies = [messages.decode(composer.recv_multipart()) for _ in range(asks)]
        assert all(r.type == "failed" and "expired" in r["error"] for r in replies)
        release.set()
        # The thread serves in order: once this is answered, whatever was queued before
        # it has been served or dropped.
        last = dataclasses.replace(REQUEST, bar=99)
        assert service.thread.submit(last).result(30) is not None
        # At most the one the thread had already started; the rest were dropped unserved.
        assert served[-1] == 99 and len(served) <= 2
    finally:
        release.set()
        composer.close(0)
        service.close()
        zctx.term()
