"""Programs of definitions kept between runs: building those of a 1,000-step workflow's parts (module
`program_builder`) takes about 1 s, loading them a quarter of a second.

A program is stored (pickled) under the user's cache directory, keyed by the definition's text and
everything that shapes its parse: the versions of Python and moto and the source of the interpreter
extensions (module `interpreter`, which changes how intrinsic strings parse) and of the builders
(modules `program_builder` and `intrinsic_builder`, which make most programs without moto's parser).
A file is only read when it belongs to this user and nobody else may write it, since loading a
pickle runs code.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from ..files import write_atomically
from ..user_cache import cache_folder, trusted

MAX_FILES = 200  # the oldest programs are removed beyond this many


def load_or_parse(definition: str, parse: Callable[[], Any]) -> Any:
    """The program of `definition`: from the cache, else parsed (and stored for the next run)."""
    folder = _folder()
    path = folder / f"{_key(definition)}.pickle"
    program = _read(path)
    if program is not None:
        return program
    program = parse()
    try:
        data = pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, data)
        _prune(folder)
    except (OSError, pickle.PicklingError, AttributeError, TypeError, RecursionError):
        pass  # not stored: the next run parses again
    return program


def _read(path: Path) -> Any | None:
    if not trusted(path):
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # unreadable or from another layout: parse instead
        return None


def _key(definition: str) -> str:
    digest = hashlib.sha256(_salt().encode())
    digest.update(definition.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:40]


@cache
def _salt() -> str:
    import moto

    sources = hashlib.sha256()
    for module in ("interpreter.py", "program_builder.py", "intrinsic_builder.py"):  # how programs are made
        sources.update(Path(__file__).with_name(module).read_bytes())
    return f"{sys.version}|moto {moto.__version__}|{sources.hexdigest()}"


def _folder() -> Path:
    return cache_folder("programs")


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in files[:-MAX_FILES]:
        old.unlink(missing_ok=True)
