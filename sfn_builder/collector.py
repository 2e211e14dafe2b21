"""Python's cycle collector, run less often while sfn-build builds many objects.

Loading, checking, compiling and simulating a large workflow allocate hundreds of
thousands of small objects that live until the command ends (or are freed by
reference counting). At the default threshold (700 allocations) the collector kept
scanning them: over half of a 1,000-step compile and about 40% of a 10,000-item Map's
simulation. Nothing sfn-build builds holds reference cycles it relies on freeing early.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

ALLOCATIONS_BETWEEN_COLLECTIONS = 20_000  # the youngest generation's threshold (Python's default: 700)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the youngest generation's threshold for the block (and restore it after); usable as a decorator."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], ALLOCATIONS_BETWEEN_COLLECTIONS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
