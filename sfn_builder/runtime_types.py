"""Values known only at run time, checked for type against the API that receives them.

`request_check` checks literal values; a `${...}` reference is checked here by
what it resolves to: a list where the API takes a string, text where it takes
a number, and so on, would be refused by the service at run time. Members Step
Functions passes on as JSON (a Lambda payload, a nested execution's input)
take anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .model import Step, Workflow
from .problems import Path, Problem
from .references import resolve
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


def type_problems(
    request: Mapping[str, Any], shape: Any, json_members: frozenset[str], step: Step, workflow: Workflow
) -> list[Problem]:
    """A problem for each reference whose value the receiving member cannot take."""
    problems = []
    for text, member, label in _run_time_values(request, shape, json_members):
        try:
            ref = parse_template(text).single_reference
        except TemplateError:
            continue  # reported by the template checks
        found = resolve(ref, workflow).json_type if ref is not None else "string"
        accepted = _ACCEPTS.get(member.type_name)
        if found is None or accepted is None or found in accepted:
            continue
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


def _run_time_values(value: Any, shape: Any, skip: frozenset[str], label: str = "") -> Iterator[tuple[str, Any, str]]:
    """(template text, botocore shape, member label) for every `${...}` string in a request."""
    if isinstance(value, str):
        if "${" in value and type(value) is str:
            yield value, shape, label or shape.name
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in skip:
                continue
            member = _member(shape, key)
            if member is not None:
                yield from _run_time_values(item, member, frozenset(), f"{label}.{key}" if label else key)
    elif isinstance(value, list | tuple) and shape.type_name == "list":
        for index, item in enumerate(value):
            yield from _run_time_values(item, shape.member, frozenset(), f"{label}[{index}]")


def _member(shape: Any, key: str) -> Any:
    if shape.type_name == "structure":
        members = shape.members
        return members.get(key) or members.get(key[:1].lower() + key[1:])  # Batch: PascalCase in Step Functions
    if shape.type_name == "map":
        return shape.value
    return None


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
