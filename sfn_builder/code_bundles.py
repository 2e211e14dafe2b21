"""A step's `code:` directory as a content-addressed archive (the SageMaker SDK's `sourcedir.tar.gz`).

The archive is reproducible: members in path order, with no times, owners or
permissions beyond the executable bit, and a gzip header without a time. So an
unchanged directory makes the same bytes, the same digest and the same S3 key:
`create` uploads nothing, and the step's request (its cache key) stays the same.
Version control, virtual environments, Python's byte-code caches and `.env` files (local
settings, often credentials) are left out.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from .model import Step, Workflow
from .problems import Path, Problem

ARCHIVE = "sourcedir.tar.gz"
MAX_FILES = 10_000
MAX_BYTES = 100 * 1024 * 1024  # a code directory holds source, not data
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints", ".venv", ".mypy_cache"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
SKIPPED_FILES = frozenset({".DS_Store", ".env"})  # .env: local settings, often credentials, stay local


class CodeError(ValueError):
    """A `code:` directory that cannot be bundled; the message says why, `hint` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Bundle:
    directory: str
    files: int
    archive: bytes
    digest: str  # SHA-256 of the archive, hex

    names: tuple[str, ...] = ()  # the paths of its files

    def key(self, workflow: str) -> str:
        """Where it is uploaded in the code bucket: one folder per workflow, one per content."""
        return f"sfn-build/{workflow}/code/{self.digest[:16]}/{ARCHIVE}"


def archive_uri(step: Step, workflow: Workflow) -> str | None:
    """Where `create` uploads the step's code directory (None: the step has none)."""
    directory = step.code_directory
    if directory is None:
        return None
    return f"s3://{step.config['code_bucket']}/{bundle(directory).key(workflow.name)}"


def code_problems(step: Step, bucket_path: Path) -> Iterator[Problem]:
    """A `code:` directory needs a bucket to go to (`bucket_path`: where code_bucket is written) and files
    to bundle. What runs it is the step type's to check."""
    from .steps.base import check_s3_uri

    where = ("steps", step.name, "code")
    bucket = step.config.get("code_bucket")
    if bucket is None:
        yield Problem(
            "code: is uploaded to S3 by create, and no code_bucket says where",
            where,
            hint="set code_bucket on the step or in defaults.sagemaker (a bucket the job's role can read)",
        )
    else:
        yield from check_s3_uri(f"s3://{bucket}/", bucket_path)
    try:
        bundle(step.code_directory or "")
    except CodeError as error:
        yield Problem(str(error), where, hint=error.hint)


_made: dict[tuple[str, tuple[tuple[str, int, int, int], ...]], Bundle] = {}


def bundle(directory: str) -> Bundle:
    """The directory's archive (made again only when a file's size, time or mode changed); CodeError when
    it cannot be made."""
    try:
        files = _listing(directory)
        signature = tuple((relative, *_stamp(path)) for relative, path in files)
    except OSError as error:  # a file that vanished while being listed
        raise CodeError(
            f"cannot read {error.filename or directory}: {error.strerror or error}",
            "make the code directory's files readable",
        ) from None
    key = (os.path.abspath(directory), signature)
    if key not in _made:
        try:
            archive = _archive(files)
        except OSError as error:  # a file that vanished or cannot be read
            raise CodeError(
                f"cannot read {error.filename or directory}: {error.strerror or error}",
                "make the code directory's files readable, or leave that file out of it",
            ) from None
        names = tuple(relative for relative, _ in files)
        import hashlib  # loads OpenSSL: only for a spec with `code:`

        _made[key] = Bundle(directory, len(files), archive, hashlib.sha256(archive).hexdigest(), names)
    return _made[key]


def _listing(directory: str) -> list[tuple[str, str]]:
    """(path in the archive, path on disk) of each file to bundle, in path order."""
    if not os.path.isdir(directory):
        what = "does not exist" if not os.path.exists(directory) else "is not a directory"
        raise CodeError(f"the code directory {directory} {what}", "write a directory relative to the spec file")
    root = os.path.realpath(directory)
    found: list[tuple[str, str]] = []
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = sorted(name for name in subfolders if name not in SKIPPED_FOLDERS)
        for name in subfolders:
            _refuse_a_link(os.path.join(folder, name), directory, root, folder=True)
        for name in names:
            if name in SKIPPED_FILES or name.endswith(SKIPPED_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            _refuse_a_link(path, directory, root, folder=False)
            if os.path.isfile(path):
                found.append((os.path.relpath(path, directory).replace(os.sep, "/"), path))
        if len(found) > MAX_FILES:
            raise CodeError(
                f"the code directory {directory} holds more than {MAX_FILES:,} files",
                "point code: at the folder of the job's source only (data belongs in S3 inputs)",
            )
    if not found:
        raise CodeError(f"the code directory {directory} holds no files", "put the job's source files in it")
    total = sum(os.path.getsize(path) for _, path in found)
    if total > MAX_BYTES:
        raise CodeError(
            f"the code directory {directory} holds {total / 1024 / 1024:.0f} MiB; code: bundles at most "
            f"{MAX_BYTES // 1024 // 1024} MiB",
            "point code: at the folder of the job's source only (data belongs in S3 inputs, libraries in the image)",
        )
    return sorted(found)


def _refuse_a_link(path: str, directory: str, root: str, *, folder: bool) -> None:
    """A symbolic link is bundled only as a file inside the directory: `create` uploads what code: holds,
    so a link to ~/.aws/credentials or to a folder (whose files would silently be left out) is an error."""
    if not os.path.islink(path):
        return
    relative = os.path.relpath(path, directory)
    target = os.path.realpath(path)
    if folder:
        raise CodeError(
            f"{relative} in the code directory {directory} is a link to a folder ({target})",
            "move or copy that folder into the code directory: links to folders are not bundled",
        )
    if os.path.commonpath([root, target]) != root:
        raise CodeError(
            f"{relative} in the code directory {directory} links to {target}, outside it",
            "copy the file into the code directory, or remove the link: only what code: holds is uploaded",
        )


def _stamp(path: str) -> tuple[int, int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns, status.st_mode


def _archive(files: list[tuple[str, str]]) -> bytes:
    import gzip  # only when a spec has code: (not for every validate)
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for relative, path in files:
            with open(path, "rb") as handle:
                content = handle.read()
            member = tarfile.TarInfo(relative)
            member.size = len(content)
            member.mode = 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644
            tar.addfile(member, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)
