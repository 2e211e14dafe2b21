"""Problems as data: every stage reports what is wrong as `Problem` values.

Nothing below the CLI prints or exits; stages collect problems and the CLI
renders them as ``FILE:LINE:COL: error: PATH: message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

Path = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Position(NamedTuple):
    """A 1-based line and column in a source file."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in a spec."""

    message: str
    path: Path = ()
    hint: str | None = None
    severity: Severity = Severity.ERROR
    position: Position | None = None
    file: str | None = None
    on_key: bool = False  # point at the mapping key of `path` rather than its value

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def at(self, file: str | None, position: Position | None) -> Problem:
        """The same problem, placed in a file."""
        return Problem(self.message, self.path, self.hint, self.severity, position, file, self.on_key)

    def render(self) -> str:
        location = self.file or "<spec>"
        if self.position is not None:
            location += f":{self.position.line}:{self.position.column}"
        text = f"{location}: {self.severity.value}: "
        if self.path:
            text += f"{format_path(self.path)}: "
        text += self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_json(self) -> dict[str, Any]:
        """The problem for machines (CI annotations, editors): one flat object."""
        return {
            "file": self.file,
            "line": self.position.line if self.position else None,
            "column": self.position.column if self.position else None,
            "severity": self.severity.value,
            "path": format_path(self.path) or None,
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple:
        pos = self.position or Position(0, 0)
        return (self.file or "", pos.line, pos.column, self.message)


def format_path(path: Sequence[str | int]) -> str:
    """Render a document path the way users write it: ``steps.train.inputs[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class SpecError(Exception):
    """Raised by a stage that cannot go on; carries every problem found so far."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.render() for p in self.problems)


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None."""
    import difflib

    matches = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"
