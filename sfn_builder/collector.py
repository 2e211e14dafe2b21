"""Python's cycle collector kept out of the way while sfn-build builds many objects.

Loading, checking, compiling and simulating a large workflow allocate millions of small
objects that live until the command ends (or are freed by reference counting). The
collector kept scanning them: at Python's default thresholds over half of a 1,000-step
compile, and, with its youngest generation raised, still a fifth of a 1,000-step
simulation, and then once more at the interpreter's exit (2 s after a 1,000-step DAG's
simulation). Nothing sfn-build builds relies on the collector to free it: the blocks run
without it, and what they leave alive is frozen (`gc.freeze`: kept out of every later
collection, the one at exit too; reference counting still frees it).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_collections() -> Iterator[None]:
    """The cycle collector off for the block, what it leaves alive frozen after; usable as a decorator."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
