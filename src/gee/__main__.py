"""``python -m gee`` is the ``gee`` command."""

import sys

from gee.cli import main

sys.exit(main())
