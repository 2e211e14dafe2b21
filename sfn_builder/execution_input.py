"""An execution's input against the spec's `input:` declarations, before anything starts.

The compiled machine checks required fields itself (`input.check`), but only once an
execution runs; `execute` and `simulate` say what is wrong with `--input` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .model import HISTORY_LIMIT, InputField, Step, Workflow, item_events
from .naming import RESERVED_INPUT_PREFIX
from .problems import did_you_mean
from .templates import TemplateError, parse_template

if TYPE_CHECKING:
    from .history_budget import Histories

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


def described(value: Any) -> str:
    """A JSON value in words: what it is, and itself ("text: 'high'", "a number: 5", "null")."""
    return "null" if value is None else f"{_NAMES.get(type(value), type(value).__name__)}: {value!r}"


def input_problems(workflow: Workflow, given: dict[str, Any]) -> list[str]:
    """What is wrong with an execution input: missing required fields, wrong types, unknown names."""
    return [message for _, message in input_findings(workflow, given)]


def input_findings(workflow: Workflow, given: dict[str, Any]) -> list[tuple[str | None, str]]:
    """`input_problems`, each with the given field it is about (None for a missing one)."""
    problems: list[tuple[str | None, str]] = []
    declared = {field.name: field for field in workflow.inputs}
    for field in workflow.inputs:
        if field.name not in given:
            if not field.has_default:
                problems.append((None, f"the input lacks '{field.name}' ({field.type}), which has no default"))
            continue
        value = given[field.name]
        if not matches_type(value, field.type):
            found = described(value)
            problems.append((field.name, f"'{field.name}' is declared {field.type}, but the input gives {found}"))
        elif field.allowed is not None and value not in field.allowed:
            choices = ", ".join(repr(v) for v in field.allowed)
            problems.append((field.name, f"'{field.name}' may only be one of {choices}, but the input gives {value!r}"))
    for name in given:
        if name not in declared and not name.startswith(RESERVED_INPUT_PREFIX):
            near = did_you_mean(name, list(declared))
            problems.append((name, f"'{name}' is not a declared input" + (f" ({near})" if near else "")))
    return problems


def declared_inputs(workflow: Workflow) -> str:
    """The spec's input declarations in a line: what a hint about a wrong input shows."""
    declared = ", ".join(f"{f.name} ({f.type}{'' if f.has_default else ', required'})" for f in workflow.inputs)
    return declared or "no inputs"


def history_problems(workflow: Workflow, given: dict[str, Any], histories: Histories | None = None) -> list[str]:
    """Lists in the input that inline Maps would run past a Standard execution's history: the execution
    would fail part way, after running thousands of jobs. With the compiled workflow's `histories`, each
    list counts with the other steps of its execution (its lists included); without them (before
    compiling, which decides the parts and which of the spec's lists run distributed), each list alone."""
    if workflow.type != "standard":
        return []
    added: dict[Any, list[tuple[str, str, int]]] = {}  # execution -> the input lists its inline Maps run
    for step in workflow.steps.values():
        listed = given_list(step, workflow, given) if not step.for_each or not step.for_each.distributed else None
        if listed is not None:
            execution = histories.execution.get(step.name, 0) if histories is not None else step.name
            added.setdefault(execution, []).append((*listed, step.name))
    problems = []
    for execution, lists in added.items():
        already = histories.events.get(execution, 0) if histories is not None else 0
        events = already + sum(count * item_events(workflow.steps[step]) for _, count, step in lists)
        if events <= HISTORY_LIMIT:
            continue
        named = "; ".join(f"'{name}' holds {count:,} items: {step} runs them" for name, count, step in lists)
        where = "" if histories is None else f"with the other steps of {histories.described(execution)}, "
        problems.append(
            f"{named} in an inline Map: {where}{events:,} or more history events, past the "
            f"{HISTORY_LIMIT:,} Step Functions allows an execution, so it would fail part way"
        )
    return problems


def given_list(step: Step, workflow: Workflow, given: Mapping[str, Any]) -> tuple[str, int] | None:
    """The input field a for_each step's items are (`${input.NAME}`), and how many items the execution
    gives it (or the field's default does); None when the items are not an input list."""
    field = _input_list(step.for_each.items, workflow) if step.for_each is not None else None
    items = given.get(field.name, field.default) if field is not None else None
    return (field.name, len(items)) if field is not None and isinstance(items, list) else None


def _input_list(items: Any, workflow: Workflow) -> InputField | None:
    """The input field a for_each's items are, when they are exactly `${input.NAME}`."""
    if not isinstance(items, str):
        return None
    try:
        ref = parse_template(items).single_reference
    except TemplateError:
        return None
    if ref is None or ref.namespace != "input" or len(ref.parts) != 1:
        return None
    return workflow.input_field(str(ref.parts[0]))
