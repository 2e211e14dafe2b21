"""Render request bodies and values into Amazon States Language Parameters.

A string that is exactly one `${...}` becomes a JSONPath (keeping the value's
JSON type); text around references becomes `States.Format`; a list holding a
reference becomes `States.Array`. Keys of rendered values get the `.$` suffix.
Where the API wants a string and the reference may be a number, the value is
wrapped in `States.Format('{}', ...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .model import Workflow
from .references import resolve
from .steps.base import Expr
from .steps.model_step import model_name
from .templates import EXECUTION_FIELDS, Reference, Template, parse_template

_MAPPINGS = (dict, MappingProxyType)  # concrete types: an ABC check costs more than the rest of render


class RenderError(ValueError):
    """A value that Parameters cannot express."""


def quote(text: str) -> str:
    """A literal string argument of an intrinsic function."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("{", "\\{").replace("}", "\\}")
    return f"'{escaped}'"


def jsonpath(root: str, parts: tuple[str | int, ...]) -> str:
    path = root
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class Renderer:
    """Turns spec values into Parameters for one workflow."""

    def __init__(
        self, workflow: Workflow, result_keys: Mapping[str, str], failed_steps: Mapping[str, str | None]
    ) -> None:
        self.workflow = workflow
        self.result_keys = result_keys
        self.failed_steps = failed_steps  # a handler path's step -> the step whose failure it handles

    def result_path(self, step: str) -> str:
        return f"$.steps.{self.result_keys[step]}"

    def path(self, ref: Reference) -> str:
        """The JSONPath (or, for a model's name, the intrinsic) of a reference."""
        if ref.namespace == "input":
            return jsonpath("$.input", ref.parts)
        if ref.namespace == "execution":
            return EXECUTION_FIELDS[str(ref.parts[0])]
        if ref.namespace == "item":
            return jsonpath("$.item", ref.parts)
        if ref.namespace == "error":
            return jsonpath("$.error", ref.parts)
        step = self.workflow.steps[str(ref.parts[0])]
        rest = ref.parts[1:]
        if step.type == "model" and rest == ("ModelName",):
            return model_name(self.workflow, step)
        base = self.result_path(step.name)
        if step.for_each is not None and (rest or step.type == "lambda"):
            base += "[*]"  # a member of every item's result (a lambda's is its Payload): a list
        if step.type == "processing" and rest[:1] == ("report",) and step.config.get("report"):
            return jsonpath(f"{base}.report.content", rest[1:])
        if step.type == "lambda":
            return jsonpath(f"{base}.Payload", rest)
        return jsonpath(base, rest)

    def expression(self, template: Template, want_string: bool = False, reader: str | None = None) -> Expr | str:
        """One template with references as a JSONPath or intrinsic (text, when none is left)."""
        template = self._known(template, reader)
        if template.is_literal:
            return template.literal_text()
        single = template.single_reference
        if single is not None:
            path = self.path(single)
            if want_string and resolve(single, self.workflow).json_type != "string":
                return Expr(f"States.Format('{{}}', {path})")
            return Expr(path)
        text, args = "", []
        for piece in template.pieces:
            if isinstance(piece, Reference):
                text += "{}"
                args.append(self.path(piece))
            else:
                text += quote(piece)[1:-1]
        return Expr(f"States.Format('{text}', {', '.join(args)})")

    def _known(self, template: Template, reader: str | None) -> Template:
        """`${error.step}` is known when compiling: the name of the step whose failure `reader` handles."""
        if not any(ref.namespace == "error" and ref.parts == ("step",) for ref in template.references):
            return template
        pieces: list[str | Reference] = []
        for piece in template.pieces:
            if isinstance(piece, Reference) and piece.namespace == "error" and piece.parts == ("step",):
                piece = self.failed_steps[reader or ""] or ""
            if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
                pieces[-1] += piece
            else:
                pieces.append(piece)
        return Template(tuple(pieces))

    def render(
        self, value: Any, shape: Any = None, json_members: frozenset[str] = frozenset(), reader: str | None = None
    ) -> Any:
        """`value` as Parameters; `shape` is the botocore shape it must fit, if known; `reader` the step."""
        if isinstance(value, Expr):
            return value
        if isinstance(value, str):
            if "${" not in value:
                return value
            template = parse_template(value)
            if template.is_literal:
                return template.literal_text()
            return self.expression(template, getattr(shape, "type_name", None) == "string", reader)
        if isinstance(value, _MAPPINGS):
            out: dict[str, Any] = {}
            for key, item in value.items():
                kind = type(item)
                if kind in _PLAIN or (kind is str and "${" not in item):  # most members: nothing to render
                    out[key] = item
                    continue
                member = _member(shape, key) if key not in json_members else None
                rendered = self.render(item, member, reader=reader)
                if isinstance(rendered, Expr):
                    out[f"{key}.$"] = str(rendered)
                else:
                    out[key] = rendered
            return out
        if isinstance(value, list | tuple):
            member = getattr(shape, "member", None)
            items = [
                item if type(item) in _PLAIN or (type(item) is str and "${" not in item) else
                self.render(item, member, reader=reader)
                for item in value
            ]
            if not any(isinstance(item, Expr) for item in items):
                return items
            if any(isinstance(item, dict | list) for item in items):
                raise RenderError("a list that mixes mappings or lists with ${...} strings cannot be rendered")
            return Expr("States.Array(" + ", ".join(_argument(item) for item in items) + ")")
        return value


_PLAIN = frozenset({int, float, bool, type(None)})


def _member(shape: Any, key: str) -> Any:
    if shape is None:
        return None
    if shape.type_name == "structure":
        members = shape.members
        if key in members:
            return members[key]
        lowered = key[:1].lower() + key[1:]  # Batch: Step Functions' PascalCase, botocore's camelCase
        return members.get(lowered)
    if shape.type_name == "map":
        return shape.value
    return None


def _argument(item: Any) -> str:
    if isinstance(item, Expr):
        return str(item)
    if isinstance(item, bool):
        return quote("true" if item else "false")
    if item is None:
        return "null"
    if isinstance(item, int | float):
        return repr(item)
    return quote(str(item))
