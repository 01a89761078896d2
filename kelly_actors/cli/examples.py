"""Examples shown under every ``kelly`` program's ``--help``, keyed by the program's ``prog``.

One table, so a new program without an example fails ``tests/cli/test_cli_conventions.py``
instead of shipping a help page that shows no way to call it.
"""

from __future__ import annotations

import argparse
import re

EXAMPLES: dict[str, tuple[str, ...]] = {
    "kelly": (
        "kelly run --duration 60 --record take/",
        'kelly ctl feel "I feel tired but I want to wake up"',
        "kelly top",
    ),
    "kelly run": (
        "kelly run                                    # the built-in performance, heard",
        "kelly run examples/jack.toml --record take/  # a JACK performance, recorded",
        "kelly run --audio-device jack --duration 60",
        "kelly run --audio-device null                # silence on a clock, no device",
        "kelly run --record-if-silent take/           # keep it where nothing is heard",
        "kelly run --record take/ > take.log          # plain lines, no status line",
        "kelly run --quiet                            # nothing on stdout",
    ),
    "kelly web": (
        "kelly web                                   # http://127.0.0.1:8770/?token=…",
        "kelly web --takes takes/ --port 0           # list recordings; any free port",
        "kelly web --host 192.168.1.20 --certfile cert.pem --keyfile key.pem",
    ),
    "kelly status": ("kelly status", "kelly status --json", "kelly status --run-dir /tmp/show"),
    "kelly ctl": ('kelly ctl feel "I feel calm"', "kelly ctl stop"),
    "kelly ctl call": ('kelly ctl call composer lock \'{"axis": "valence"}\'',),
    "kelly ctl feel": ('kelly ctl feel "I feel grief, but I want to get to acceptance"',),
    "kelly ctl load-model": ("kelly ctl load-model emotion models/emotion.onnx",),
    "kelly ctl lock": ("kelly ctl lock arousal",),
    "kelly ctl panic": ("kelly ctl panic",),
    "kelly ctl ping": ("kelly ctl ping --timeout 1",),
    "kelly ctl restart": ("kelly ctl restart synth",),
    "kelly ctl set-emotion": ("kelly ctl set-emotion 0.6 0.7 0.5   # valence arousal dominance",),
    "kelly ctl status": ("kelly ctl status --json",),
    "kelly ctl stop": ("kelly ctl stop",),
    "kelly ctl unlock": ("kelly ctl unlock arousal",),
    "kelly ctl calibrate": ("kelly ctl calibrate heart_rate --seconds 30",),
    "kelly sensor": ("kelly sensor simulate --hr 70..150 --period 60",),
    "kelly sensor simulate": (
        "kelly sensor simulate --hr 70..150 --period 60",
        "kelly sensor simulate --hr 65..120 --eda 2..8 --motion 0.02..0.6 --duration 120",
    ),
    "kelly compose": (
        'kelly compose "joyful and bright" --bars 16 -o joy.mid',
        'kelly compose --emotion grief --to "peace" --bars 32 -o journey.mid',
        "kelly compose --pad 0 0.5 0.5 --bars 8 --engine hybrid -o neutral.mid",
        "kelly compose --pad -0.8 0.2 0.4 --bars 8 --engine transformer --decoding free -o m.mid",
        "kelly compose --pad 0.7 0.8 0.6 --bars 8 -o joy.mid --explain  # what the listener hears",
    ),
    "kelly emotions": ("kelly emotions", "kelly emotions --json"),
    "kelly train": ("kelly train emotion --quick", "kelly train transformer --help"),
    "kelly top": (
        "kelly top",
        "kelly top --once",
        "kelly top --connect tcp://stage:5556 --keys keys/",
    ),
    "kelly doctor": ("kelly doctor", "kelly doctor examples/jack.toml --record take/"),
    "kelly log": ("kelly log", "kelly log --follow"),
    "kelly report": (
        "kelly report take/                    # take/report.html and a PNG per plot",
        "kelly report take/ -o ~/notes/session.html",
        "kelly report                          # the run in --run-dir",
    ),
    "kelly worker": ("kelly worker --connect tcp://stage:5560 --keys keys/",),
    "kelly keys": ("kelly keys generate keys/",),
    "kelly cluster": ("kelly cluster serve --address 10.0.0.5:6379", "kelly cluster status"),
    "kelly cluster serve": (
        "kelly cluster serve --address 10.0.0.5:6379 --replicas 2",
        "kelly cluster serve --num-gpus 1 --max-batch 256  # a GPU replica",
        "kelly cluster serve --autoscale --min-replicas 1 --max-replicas 4",
        "kelly cluster serve --config examples/cluster.toml --autoscale",
    ),
    "kelly cluster status": ("kelly cluster status", "kelly cluster status --json"),
    "kelly cluster stop": ("kelly cluster stop",),
    "kelly keys generate": ("kelly keys generate keys/",),
    "kelly service": ("kelly service install examples/jack.toml", "kelly service uninstall"),
    "kelly service install": (
        "kelly service install examples/jack.toml",
        "kelly service install --print",
    ),
    "kelly service uninstall": ("kelly service uninstall --name kelly-stage",),
    "kelly completion": (
        "kelly completion bash > ~/.local/share/bash-completion/completions/kelly",
        "kelly completion zsh > ~/.zfunc/_kelly",
    ),
}


def epilog(prog: str) -> str | None:
    """The ``examples:`` block for ``prog``, or None when the table has none."""
    lines = EXAMPLES.get(prog)
    if not lines:
        return None
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


class Formatter(argparse.HelpFormatter):
    """Wraps prose to the terminal, and keeps as written the lines that are not prose: an
    indented line (an example, a table row) and a heading ending in a colon."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        prose: list[str] = []

        def flush() -> None:
            if prose:
                out.append(super(Formatter, self)._fill_text(" ".join(prose), width, indent))
                prose.clear()

        for line in text.splitlines():
            if not line.strip():
                flush()
                out.append("")
            elif line[0].isspace() or line.rstrip().endswith(":"):
                flush()
                out.append(indent + line)
            else:
                prose.append(line.strip())
        flush()
        return "\n".join(out)


_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr|obj):`~?([^`]*)`")


def plain(text: str) -> str:
    """``text`` without reStructuredText markup: a module docstring used as a description
    reads as plain text in a terminal."""
    text = _ROLE.sub(r"\1", text).replace("``", "")
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


def add_examples(parser: argparse.ArgumentParser) -> None:
    """Put the examples of ``parser`` after its existing epilog, under :class:`Formatter`;
    its description and option help in plain text."""
    for action in parser._actions:
        if isinstance(action.help, str):
            action.help = plain(action.help)
    parser.description = plain(parser.description) if parser.description else None
    block = epilog(parser.prog)
    if block is not None:
        parser.epilog = f"{parser.epilog}\n\n{block}" if parser.epilog else block
    if parser.formatter_class in (argparse.HelpFormatter, argparse.RawDescriptionHelpFormatter):
        parser.formatter_class = Formatter
