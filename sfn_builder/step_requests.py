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
from .request_size import STATE_LIMIT, oversized_member
from .runtime_types import type_problems
from .service_models import input_shape
from .steps import KINDS


def step_request(step: Step, workflow: Workflow) -> tuple[dict[str, Any], list[Problem]]:
    """The task step's request body and what is wrong with it (at the `request:` member that was
    written, else at the field that made it, else at the step); and of the calls a step that switches
    between creating and updating (an endpoint) makes after it, made from its fields too."""
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
        if written:
            problems.append(
                Problem(
                    f"the {operation} request would be rejected: {message}",
                    ("steps", step.name, FIELD, *written),
                    hint=f"fix the step's request: member so the request fits the {service} API's {operation} "
                    "operation",
                    on_key=name_wrong and len(written) == len(member),
                )
            )
        else:
            problems.append(_field_problem(step, member, message, (service, operation)))
    oversized = oversized_member(request)
    if oversized:
        problems.append(_too_large(step, *oversized, overrides, shape))
    switch = kind.switch(step, workflow)
    for resource, parameters in (switch.probe, switch.create, switch.update) if switch else ():
        call = kind.calls[resource]
        for member, message, _ in located_problems(parameters, input_shape(*call), run_time=run_time):
            problems.append(_field_problem(step, member, message, call))
    return request, problems + type_problems(run_time, step, workflow)


def _too_large(step: Step, member: tuple, least: int, overrides: Any, shape: Any) -> Problem:
    """A request whose literal values alone pass the 256 KiB a task's input may hold."""
    written = written_at(member, overrides, shape) if member else None
    field = (FIELD, *written) if written else _field_of(member, step)
    return Problem(
        f"this step's request holds {least:,} bytes of values written in the spec, past the "
        f"{STATE_LIMIT // 1024} KiB Step Functions gives a task's input: every run would end here with "
        "States.DataLimitExceeded, which no retry or catch handles",
        ("steps", step.name, *(field or ())),
        hint="keep large data in S3 and pass its URI, or read it at run time with ${...}",
    )


def _field_problem(step: Step, member: tuple, message: str, api: tuple[str, str]) -> Problem:
    """A request member the API refuses, placed at the step field that made it."""
    field = _field_of(member, step)
    return Problem(
        f"the {api[1]} request would be rejected: {message}",
        ("steps", step.name, *(field or ())),
        hint=f"fix the step's {(field or ('fields',))[0]} so the request fits the {api[0]} API's {api[1]} operation",
    )


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
    "Alarms": ("alarms",),
    "Payload": ("payload",),
    "Input": ("input",),
    "Message": ("message",),
    "Parameters": ("parameters",),
}


def _field_of(member: tuple, step: Step) -> tuple[str, ...] | None:
    """The step field that wrote a request member, and the entry of it when the member is keyed or
    indexed as the field is (`env: {NAME: ...}`, `alarms: [...]`). Where the step does not write the
    field, the problem is placed at the step itself: the value came from `defaults`."""
    for depth in range(len(member) - 1, -1, -1):
        part = member[depth]
        fields = _FIELDS.get(part, ()) if isinstance(part, str) else ()
        if fields:
            field = next((field for field in fields if field in step.config), fields[-1])
            entry = member[depth + 1 : depth + 2]
            written = step.config.get(field)
            if isinstance(written, Mapping) and entry and entry[0] in written:
                return (field, *entry)
            if isinstance(written, list) and entry and isinstance(entry[0], int) and entry[0] < len(written):
                return (field, *entry)
            return (field,)
    return None
