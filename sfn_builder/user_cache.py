"""The user's cache folder for sfn-build (`$XDG_CACHE_HOME/sfn-build`, else `~/.cache/sfn-build`), and
whether a file in it may be trusted: loading a pickle runs code, and a marshal file is read as data."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_folder(*parts: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "sfn-build", *parts)


def trusted(path: Path) -> bool:
    """Whether the file exists, belongs to this user and nobody else may write it (or its folder)."""
    try:
        info, folder = path.stat(), path.parent.stat()
    except OSError:
        return False
    return all(
        each.st_uid == os.getuid() and not each.st_mode & (stat.S_IWGRP | stat.S_IWOTH) for each in (info, folder)
    )
