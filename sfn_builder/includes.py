"""Load: a spec and the files its `include:` names, merged into one document.

Teams with several modeling units keep one file per unit. The spec lists them
(`include: [units/churn.yaml, units/*.yaml]`, paths relative to the file that
writes them, globs sorted), and each included file holds `steps`, `dependencies`,
`defaults` and `include` of its own (a file included twice is merged once). Their
steps join the workflow's (a name defined twice is an error pointing at both),
dependency lines are appended, and defaults merge into the workflow's: `defaults`
is one mapping whatever file writes it, so the same default set to two values is
an error. Every node keeps the file it was written in (`Document.included`), so
each problem points at the file, line and column where it was written.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from .loader import Document, Included, SpecList, SpecMapping, load_file, writer_of
from .problems import Path, Position, Problem, SpecError

INCLUDED_KEYS = ("steps", "dependencies", "defaults", "include")
MAX_FILES = 1_000
_GLOB_CHARACTERS = frozenset("*?[")


def load_spec(path: str) -> Document:
    """The spec at `path` with every file it includes merged in; raises `SpecError` as `load_file` does."""
    document = load_file(path)
    if "include" not in document.data:
        return document
    merger = _Merger(document)
    merger.include_from(document.data, document.file, [os.path.realpath(document.file)])
    if merger.problems:
        raise SpecError(merger.problems)
    return Document(document.file, document.data, document.reread, tuple(merger.included))


@dataclass
class _Unit:
    """An included file as it is merged: its document and the roots it wrote."""

    document: Document
    roots: list[Path] = field(default_factory=list)


class _Merger:
    def __init__(self, spec: Document) -> None:
        self.spec = spec
        self.data = spec.data
        self.problems: list[Problem] = []
        self.included: list[Included] = []
        self.merged: set[str] = set()  # real paths of the files merged (each once, however often included)

    def include_from(self, data: SpecMapping, file: str, chain: list[str]) -> None:
        """Merge each file that `data` (loaded from `file`) includes, depth first; `chain` holds the
        real paths of the files including it (a file that includes itself would never end)."""
        entries = data.get("include")
        if not isinstance(entries, SpecList) or not entries:
            where = data.value_positions.get("include", data.position)
            self._problem(
                file,
                where,
                ("include",),
                "`include` is a list of files",
                "write include: [units/churn.yaml, units/*.yaml] (paths relative to this file)",
            )
            return
        folder = os.path.dirname(file)
        for index, entry in enumerate(entries):
            where = entries.item_positions[index]
            if not isinstance(entry, str) or not entry.strip():
                self._problem(
                    file,
                    where,
                    ("include", index),
                    "an included file is named by its path",
                    "write a path such as units/a.yaml",
                )
                continue
            for included in self._paths(folder, entry, file, (where, index)):
                real = os.path.realpath(included)
                if real in chain:
                    self._problem(
                        file,
                        where,
                        ("include", index),
                        f"{entry!r} includes this file again (a cycle)",
                        "include each file once, from one place",
                    )
                    continue
                if real in self.merged:
                    continue
                self.merged.add(real)
                if len(self.merged) > MAX_FILES:
                    self._problem(file, where, ("include", index), f"the spec includes more than {MAX_FILES:,} files")
                    return
                self._merge_file(included, [*chain, real], (file, where, index))

    def _paths(self, folder: str, entry: str, file: str, at: tuple[Position, int]) -> list[str]:
        path = os.path.normpath(os.path.join(folder, os.path.expanduser(entry)))
        if not _GLOB_CHARACTERS & set(entry):
            return [path]
        matches = sorted(match for match in glob.glob(path, recursive=True) if os.path.isfile(match))
        if not matches:
            self._problem(
                file, at[0], ("include", at[1]), f"no file matches {entry!r}", f"the pattern is read relative to {file}"
            )
        return matches

    def _merge_file(self, path: str, chain: list[str], entry: tuple[str, Position, int]) -> None:
        try:
            unit = _Unit(load_file(path))
        except SpecError as error:  # a file that cannot be read is pointed at where it is included
            for problem in error.problems:
                if problem.position is None:
                    file, where, index = entry
                    self._problem(file, where, ("include", index), f"cannot include {path}: {problem.message}")
                else:
                    self.problems.append(problem)
            return
        data = unit.document.data
        for key in data:
            if key not in INCLUDED_KEYS:
                self._problem(
                    path,
                    data.key_positions[key],
                    (key,),
                    f"an included file holds {', '.join(INCLUDED_KEYS[:-1])} and {INCLUDED_KEYS[-1]}, not {key!r}",
                    f"write {key!r} in the spec that includes this file ({self.spec.file})",
                )
        for key in ("steps", "defaults"):
            if key not in data:
                continue
            if isinstance(data[key], SpecMapping):
                self._merge_mapping(self.data, data, (key,), unit)
            else:
                self._problem(
                    path,
                    data.value_positions[key],
                    (key,),
                    f"`{key}` is a mapping",
                    "write it as in the spec itself: names with their fields, indented under it",
                )
        if "dependencies" in data:
            self._append_dependencies(data, unit)
        self.included.append(Included(path, tuple(unit.roots), unit.document.reread))
        if "include" in data:
            self.include_from(data, path, chain)

    def _merge_mapping(self, target: SpecMapping, source: SpecMapping, path: Path, unit: _Unit) -> None:
        """`source[path[-1]]` into `target[path[-1]]`: members the target lacks are added (the unit wrote
        them); mappings on both sides merge; anything else on both sides must be equal."""
        key, file = path[-1], unit.document.file
        assert isinstance(key, str)
        theirs = source[key]
        if key not in target:
            target[key] = theirs
            target.key_positions[key] = source.key_positions[key]
            target.value_positions[key] = source.value_positions[key]
            unit.roots.append(path)
            return
        ours = target[key]
        if len(path) == 1 and not isinstance(ours, SpecMapping):
            return  # the spec's own is not a mapping: the schema says so
        if path[0] == "steps" and len(path) == 2:
            first_file, first = self._writer(path, unit), target.key_positions[key]
            self._problem(
                file,
                source.key_positions[key],
                path,
                f"the step {key!r} is defined twice (first in {first_file}:{first.line}:{first.column})",
                "rename one of them: step names are unique across the spec and the files it includes",
            )
        elif isinstance(ours, SpecMapping) and isinstance(theirs, SpecMapping):
            for member in theirs:
                self._merge_mapping(ours, theirs, (*path, member), unit)
        elif ours != theirs:
            first_file, first = self._writer(path, unit), target.key_positions[key]
            self._problem(
                file,
                source.key_positions[key],
                path,
                f"set here and, differently, in {first_file}:{first.line}:{first.column}",
                "defaults apply to the whole workflow, "
                "whichever file writes them: set it in one place, or on the steps that differ",
            )

    def _writer(self, path: Path, unit: _Unit) -> str:
        """The file that wrote the node at `path` so far: the spec's, or an included one (this one included)."""
        merging = Included(unit.document.file, tuple(unit.roots))
        return writer_of(path, [*self.included, merging], Included(self.spec.file, ())).file

    def _append_dependencies(self, data: SpecMapping, unit: _Unit) -> None:
        lines = data["dependencies"]
        if not isinstance(lines, SpecList):
            self._problem(
                unit.document.file,
                data.value_positions["dependencies"],
                ("dependencies",),
                "`dependencies` is a list of lines such as `prepare >> train`",
            )
            return
        merged = self.data.get("dependencies")
        if merged is None:
            self._merge_mapping(self.data, data, ("dependencies",), unit)
            return
        if not isinstance(merged, SpecList):
            return  # the spec's own is wrong: the schema says so
        for line, position in zip(lines, lines.item_positions, strict=True):
            unit.roots.append(("dependencies", len(merged)))
            merged.append(line)
            merged.item_positions.append(position)

    def _problem(self, file: str, position: Position, path: Path, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, path, hint=hint, position=position, file=file))
