"""Writing files safely: a fresh temporary file beside the target, then an atomic rename.

`mkstemp` creates the temporary file itself with an unpredictable name (O_CREAT |
O_EXCL), so a link planted where a predictable name would be is never followed,
and a reader sees the old file or the complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step; nothing is left behind when writing fails."""
    import tempfile  # with shutil, 3% of `validate`'s start, which writes nothing

    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
