"""Each task step's request body: generated from its fields, with its `request:` members merged in
(module `request_overrides`), and checked against its API's botocore model (module `request_check`)
and, for `${...}` values, by what they resolve to (module `runtime_types`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Step, Workflow
from .problems import Problem
from .request_check import RunTimeValue, located_problems
from .request_overrides import FIELD, with_overrides, written_at
from .runtime_types import type_problems
from .service_models import input_shape
from .steps import KINDS


def step_request(step: Step, workflow: Workflow) -> tuple[dict[str, Any], list[Problem]]:
    """The task step's request body and what is wrong with it (at the `request:` member that was
    written, else at the step)."""
    kind = KINDS[step.type]
    assert kind.api is not None
    service, operation = kind.api
    shape = input_shape(service, operation)
    overrides = step.config.get(FIELD)
    request = with_overrides(kind.request(step, workflow), overrides, shape)
    run_time: list[RunTimeValue] = []
    problems = []
    for member, message, name_wrong in located_problems(request, shape, kind.json_members, run_time):
        written = written_at(member, overrides, shape)
        field = None if written else _field_of(member, step)
        where = ("steps", step.name, FIELD, *written) if written else ("steps", step.name, *(field or ()))
        problems.append(
            Problem(
                f"the {operation} request would be rejected: {message}",
                where,
                hint=f"fix the step's {'request: member' if written else (field or ('fields',))[0]} so the "
                f"request fits the {service} API's {operation} operation",
                on_key=name_wrong and len(written) == len(member),
            )
        )
    return request, problems + type_problems(run_time, step, workflow)


# The request members that a step field writes, by the member's name (the deepest named one wins).
_FIELDS = {
    "Environment": ("env",),
    "HyperParameters": ("hyperparameters",),
    "InputDataConfig": ("inputs",),
    "ProcessingInputs": ("inputs",),
    "ProcessingOutputConfig": ("outputs",),
    "ContainerEntrypoint": ("entrypoint",),
    "ContainerArguments": ("arguments",),
    "MaxRuntimeInSeconds": ("max_runtime", "timeout"),
}


def _field_of(member: tuple, step: Step) -> tuple[str, ...] | None:
    """The step field that wrote a request member, and the entry of it when it is a mapping the member
    is keyed by (`env: {NAME: ...}`). Where the step does not write the field, the problem is placed at
    the step itself: the value came from `defaults`."""
    for depth in range(len(member) - 1, -1, -1):
        part = member[depth]
        fields = _FIELDS.get(part, ()) if isinstance(part, str) else ()
        if fields:
            field = next((field for field in fields if field in step.config), fields[-1])
            entry = member[depth + 1 : depth + 2]
            written = step.config.get(field)
            return (field, *entry) if isinstance(written, Mapping) and entry and entry[0] in written else (field,)
    return None
