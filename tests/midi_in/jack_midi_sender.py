"""A JACK MIDI sender in a process of its own, steered over stdin, for the MIDI input tests.

Run as a script::

    python jack_midi_sender.py CLIENT PER_CYCLE READY_FILE

It registers ``CLIENT:out``, touches READY_FILE once active, then reads JSON lines on
stdin: ``{"connect": PORT}`` (answers ``ok``), ``{"send": [[byte, …], …]}`` (queues the
messages: each one JACK event, at most PER_CYCLE a cycle), ``{"drain": true}`` (answers
``drained N`` once the queue is empty, N the events written so far). In a process of its
own the JACK callback never waits for a test's Python to let go of the GIL, so no cycle
goes out late and empty. The callback only pops from a deque: a test sender, not a
real-time example.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from pathlib import Path


def serve(client_name: str, per_cycle: int, ready_path: str) -> None:
    import jack

    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    client = jack.Client(client_name, no_start_server=True)
    port = client.midi_outports.register("out")
    queue: deque[bytes] = deque()
    written = [0]

    @client.set_process_callback
    def process(frames: int) -> None:
        port.clear_buffer()
        for offset in range(min(per_cycle, len(queue), frames)):
            data = queue.popleft()
            try:
                port.write_midi_event(offset, data)
            except jack.JackError:  # the cycle's buffer is full: the rest waits a cycle
                queue.appendleft(data)
                return
            written[0] += 1

    client.activate()
    Path(ready_path).write_text("ready")
    for line in sys.stdin:
        command = json.loads(line)
        if "connect" in command:
            client.connect(port, command["connect"])
            print("ok", flush=True)
        elif "send" in command:
            queue.extend(bytes(m) for m in command["send"])
        elif "drain" in command:
            while queue:
                time.sleep(0.005)
            time.sleep(0.02)  # the last cycle's events reach the reader
            print(f"drained {written[0]}", flush=True)
    client.deactivate()
    client.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: jack_midi_sender.py CLIENT PER_CYCLE READY_FILE")
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
