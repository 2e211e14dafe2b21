"""Validate, first half: the spec against schemas/workflow.schema.json.

jsonschema's messages are written for schema authors; `_translate` rewrites
each one for the person writing the spec ("unknown field 'imgae' for a
processing step; did you mean 'image'?") and keeps its document path so the
CLI can point at the line.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .problems import Path, Problem, did_you_mean

_JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@cache
def workflow_schema() -> dict[str, Any]:
    """The workflow JSON Schema shipped with the package."""
    text = resources.files("sfn_builder").joinpath("workflow.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(workflow_schema())


def schema_problems(data: dict[str, Any]) -> list[Problem]:
    """Every way `data` breaks the schema, as problems with document paths."""
    problems = []
    for error in _validator().iter_errors(data):
        problems.extend(_translate(error))
    return problems


def _translate(error: ValidationError) -> list[Problem]:
    path: Path = tuple(error.absolute_path)
    validator, schema, instance = error.validator, error.schema, error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        where = _where(path, instance)
        return [
            Problem(
                f"unknown field '{key}'{where}",
                (*path, key),
                hint=did_you_mean(key, allowed) or ("allowed fields: " + ", ".join(allowed) if allowed else None),
                on_key=True,
            )
            for key in instance
            if key not in schema.get("properties", {})
        ]
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.validator_value)
        return [Problem(f"missing required field '{missing}'{_where(path, instance)}", path)]
    if validator == "enum":
        choices = [str(c) for c in error.validator_value]
        subject = "step type" if path[-1:] == ("type",) and path[:1] == ("steps",) else "value"
        return [
            Problem(
                f"unknown {subject} {instance!r}; expected one of: {', '.join(choices)}",
                path,
                hint=did_you_mean(str(instance), choices),
            )
        ]
    if validator == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        return [Problem(f"expected {wanted}, found {_describe(instance)}", path)]
    if validator == "oneOf":
        description = schema.get("description", "")
        examples = schema.get("examples")
        hint = f"for example: {json.dumps(examples[0])}" if examples else None
        what = description.rstrip(".") if description else "a value of another form"
        return [Problem(f"{_describe(instance)} is not valid here; expected {_lower_first(what)}", path, hint)]
    if validator == "pattern" and "duration" in json.dumps(schema.get("pattern", "")):
        return [Problem(f"{instance!r} is not a duration", path, "write 30s, 90m, 2h, 1d or a number of seconds")]
    if validator == "const":
        return [Problem(f"must be {error.validator_value!r}, found {instance!r}", path)]
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": "at least", "maximum": "at most"}.get(validator, validator)
        return [Problem(f"{instance!r} is out of range: must be {bound} {error.validator_value}", path)]
    if validator in ("minItems", "maxItems", "minProperties", "minLength", "maxLength"):
        return [Problem(_size_message(validator, error.validator_value, instance), path)]
    if validator == "uniqueItems":
        return [Problem("lists the same item more than once", path)]
    if validator == "propertyNames":
        return [Problem(f"the name {instance!r} is not allowed here: {error.message}", path)]
    return [Problem(error.message, path)]


def _where(path: Path, instance: Any) -> str:
    if len(path) == 2 and path[0] == "steps" and isinstance(instance, dict):
        step_type = instance.get("type")
        if isinstance(step_type, str):
            return f" for a {step_type} step"
    return ""


def _size_message(validator: str, bound: int, instance: Any) -> str:
    noun = "characters" if validator in ("minLength", "maxLength") else "items"
    if validator == "minProperties":
        return "must not be empty" if bound == 1 else f"must have at least {bound} entries"
    if validator in ("minItems", "minLength"):
        return "must not be empty" if bound == 1 else f"must have at least {bound} {noun}"
    return f"has {len(instance)} {noun}; at most {bound} are allowed"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"the number {value}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
