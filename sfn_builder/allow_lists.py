"""The values a field that names an AWS resource can take, which is what its policy grants.

A role to pass, a function to invoke, a state machine, topic, job queue or job
definition decides what the generated IAM policy allows. Written as text, the
policy names exactly that resource. Templated, it may take only values the spec
lists: every `${...}` in it must be an input declared with `enum:`, and the
policy grants each value the template can make (the machine's `input.check`
fails an execution that gives another). Anything else is an error at the field:
it would grant every resource of that kind to whoever can start an execution.
"""

from __future__ import annotations

import itertools
from typing import Any

from .model import Step, Workflow
from .templates import Reference, parsed

MAX_VALUES = 100  # combinations a templated field may make (each becomes a policy resource)

# step type -> (field, what it names)
RESOURCE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "processing": (("role", "IAM role"),),
    "training": (("role", "IAM role"),),
    "tuning": (("role", "IAM role"),),
    "model": (("role", "IAM role"),),
    "lambda": (("function", "Lambda function"),),
    "workflow": (("state_machine", "state machine"),),
    "sns": (("topic", "SNS topic"),),
    "batch": (("job_queue", "Batch job queue"), ("job_definition", "Batch job definition")),
}


def possible_values(value: Any, workflow: Workflow) -> list[str] | None:
    """Every text the field can be at run time; None when the spec does not bound it."""
    template = parsed(value)
    if template is None:
        return None
    choices: list[list[str]] = []
    for piece in template.pieces:
        if isinstance(piece, str):
            choices.append([piece])
            continue
        allowed = _allowed(piece, workflow)
        if allowed is None:
            return None
        choices.append(allowed)
    combinations = 1
    for options in choices:
        combinations *= len(options)
        if combinations > MAX_VALUES:
            return None
    return sorted({"".join(parts) for parts in itertools.product(*choices)})


def values_of(step: Step, field: str, workflow: Workflow) -> list[str]:
    """The values a validated spec's field can take (validation refused unbounded ones)."""
    values = possible_values(step.config[field], workflow)
    if values is None:
        raise ValueError(f"{step.name}.{field} is not bounded: validate the spec first")
    return values


def _allowed(reference: Reference, workflow: Workflow) -> list[str] | None:
    if reference.namespace != "input" or len(reference.parts) != 1:
        return None
    field = next((f for f in workflow.inputs if f.name == reference.parts[0]), None)
    if field is None or field.allowed is None:
        return None
    return [value if isinstance(value, str) else _text(value) for value in field.allowed]


def _text(value: Any) -> str:
    """A number or boolean as it appears inside a rendered string (States.Format writes JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
