"""An execution's input against the spec's `input:` declarations, before anything starts.

The compiled machine checks required fields itself (`input.check`), but only once an
execution runs; `execute` and `simulate` say what is wrong with `--input` first.
"""

from __future__ import annotations

from typing import Any

from .model import Workflow
from .naming import RESERVED_INPUT_PREFIX
from .problems import did_you_mean
from .templates import TemplateError, parse_template

HISTORY_LIMIT = 25_000  # events in a Standard execution's history
# The fewest events an inline Map item of a task adds: its iteration's start and end, the task state's
# entry and exit, and the task scheduled, started and ended.
EVENTS_PER_ITEM = 7

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_NAMES = {str: "text", int: "a number", float: "a number", bool: "true or false", list: "a list", dict: "an object"}


def matches_type(value: Any, type_name: str) -> bool:
    """Whether a JSON value is of a declared input type (true and false are not numbers)."""
    wanted = _TYPES.get(type_name, ())
    return isinstance(value, wanted) and (not isinstance(value, bool) or bool in wanted)


def input_problems(workflow: Workflow, given: dict[str, Any]) -> list[str]:
    """What is wrong with an execution input: missing required fields, wrong types, unknown names."""
    problems = []
    declared = {field.name: field for field in workflow.inputs}
    for field in workflow.inputs:
        if field.name not in given:
            if not field.has_default:
                problems.append(f"the input lacks '{field.name}' ({field.type}), which has no default")
            continue
        value = given[field.name]
        if not matches_type(value, field.type):
            found = "null" if value is None else _NAMES.get(type(value), type(value).__name__)
            problems.append(f"'{field.name}' is declared {field.type}, but the input gives {found}: {value!r}")
        elif field.allowed is not None and value not in field.allowed:
            choices = ", ".join(repr(v) for v in field.allowed)
            problems.append(f"'{field.name}' may only be one of {choices}, but the input gives {value!r}")
    for name in given:
        if name not in declared and not name.startswith(RESERVED_INPUT_PREFIX):
            near = did_you_mean(name, list(declared))
            problems.append(f"'{name}' is not a declared input" + (f" ({near})" if near else ""))
    return problems


def history_problems(workflow: Workflow, given: dict[str, Any]) -> list[str]:
    """Lists in the input that an inline Map would run past a Standard execution's history: the
    execution would fail part way, after running thousands of jobs."""
    if workflow.type != "standard":
        return []
    problems = []
    for step in workflow.steps.values():
        each = step.for_each
        if each is None or each.distributed or not isinstance(each.items, str):
            continue
        try:
            ref = parse_template(each.items).single_reference
        except TemplateError:
            continue
        field = workflow.input_field(str(ref.parts[0])) if ref is not None and ref.namespace == "input" else None
        if field is None or ref is None or len(ref.parts) != 1:
            continue
        items = given.get(field.name, field.default)
        if isinstance(items, list) and len(items) * EVENTS_PER_ITEM > HISTORY_LIMIT:
            problems.append(
                f"'{field.name}' holds {len(items):,} items: {step.name} runs them in an inline Map, whose "
                f"{EVENTS_PER_ITEM * len(items):,} or more history events are past the {HISTORY_LIMIT:,} Step "
                "Functions allows an execution, so it would fail part way"
            )
    return problems
