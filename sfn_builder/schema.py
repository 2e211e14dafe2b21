"""Validate, first half: the spec against schemas/workflow.schema.json.

jsonschema's messages are written for schema authors; `_translate` rewrites
each one for the person writing the spec ("unknown field 'imgae' for a
processing step; did you mean 'image'?") and keeps its document path so the
CLI can point at the line.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from .problems import Path, Problem, did_you_mean
from .schema_tests import Tests

DURATION_PATTERN = "^[0-9]*[1-9][0-9]*(s|m|h|d)$"
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
    text = FilePath(__file__).with_name("workflow.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _outline() -> dict[str, Any]:
    """The schema of the spec without its steps (each step is checked by its type's schema)."""
    outline = json.loads(json.dumps(workflow_schema()))
    outline["properties"]["steps"]["additionalProperties"] = True
    return outline


@cache
def _step_outline() -> dict[str, Any]:
    """The schema of a step's `type` and the fields every step shares."""
    return {key: value for key, value in workflow_schema()["$defs"]["step"].items() if key != "allOf"}


@cache
def step_types() -> frozenset[str]:
    return frozenset(_step_outline()["properties"]["type"]["enum"])


@cache
def _step_schema(name: str) -> dict[str, Any]:
    """The schema of one step type.

    The schema picks a step's definition with an if/then per type, which editors
    understand; checking all of them on every step is slow. Dispatching on `type`
    gives the same errors several times faster; each type's schema (and its direct
    test) is made when a spec first has a step of that type.
    """
    definitions = workflow_schema()["$defs"]
    return {**_inline(definitions[f"{name}_step"], definitions), "$defs": definitions}


@cache
def _outline_test() -> Any:
    return Tests(_outline()).test(_outline())


@cache
def _step_test(name: str) -> Any:
    """The direct test (module `schema_tests`) of a step type, None for a type the schema does not name."""
    if name not in step_types():
        return None
    schema = _step_schema(name)
    return Tests(schema).test(schema)


def _plainly_valid(data: dict[str, Any]) -> bool:
    """True only for a spec the schema accepts (False: jsonschema decides, and says why)."""
    outline = _outline_test()
    if outline is None or not outline(data) or not isinstance(data.get("steps"), dict):
        return False
    for step in data["steps"].values():
        kind = step.get("type") if isinstance(step, dict) else None
        test = _step_test(kind) if isinstance(kind, str) else None
        if test is None or not test(step):
            return False
    return True


@cache
def _validators() -> tuple[Any, Any, dict[str, Any]]:
    """jsonschema's validators of the dispatched schemas, not descending into leaves that are plainly
    valid (`leaf_checks`)."""
    from .leaf_checks import LeafCheckingValidator  # jsonschema: only for a spec that is not plainly valid

    validators = {name: LeafCheckingValidator(_step_schema(name)) for name in step_types()}
    return LeafCheckingValidator(_outline()), LeafCheckingValidator(_step_outline()), validators


def schema_problems(data: dict[str, Any]) -> list[Problem]:
    """Every way `data` breaks the schema, as problems with document paths. A spec the direct test
    passes has none (jsonschema is not even imported); the others are checked by jsonschema."""
    if _plainly_valid(data):
        return []
    outline, step_outline, per_type = _validators()
    errors = [(error, ()) for error in outline.iter_errors(data)]
    steps = data.get("steps")
    if isinstance(steps, dict):
        for name, step in steps.items():
            step_type = step.get("type") if isinstance(step, dict) else None
            validator = per_type.get(step_type) if isinstance(step_type, str) else None
            errors.extend((error, ("steps", name)) for error in (validator or step_outline).iter_errors(step))
    return [problem for error, prefix in errors for problem in _translate(error, prefix)]


def _inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with each `$ref` to a definition replaced by the definition itself
    (recursive ones stay references); saves jsonschema a lookup per use."""
    if isinstance(node, dict):
        reference = node.get("$ref", "")
        name = reference.removeprefix("#/$defs/")
        if reference.startswith("#/$defs/") and name not in seen:
            annotations = {key: value for key, value in node.items() if key != "$ref"}  # description, examples
            return {**annotations, **_inline(definitions[name], definitions, (*seen, name))}
        return {key: _inline(value, definitions, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in node]
    return node


def full_schema_problems(data: dict[str, Any]) -> list[Problem]:
    """The same problems from the schema as written (slower; used to test the dispatch)."""
    from jsonschema import Draft202012Validator

    return [
        problem for error in Draft202012Validator(workflow_schema()).iter_errors(data) for problem in _translate(error)
    ]


def _translate(error: Any, prefix: Path = ()) -> list[Problem]:
    """A jsonschema ValidationError as problems for the person writing the spec."""
    path: Path = (*prefix, *error.absolute_path)
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
    if validator in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        # A branch of the value's own type says more than one that wants another type (a schedule
        # entry's long description, rather than "expected a list").
        fitting = [e for e in error.context if e.validator != "type" or e.relative_path]
        return _translate(best_match(fitting or error.context), prefix)
    if schema.get("pattern") == DURATION_PATTERN and validator in ("pattern", "type", "minimum"):
        return [
            Problem(
                f"{_describe(instance)} is not a duration",
                path,
                "write 30s, 90m, 2h, 1d or a number of seconds: at least 1s",
            )
        ]
    if validator == "const":
        return [Problem(f"must be {error.validator_value!r}, found {instance!r}", path)]
    if validator == "pattern":
        return [Problem(f"{_describe(instance)} is not allowed here", path, hint=schema.get("description"))]
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
            return f" for {'an' if step_type[:1] in 'aeiou' else 'a'} {step_type} step"
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
