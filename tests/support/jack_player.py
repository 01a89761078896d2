"""A JACK client that plays one loop per output port into the audio actor's inputs.

Run as a process of its own (libjack stays out of the test process)::

    python jack_player.py --ready PATH --connect kelly:in_ bright dark silence

registers ``out_1``..``out_N`` (one per pattern of :mod:`ensemble_signals`), connects
``out_k`` to ``<connect>k``, touches ``--ready`` and plays until SIGTERM. SIGUSR1 silences
``out_1`` (the first performer stops). The process callback only copies from the loops.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

import jack
import numpy as np
from ensemble_signals import PATTERNS, pattern


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("patterns", nargs="+", choices=PATTERNS)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--connect", default="kelly:in_")
    parser.add_argument("--client", default="kelly-test-player")
    args = parser.parse_args()

    client = jack.Client(args.client, no_start_server=True)
    loops = [pattern(name, client.samplerate) for name in args.patterns]
    ports = [client.outports.register(f"out_{k + 1}") for k in range(len(loops))]
    position = [0]
    muted = [False] * len(loops)

    def process(frames: int) -> None:
        start = position[0]
        for k, (port, loop) in enumerate(zip(ports, loops, strict=True)):
            if muted[k]:
                port.get_array()[:] = 0.0
                continue
            idx = (start + np.arange(frames)) % loop.size
            port.get_array()[:] = loop[idx]
        position[0] = start + frames

    client.set_process_callback(process)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: muted.__setitem__(0, True))
    with client:
        for k, port in enumerate(ports):
            client.connect(port, f"{args.connect}{k + 1}")
        args.ready.touch()
        stop.wait()


if __name__ == "__main__":
    main()
