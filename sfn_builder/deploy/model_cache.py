"""botocore's service models read from marshal copies in the user's cache.

An AWS command creates up to ten clients, and botocore decodes each service's
model (and endpoint rules) from gzipped JSON for it: 170 ms of `plan`, a quarter
of its run. The decoded data are kept as marshal data (dicts, lists and scalars:
botocore reads them as it reads its OrderedDicts), one file per data file and
botocore version, and read back in a tenth of the time. A copy is read only when
it belongs to this user and nobody else may write it; an unreadable one is
decoded again and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from pathlib import Path
from typing import Any

import botocore
import botocore.loaders
import botocore.session

from ..files import write_atomically
from ..user_cache import cache_folder, trusted

_PREFIX = "botocore-"


class CachedJSONFileLoader(botocore.loaders.JSONFileLoader):
    """botocore's loader of data files, through copies in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_file(self, file_path: str) -> Any:
        copy = self.folder / f"{hashlib.sha256(file_path.encode()).hexdigest()[:32]}.marshal"
        if trusted(copy):
            try:
                return marshal.loads(copy.read_bytes())
            except (EOFError, ValueError, TypeError, OSError):
                pass  # decoded again below, and replaced
        data = super().load_file(file_path)
        if data is not None:
            with contextlib.suppress(OSError, ValueError):  # not kept: decoded again next time
                self._keep(copy, marshal.dumps(_plain(data)))
        return data

    def _keep(self, copy: Path, data: bytes) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            for older in self.folder.parent.glob(f"{_PREFIX}*"):  # other botocore versions' copies
                if older != self.folder and older.is_dir():
                    for file in older.glob("*.marshal"):
                        file.unlink(missing_ok=True)
                    older.rmdir()
        write_atomically(copy, data)


def session(profile: str | None = None) -> botocore.session.Session:
    """A botocore session (of `profile`, else the default one) whose data files are read through the cache."""
    core = botocore.session.get_session()
    if profile:
        core.set_config_variable("profile", profile)
    folder = cache_folder(f"{_PREFIX}{botocore.__version__}")
    core.get_component("data_loader").file_loader = CachedJSONFileLoader(folder)
    return core


def _plain(value: Any) -> Any:
    """JSON data with its OrderedDicts as dicts (which keep their order), as marshal takes them."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
