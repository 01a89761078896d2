"""A JACK MIDI receiver in a process of its own, timing what arrives in JACK frames.

Run as a script::

    python jack_midi_receiver.py CLIENT PORTS OUT.json READY_FILE

It registers the MIDI inputs ``CLIENT:<port>`` (PORTS: comma-separated names), touches
READY_FILE once active, and records for every event the JACK frame it arrived at (the
cycle's first frame, ``last_frame_time``, plus the event's offset in the cycle) and its
bytes. No wall clock is involved: a sender that writes an event at frame ``k`` of a cycle
is received at frame ``k`` of the same cycle (JACK runs the sender first, since its port
feeds ours). On SIGTERM it writes ``{"events": [[port, frame, offset, [bytes…]], …],
"cycles": [frame, …]}`` to OUT.json (``offset``: the event's frame within its cycle;
``cycles``: the first frame of every cycle it ran, so a test sees which cycles the
server never gave it). The JACK process callback only appends to lists: a test
receiver, not a real-time example.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path


def receive(client_name: str, port_names: str, out_path: str, ready_path: str) -> None:
    import jack

    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    client = jack.Client(client_name, no_start_server=True)
    ports = [client.midi_inports.register(name) for name in port_names.split(",")]
    events: list[tuple[int, int, int, list[int]]] = []
    cycles: list[int] = []

    @client.set_process_callback
    def process(frames: int) -> None:
        base = client.last_frame_time
        cycles.append(base)
        for k, port in enumerate(ports):
            for offset, data in port.incoming_midi_events():
                events.append((k, base + offset, offset, list(bytes(data))))

    client.activate()
    Path(ready_path).write_text("ready")
    while not stop.wait(0.1):
        pass
    client.deactivate()
    client.close()
    Path(out_path).write_text(json.dumps({"events": events, "cycles": cycles}))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: jack_midi_receiver.py CLIENT PORTS OUT.json READY_FILE")
    receive(*sys.argv[1:])
