"""Whether the kept results fit the state.

A step whose result a later step reads keeps it in the state, which Step Functions limits to 256 KiB:
past it the run ends with `States.DataLimitExceeded`, which no catch handles (so no step alert
either). Each kept result takes at least its selected members: the job's name, ARN and status as
sfn-build names them, and of a whole result the request the job's describe response echoes; a
`for_each` step's, that times its items (for a literal list). A fan-out alone past the limit is an
error at its items, past half of it (the rest of the state needs room too, and the members read are
larger than their least) a warning. So are all the results the state holds at once: all of them to
the end, or, in a workflow that drops the dead ones (module `result_lifetimes`), those held where it
holds the most.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .execution_input import given_list
from .model import Step, Workflow
from .naming import job_prefix, tuning_prefix
from .plan import Plan
from .problems import Problem, Severity
from .request_size import STATE_LIMIT
from .result_lifetimes import lifetimes, most_held
from .results import ResultSpec, result_specs
from .steps import KINDS
from .steps.base import Expr

_SAGEMAKER_ARN_LEAST = len("arn:aws:sagemaker:us-east-1:123456789012:training-job/")  # before the job's name
_UUID = 36
_STATUS_LEAST = len("Completed")  # and SUCCEEDED


def kept_results_problems(
    workflow: Workflow, plan: Plan, requests: Mapping[str, dict[str, Any]]
) -> Iterator[Problem]:
    """Literal fan-outs, or all the results the state holds at once, that cannot (or barely can) fit it.
    `requests`: the task steps' requests, as validate built them."""
    counts = {step.name: len(step.for_each.items) for step in _kept_fan_outs(workflow) if _literal(step)}
    found = False  # a fan-out said so already: the results held at once are mostly its own
    for name, items, each, total in _sizes(workflow, counts, STATE_LIMIT // 2, requests):
        over, found = total > STATE_LIMIT, True
        yield Problem(
            f"the {items:,} items' results that later steps read are kept in the state, at least {each:,} bytes "
            f"each: {total:,} bytes {'past' if over else 'near'} the 256 KiB Step Functions allows, and past it "
            "the run ends with States.DataLimitExceeded, which no catch handles",
            ("steps", name, "for_each", "items"),
            hint=RESULTS_HINT,
            severity=Severity.ERROR if over else Severity.WARNING,
        )
    if not found:
        yield from _held_at_once(workflow, plan, requests)


def _held_at_once(workflow: Workflow, plan: Plan, requests: Mapping[str, dict[str, Any]]) -> Iterator[Problem]:
    """The results the state holds at once (of the steps every run runs), past half the limit."""
    specs = result_specs(workflow, requests)
    sizes = {
        name: size
        for name, size in least_bytes(workflow, specs, requests).items()
        if plan.scopes.region_of.get(name) is None
    }
    if not sizes:
        return
    copies, total = most_held(plan, lifetimes(workflow, plan, sizes))
    if total <= STATE_LIMIT // 2:
        return
    over = total > STATE_LIMIT
    held = list(dict.fromkeys(copies))  # a Parallel state's branches may each hold one
    largest = sorted(held, key=lambda name: -sizes[name])[:3]
    most = ", ".join(
        f"{name} ({sizes[name]:,}{': its whole result' if specs[name].selector is None else ''})" for name in largest
    )
    yield Problem(
        f"{len(held):,} steps' results that later steps read are in the state at once, at least {total:,} bytes: "
        f"{'past' if over else 'near'} the 256 KiB Step Functions allows, and past it the run ends with "
        f"States.DataLimitExceeded, which no catch handles (the largest, in bytes: {most})",
        ("steps", largest[0]),
        hint="read members a job's result always has (one it may leave out keeps the whole result), read fewer "
        "results, or move steps into a nested workflow (type: workflow); results are dropped once no later step "
        "reads them",
        severity=Severity.ERROR if over else Severity.WARNING,
    )


def input_results_problems(workflow: Workflow, given: dict[str, Any]) -> list[str]:
    """Lists in an execution's input (or their defaults) whose items' kept results cannot fit the state:
    the run would end with States.DataLimitExceeded once they have all run."""
    listed = {step.name: given_list(step, workflow, given) for step in _kept_fan_outs(workflow)}
    counts = {name: found[1] for name, found in listed.items() if found is not None}
    return [
        f"{items:,} items run by {name}, whose results later steps read, keep at least {total:,} bytes in the "
        f"state ({each:,} each), past the 256 KiB Step Functions allows: the run would end with "
        "States.DataLimitExceeded after running them all"
        for name, items, each, total in _sizes(workflow, counts, STATE_LIMIT)
    ]


RESULTS_HINT = (
    "read less of the step's result (one member, not all of it), give the step fewer items, or set "
    "for_each.mode: distributed with for_each.results: s3://bucket/prefix/ and read the results from S3"
)


def _kept_fan_outs(workflow: Workflow) -> list[Step]:
    """The fan-out steps whose items are in the state (not read from S3) and whose results are not written
    to S3."""
    return [
        step
        for step in workflow.steps.values()
        if step.for_each is not None and step.for_each.source is None and step.for_each.results is None
    ]


def _literal(step: Step) -> bool:
    return isinstance(step.for_each.items, tuple)  # type: ignore[union-attr]


def _sizes(
    workflow: Workflow, counts: dict[str, int], above: int, requests: Mapping[str, dict[str, Any]] | None = None
) -> Iterator[tuple[str, int, int, int]]:
    """(step, items, least bytes an item, least bytes in all) of the kept fan-outs past `above` bytes
    (`requests`: the task steps' requests, if built)."""
    if not counts:
        return
    specs = result_specs(workflow, requests)
    for name, items in counts.items():
        if name not in specs:
            continue  # no later step reads its results
        each = _least_item_bytes(workflow.steps[name], workflow, specs[name], (requests or {}).get(name))
        total = items * (each + 1)  # a comma between items
        if total > above:
            yield name, items, each, total


def least_bytes(
    workflow: Workflow, specs: Mapping[str, ResultSpec], requests: Mapping[str, dict[str, Any]]
) -> dict[str, int]:
    """The fewest bytes each kept result takes in the state, compact JSON (a fan-out's: every item's
    result in a list, as many as its literal list has; one for a list known at run time only).
    `requests`: the task steps' requests, as validate built them."""
    sizes = {}
    for name, spec in specs.items():
        step = workflow.steps[name]
        each = _least_item_bytes(step, workflow, spec, requests.get(name))
        items = len(step.for_each.items) if step.for_each is not None and _literal(step) else None
        sizes[name] = each if items is None else 2 + items * (each + 1)
    return sizes


def _least_item_bytes(
    step: Step, workflow: Workflow, spec: ResultSpec, request: dict[str, Any] | None = None
) -> int:
    """The fewest bytes one item's kept result can take, compact JSON (`request`: the step's, if built)."""
    if KINDS[step.type].result_root:
        return 1  # the item's own value (a Lambda's Payload), which may be as short as `0`
    least = _summary_least(step, workflow)
    if spec.selector is None:
        members = sum(len(member) + 4 + size for member, size in least.items())
        return _echoed_request_bytes(step, workflow, request) + members
    return _selector_bytes(spec.selector, least)


def _summary_least(step: Step, workflow: Workflow) -> dict[str, int]:
    """The least size of each summary member's value that sfn-build knows: a job's name (`<prefix>-<hex>`),
    ARN, id and status."""
    summary = KINDS[step.type].summary
    if not any(member.endswith("JobName") for member in summary):
        return {}
    prefix = tuning_prefix if step.type == "tuning" else job_prefix
    name = len(prefix(workflow.name, step.name)) + len("-01234567" if step.type == "tuning" else "-0123456789ab")
    known = {"JobName": name, "JobArn": _SAGEMAKER_ARN_LEAST + name, "JobId": _UUID, "Status": _STATUS_LEAST}
    return {member: 2 + size for member in summary for suffix, size in known.items() if member.endswith(suffix)}


def _selector_bytes(selector: dict[str, Any], least: dict[str, int]) -> int:
    """A ResultSelector's output at its least: members known to `least`, anything else as small as a value is."""
    size = 1 + len(selector)  # the braces and the commas between members
    for key, value in selector.items():
        member = key.removesuffix(".$")
        inner = least.get(member, 1) if isinstance(value, str) else _selector_bytes(value, {})
        size += len(member) + 3 + inner
    return size


def _echoed_request_bytes(step: Step, workflow: Workflow, request: dict[str, Any] | None = None) -> int:
    """A job's describe response echoes its request: the members whose values the spec writes out (a
    templated value is known only at run time, and the summary members are counted apart)."""
    from .step_requests import step_request

    if KINDS[step.type].api is None:
        return 0
    if request is None:
        request, _ = step_request(step, workflow)
    skipped = {"Tags", "tags", *KINDS[step.type].summary}
    literal = {key: value for key, value in request.items() if key not in skipped and _written_out(value)}
    return len(json.dumps(literal, separators=(",", ":"), ensure_ascii=False).encode())


def _written_out(value: Any) -> bool:
    """Whether a request value holds no template or expression (then it is sent as it is)."""
    if isinstance(value, Expr) or (isinstance(value, str) and "${" in value):
        return False
    if isinstance(value, dict):
        return all(_written_out(item) for item in value.values())
    if isinstance(value, list):
        return all(_written_out(item) for item in value)
    return True
