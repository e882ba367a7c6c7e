"""`python -m nightcast.cli`: the same command as the `nightcast` script."""

import sys

from nightcast.cli import main

sys.exit(main())
