"""Each task step's request body: generated from its fields, with its `request:` members merged in
(module `request_overrides`), and checked against its API's botocore model (module `request_check`)
and, for `${...}` values, by what they resolve to (module `runtime_types`)."""

from __future__ import annotations

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
        problems.append(
            Problem(
                f"the {operation} request would be rejected: {message}",
                ("steps", step.name, FIELD, *written) if written else ("steps", step.name),
                hint=f"fix the step's {'request: member' if written else 'fields'} so the request fits the "
                f"{service} API's {operation} operation",
                on_key=name_wrong and len(written) == len(member),
            )
        )
    return request, problems + type_problems(run_time, step, workflow)
