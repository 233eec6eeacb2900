"""``python -m segcore.cli``: the ``segcore`` command."""

import sys

from . import main

sys.exit(main())
