"""`python -m sfn_builder` runs the `sfn-build` command."""

import sys

from .cli import main

sys.exit(main())
