"""`python -m cli`: the same command as the `nightcast` script."""

import sys

from cli import main

sys.exit(main())
