"""``python -m kelly_actors.cli``: the ``kelly`` command."""

import sys

from kelly_actors.cli import main

sys.exit(main())
