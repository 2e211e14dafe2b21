"""Values known only at run time, checked for type against the API that receives them.

`request_check` checks literal values and hands over the `${...}` strings it
meets, with the member that receives each; a reference is checked here by what
it resolves to: a list where the API takes a string, text where it takes
a number, and so on, would be refused by the service at run time. Members Step
Functions passes on as JSON (a Lambda payload, a nested execution's input)
take anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Step, Workflow
from .problems import Path, Problem
from .references import resolve
from .request_check import RunTimeValue
from .templates import TemplateError, parse_template

_ACCEPTS = {
    "string": {"string", "number", "boolean"},  # numbers and booleans are formatted as text
    "list": {"array"},
    "map": {"object"},
    "structure": {"object"},
    "integer": {"number"},
    "long": {"number"},
    "float": {"number"},
    "double": {"number"},
    "boolean": {"boolean"},
}
_NOUNS = {"array": "a list", "object": "a mapping", "string": "text", "number": "a number", "boolean": "true/false"}


def type_problems(values: list[RunTimeValue], step: Step, workflow: Workflow) -> list[Problem]:
    """A problem for each reference whose value the receiving member cannot take.

    `values` are the run-time values `check_request` met in the step's request.
    """
    problems = []
    for text, member, path in values:
        try:
            ref = parse_template(text).single_reference
        except TemplateError:
            continue  # reported by the template checks
        found = resolve(ref, workflow).json_type if ref is not None else "string"
        accepted = _ACCEPTS.get(member.type_name)
        if found is None or accepted is None or found in accepted:
            continue
        label = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or member.name
        problems.append(
            Problem(
                f"{text} is {_NOUNS[found]}, but {label} of the request takes {_NOUNS[_json_type(member)]}",
                _where(text, step),
                hint="pass a value of that type, or reduce the value in a task before this step",
            )
        )
    return problems


def _json_type(shape: Any) -> str:
    return next(json for json, shapes in _JSON_OF.items() if shape.type_name in shapes)


_JSON_OF = {
    "string": {"string", "timestamp", "blob"},
    "array": {"list"},
    "object": {"map", "structure"},
    "number": {"integer", "long", "float", "double"},
    "boolean": {"boolean"},
}


def _where(text: str, step: Step) -> Path:
    """Where the step's spec holds this text (its own field, or the defaults it inherited)."""
    stack: list[tuple[Any, Path]] = [(value, (key,)) for key, value in step.config.items()]
    while stack:
        value, path = stack.pop()
        if value == text:
            top = str(path[0])
            base: Path = ("defaults", "sagemaker") if top in step.inherited else ("steps", step.name)
            return (*base, *path)
        if isinstance(value, Mapping):
            stack.extend((item, (*path, key)) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((item, (*path, n)) for n, item in enumerate(value))
    return ("steps", step.name)
