"""`python -m sfn_builder` runs the `sfn-build` command."""

from .cli import console

console()
