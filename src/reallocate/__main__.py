"""``python -m reallocate`` is the ``reallocate`` command."""

import sys

from .cli import main

sys.exit(main())
