"""The states of a step that polls (`StepKind.polling`): start, then wait, describe, decide.

    <step>.begin     Pass    a token for the start call (one per run of the step) and a poll count
    <step>.start     Task    starts the work (retried on client errors: the token makes that safe)
    <step>.exists    Task    (a kind with a `Switch`) whether the target exists: then `.update`, else `.create`
    <step>.wait      Wait    `poll` seconds
    <step>.check     Task    describes the work (its kept members, and the status)
    <step>.status    Choice  succeeded -> done; a failed status -> a Fail naming it; out of polls -> stop
    <step>.count     Pass    one more poll, back to wait
    <step>.stop      Task    stops the work that outlasted the step's timeout, then fails

The builder puts them in a one-branch Parallel state named after the step, so
that the step's retry and catch apply to the whole of it and a Fail inside ends
the branch with that error (`SageMaker.PipelineExecutionFailed`), never `States.*`.
A Parallel has no timeout: the count of polls stands in for it. The loop keeps its
scratch data under `$.poll`, which the branch's output leaves behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import sdk
from .aws_rules import CATCH_ALL
from .model import Step, Workflow
from .naming import POLL_CHECK_ROLE, POLL_STOP_ROLE, POLL_SWITCH_ROLES, aux_state
from .results import ResultSpec
from .steps.base import StepKind
from .steps.polling import Switch, poll_seconds, polls_allowed

POLL = "$.poll"
CALL_RETRY_ERRORS = ["SdkClientException", "ThrottlingException"]  # with the kind's prefix
CALL_TIMEOUT_SECONDS = 60


Render = Callable[[str | None, dict[str, Any]], dict[str, Any]]  # (a call's resource, request data) -> Parameters


def poll_states(
    step: Step,
    kind: StepKind,
    workflow: Workflow,
    start_parameters: dict[str, Any],
    kept: ResultSpec | None,
    render: Render,
) -> list[Any]:
    """The loop's states, the first one first. `kept`: how the describe result is kept, when a later
    step reads it (the branch's output); else only its summary is (for the status). `render` turns
    request data (with `Expr` values) into Parameters, checked against the call's API."""
    polling = kind.polling
    assert polling is not None and kind.error_prefix is not None
    prefix, name = kind.error_prefix, step.name
    begin = sdk.Pass(
        aux_state(name, "begin"),
        parameters={
            "token.$": "States.UUID()",
            "count": {"n": 0},
            **render(None, kind.poll_memory(step, workflow)),
        },
        result_path=POLL,
        comment=f"Starts the {polling.noun} of {name}, then polls it every {poll_seconds(step)}s, "
        + ("once." if polls_allowed(step) == 1 else f"{polls_allowed(step)} times at most."),
    )
    start = _call(
        aux_state(name, "start"),
        kind.resource,
        start_parameters,
        {f"{member}.$": path for member, path in polling.started.items()},
        f"{POLL}.started",
        prefix,
    )
    wait = sdk.Wait(aux_state(name, "wait"), seconds=poll_seconds(step))
    summary = {f"{member}.$": f"$.{member}" for member in kind.summary}
    check = _call(
        aux_state(name, POLL_CHECK_ROLE),
        polling.describe,
        render(polling.describe, kind.describe_parameters(step)),
        summary if kept is None else kept.selector,  # a selector keeps the summary, which has the status
        f"{POLL}.status",
        prefix,
    )
    decide = sdk.Choice(aux_state(name, "status"))
    done = sdk.Pass(aux_state(name, "done"), input_path=f"{POLL}.status")
    ends = _ends(step, kind, decide, done)
    states = [begin, start]
    switch = kind.switch(step, workflow)
    if switch is None:
        start.next(wait)
    else:
        switched = _switch(step, switch, kind, render, wait)
        start.next(switched[0])
        states += switched
    states += [wait, check, decide]
    timed_out = sdk.Fail(
        aux_state(name, "timed-out"),
        error=f"{prefix}.{polling.timed_out}",
        cause=f"The {polling.noun} of {name} ran longer than the step's timeout ({step.timeout}s)"
        + (": it was stopped." if polling.stop else "."),
    )
    out_of_polls = sdk.ChoiceRule.NumericGreaterThanEquals(variable=f"{POLL}.count.n", value=polls_allowed(step))
    if polling.stop is not None:
        stop_resource, stop_members = polling.stop
        stop = _call(
            aux_state(name, POLL_STOP_ROLE),
            stop_resource,
            {f"{member}.$": path for member, path in stop_members.items()},
            None,
            None,
            prefix,
        )
        stop.add_catch(sdk.Catch(error_equals=[CATCH_ALL], next_step=timed_out, result_path=f"{POLL}.stop_error"))
        stop.next(timed_out)
        decide.add_choice(out_of_polls, stop)
        states.append(stop)
    else:
        decide.add_choice(out_of_polls, timed_out)
    count = sdk.Pass(
        aux_state(name, "count"),
        parameters={"n.$": f"States.MathAdd({POLL}.count.n, 1)"},
        result_path=f"{POLL}.count",
    )
    decide.default_choice(count)
    begin.next(start)
    wait.next(check)
    check.next(decide)
    count.next(wait)
    return [*states, count, done, *ends, timed_out]


def _ends(step: Step, kind: StepKind, decide: Any, done: Any) -> list[Any]:
    """The Choice's rules for the final statuses, and the Fail states of the bad ones."""
    polling = kind.polling
    assert polling is not None
    status = f"{POLL}.status.{polling.status}"
    fails = []
    if polling.unchanged is not None:  # a success status on what was there before: rolled back
        member, error = polling.unchanged
        fail = sdk.Fail(
            aux_state(step.name, "unchanged"),
            error=f"{kind.error_prefix}.{error}",
            cause=f"The {polling.noun} of {step.name} ended with its {member} as before: it was rolled back.",
        )
        before = f"{POLL}.previous.{member}"
        rule = sdk.ChoiceRule.And(
            [
                *(sdk.ChoiceRule.StringEquals(variable=status, value=value) for value in polling.succeeded),
                sdk.ChoiceRule.IsPresent(variable=before, value=True),
                sdk.ChoiceRule.StringEqualsPath(variable=f"{POLL}.status.{member}", value=before),
            ]
        )
        decide.add_choice(rule, fail)
        fails.append(fail)
    for value in polling.succeeded:
        decide.add_choice(sdk.ChoiceRule.StringEquals(variable=status, value=value), done)
    for value, error in polling.failed.items():
        fail = sdk.Fail(
            aux_state(step.name, f"ended-{value.lower()}"),
            error=f"{kind.error_prefix}.{error}",
            cause=f"The {polling.noun} of {step.name} ended {value}: its page in the console says why.",
        )
        decide.add_choice(sdk.ChoiceRule.StringEquals(variable=status, value=value), fail)
        fails.append(fail)
    return fails


def _switch(step: Step, switch: Switch, kind: StepKind, render: Render, then: Any) -> list[Any]:
    """Probe whether the target exists (keeping what it was at `$.poll.previous`), then create or update it."""
    prefix = kind.error_prefix or ""
    polling = kind.polling
    assert polling is not None
    kept = {f"{polling.unchanged[0]}.$": f"$.{polling.unchanged[0]}"} if polling.unchanged else None
    resource, parameters = switch.probe
    probing, creating, updating = POLL_SWITCH_ROLES
    probe = _call(
        aux_state(step.name, probing), resource, render(resource, parameters), kept, f"{POLL}.previous", prefix
    )
    calls = []
    for role, (resource, parameters) in ((creating, switch.create), (updating, switch.update)):
        call = _call(aux_state(step.name, role), resource, render(resource, parameters), None, None, prefix)
        call.next(then)
        calls.append(call)
    create, update = calls
    probe.add_catch(sdk.Catch(error_equals=list(switch.missing), next_step=create, result_path=f"{POLL}.missing"))
    probe.next(update)
    return [probe, create, update]


def _call(
    state_id: str,
    resource: str | None,
    parameters: dict[str, Any],
    selector: dict[str, Any] | None,
    result_path: str | None,
    prefix: str,
) -> Any:
    options: dict[str, Any] = {"result_path": result_path}
    if selector:
        options["result_selector"] = selector
    state = sdk.Task(
        state_id, resource=resource, parameters=parameters, timeout_seconds=CALL_TIMEOUT_SECONDS, **options
    )
    errors = [f"{prefix}.{error}" for error in CALL_RETRY_ERRORS]
    state.add_retry(sdk.Retry(error_equals=errors, interval_seconds=5, max_attempts=3, backoff_rate=2.0))
    return state
