"""The ``--composer`` option every composer verb takes: which actor to address."""

from __future__ import annotations

import argparse

#: The composer's actor name in the built-in performance.
COMPOSER = "composer"


def add_composer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--composer", default=COMPOSER, metavar="ACTOR", help="composer actor name (%(default)s)"
    )
