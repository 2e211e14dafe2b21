"""`${...}` templates in spec strings: parsing into literal text and references.

Grammar of a reference: `input.NAME[.PATH]`, `steps.STEP[.PATH]`,
`execution.name|id|start_time`, `item[.PATH]`, `error[.Error|.Cause|.step]`; a PATH is dot-separated names
with optional `[N]` indexes. `$${` writes a literal `${`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

NAMESPACES = ("input", "steps", "execution", "item", "error")
ERROR_FIELDS = ("Error", "Cause", "step")  # what a catch's handler path knows of the failure
EXECUTION_FIELDS = {"name": "$$.Execution.Name", "id": "$$.Execution.Id", "start_time": "$$.Execution.StartTime"}

_SEGMENT = re.compile(r"([A-Za-z0-9_\-]+)((?:\[[0-9]+\])*)")
_INDEX = re.compile(r"\[([0-9]+)\]")


class TemplateError(ValueError):
    """A malformed `${...}`; `offset` is where it starts in the string."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Reference:
    """One `${...}`: its namespace and the path below it."""

    namespace: str
    parts: tuple[str | int, ...]
    text: str

    @property
    def step(self) -> str | None:
        """The step a `steps.` reference reads from."""
        return self.parts[0] if self.namespace == "steps" and self.parts else None  # type: ignore[return-value]

    @property
    def dotted(self) -> str:
        out = self.namespace
        for part in self.parts:
            out += f"[{part}]" if isinstance(part, int) else f".{part}"
        return out


@dataclass(frozen=True)
class Template:
    """A string split into literal text and references."""

    pieces: tuple[str | Reference, ...]
    references: tuple[Reference, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "references", tuple(p for p in self.pieces if isinstance(p, Reference)))

    @property
    def single_reference(self) -> Reference | None:
        """The reference when the string is exactly one `${...}` (keeps its JSON type)."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], Reference):
            return self.pieces[0]
        return None

    @property
    def is_literal(self) -> bool:
        return not self.references

    def literal_text(self) -> str:
        return "".join(p for p in self.pieces if isinstance(p, str))


@lru_cache(maxsize=8192)
def parse_template(text: str) -> Template:
    """Split `text` into pieces; raises TemplateError for a malformed reference.

    Checks, result selection and rendering all read the same strings, so parses
    are cached (templates are immutable).
    """
    if "${" not in text:
        return Template((text,))
    pieces: list[str | Reference] = []
    literal = ""
    index = 0
    while index < len(text):
        if text.startswith("$${", index):
            literal += "${"
            index += 3
            continue
        if not text.startswith("${", index):
            literal += text[index]
            index += 1
            continue
        end = text.find("}", index)
        if end < 0:
            raise TemplateError("'${' is not closed by '}'", index)
        if literal:
            pieces.append(literal)
            literal = ""
        pieces.append(parse_reference(text[index + 2 : end].strip(), index))
        index = end + 1
    if literal:
        pieces.append(literal)
    return Template(tuple(pieces))


def parsed(value: object) -> Template | None:
    """The template of a string value; None for anything else, or for a malformed one."""
    if not isinstance(value, str):
        return None
    try:
        return parse_template(value)
    except TemplateError:
        return None


def parse_reference(body: str, offset: int = 0) -> Reference:
    """Parse `input.x`, `steps.train.ModelArtifacts.S3ModelArtifacts`, `item`, ..."""
    text = "${" + body + "}"
    if not body:
        raise TemplateError("empty reference '${}'", offset)
    segments = body.split(".")
    namespace = segments[0]
    if namespace not in NAMESPACES:
        raise TemplateError(
            f"unknown reference '{text}': references start with input., steps., execution., item or error",
            offset,
        )
    parts: list[str | int] = []
    for segment in segments[1:]:
        match = _SEGMENT.fullmatch(segment)
        if not match:
            raise TemplateError(f"malformed path in '{text}' at '{segment}'", offset)
        parts.append(match.group(1))
        parts.extend(int(i) for i in _INDEX.findall(match.group(2)))
    if namespace in ("input", "steps") and not parts:
        raise TemplateError(f"'{text}' needs a name: ${{{namespace}.NAME}}", offset)
    if namespace == "execution" and (len(parts) != 1 or parts[0] not in EXECUTION_FIELDS):
        raise TemplateError(
            f"unknown reference '{text}': use execution.name, execution.id or execution.start_time", offset
        )
    if namespace == "error" and (len(parts) > 1 or (parts and parts[0] not in ERROR_FIELDS)):
        raise TemplateError(f"unknown reference '{text}': use error.Error, error.Cause or error.step", offset)
    return Reference(namespace, tuple(parts), text)


def parse_path(text: str) -> Reference:
    """A bare `when:` path such as `steps.evaluate.report.metrics.auc`."""
    body = text.strip()
    if body.startswith("${") and body.endswith("}"):
        body = body[2:-1]
    return parse_reference(body)
