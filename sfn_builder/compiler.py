"""Compile: an analysed spec -> checked requests -> ASL definition -> JSON text.

Nothing is written unless every task's request fits its API's shape and the
definition fits Step Functions' 1 MB limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .asl import walk_states
from .asl_rules import asl_findings
from .payload import RenderError
from .plan import Plan, make_plan, networks
from .problems import Problem, Severity, errors_in
from .request_check import RunTimeValue, check_parameters, check_request
from .runtime_types import type_problems
from .service_models import input_shape
from .steps import KINDS
from .validate import Analysis

MAX_DEFINITION_BYTES = 1024 * 1024
_BUG = "sfn-build made a definition Step Functions would refuse, a bug in sfn-build, not in the spec"
_REPORT = "please report it with the spec; nothing was written"


@dataclass(frozen=True)
class Compilation:
    analysis: Analysis
    definition: dict[str, Any] | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.definition is not None and not errors_in(self.problems)

    def json(self) -> str:
        """The definition as deterministic, readable JSON (for files and people)."""
        return json.dumps(self.definition or {}, indent=2, ensure_ascii=False) + "\n"

    def compact_json(self) -> str:
        """The definition as Step Functions receives it (and its size limit counts it)."""
        return compact(self.definition or {})


def compact(definition: dict[str, Any]) -> str:
    """Raises ValueError for infinity or NaN, which JSON (and so Step Functions) cannot hold."""
    return json.dumps(definition, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# The tasks the compiler adds itself, and the APIs their Parameters are for.
ADDED_TASK_APIS = {
    "arn:aws:states:::sns:publish": ("sns", "Publish"),
    "arn:aws:states:::aws-sdk:s3:getObject": ("s3", "GetObject"),
    "arn:aws:states:::aws-sdk:s3:headObject": ("s3", "HeadObject"),
}


def _check_added_tasks(definition: dict[str, Any], document: Any) -> list[Problem]:
    """Alert and report-reading tasks are checked against botocore like the steps' own."""
    problems = []
    for name, state in walk_states(definition):
        api = ADDED_TASK_APIS.get(state.get("Resource", ""))
        if api is None or "." not in name:
            continue
        for message in check_parameters(state.get("Parameters", {}), input_shape(*api)):
            step = name.split(".", 1)[0]
            problems.append(
                document.place(Problem(f"the {api[1]} request of {name} would be rejected: {message}", ("steps", step)))
            )
    return problems


def compile_analysis(analysis: Analysis) -> Compilation:
    if not analysis.ok:
        return Compilation(analysis, None, analysis.problems)
    workflow, plan, graph, document = analysis.workflow, analysis.plan, analysis.graph, analysis.document
    assert workflow is not None and plan is not None and graph is not None and document is not None
    requests: dict[str, dict[str, Any]] = {}
    problems = list(analysis.problems)
    for name, step in workflow.steps.items():
        kind = KINDS[step.type]
        if not step.is_task:
            continue
        requests[name] = kind.request(step, workflow)
        assert kind.api is not None
        run_time: list[RunTimeValue] = []
        for message in check_request(requests[name], input_shape(*kind.api), kind.json_members, run_time):
            problems.append(
                document.place(
                    Problem(
                        f"the {kind.api[1]} request would be rejected: {message}",
                        ("steps", name),
                        hint="fix the step's fields so the request fits the "
                        f"{kind.api[0]} API's {kind.api[1]} operation",
                    )
                )
            )
        problems += [document.place(problem) for problem in type_problems(run_time, step, workflow)]
    if errors_in(problems):
        return Compilation(analysis, None, tuple(problems))

    at_least = _size_at_least(plan, requests)
    if at_least > MAX_DEFINITION_BYTES:  # not worth building: falls back at once
        definition, built = None, [document.place(_too_large_problem(at_least, markers=True, lower_bound=True))]
    else:
        definition, built = _built(analysis, plan, requests)
    if definition is None and networks(plan.main) and _too_large(built):
        nested = make_plan(graph, nested=True)
        definition, fallback = _built(analysis, nested, requests)
        if definition is None:
            built = fallback  # the smallest definition sfn-build can make is too large too: say that one
        else:
            size = next(p for p in built if p.message.startswith(_TOO_LARGE)).message
            built = [
                document.place(
                    Problem(
                        f"{size.removesuffix('.')}; so this workflow uses Parallel states only, "
                        "and some steps also wait for steps they do not need",
                        ("steps",),
                        hint="split the workflow into nested workflows (`workflow` steps) to keep every step "
                        "waiting for exactly its needs",
                        severity=Severity.WARNING,
                    )
                ),
                *(document.place(problem) for problem in nested.problems()),
                *fallback,
            ]
    problems += built
    return Compilation(analysis, definition, tuple(problems))


# Fewer bytes than any wait for a need, and than the states of a step others wait for, take.
WAIT_BYTES_AT_LEAST = 500
SIGNAL_BYTES_AT_LEAST = 1000


def _size_at_least(plan: Plan, requests: dict[str, dict[str, Any]]) -> int:
    """A lower bound of a definition with completion markers (0 without): its requests and markers."""
    found = networks(plan.main)
    if not found:
        return 0
    waits = sum(len(needs) for network in found for needs in network.needs)
    signalling = sum(len({need for needs in network.needs for need in needs}) for network in found)
    requests_size = sum(len(compact(request)) for request in requests.values())
    return requests_size + WAIT_BYTES_AT_LEAST * waits + SIGNAL_BYTES_AT_LEAST * signalling


def _too_large_problem(size: int, *, markers: bool, lower_bound: bool = False) -> Problem:
    what = _TOO_LARGE if markers else "the state machine definition is"
    return Problem(
        f"{what} {'at least ' if lower_bound else ''}{size:,} bytes; Step Functions accepts at most "
        f"{MAX_DEFINITION_BYTES:,}.",
        ("steps",),
        hint="move part of the steps into another workflow and start it with a `workflow` step",
    )


_TOO_LARGE = "with completion markers, the state machine definition is"


def _too_large(problems: list[Problem]) -> bool:
    return any(problem.message.startswith(_TOO_LARGE) for problem in problems)


def _built(analysis: Analysis, plan: Plan, requests: dict[str, dict[str, Any]]) -> tuple[Any, list[Problem]]:
    """The definition of a plan (None when it cannot be built or is refused), and its problems."""
    from .build import build_definition  # imports the Step Functions SDK: only when compiling

    workflow, graph, document = analysis.workflow, analysis.graph, analysis.document
    assert workflow is not None and graph is not None and document is not None
    problems: list[Problem] = []
    try:
        definition = build_definition(workflow, plan, graph, requests)
    except RenderError as error:
        return None, [document.place(Problem(str(error), ("steps",)))]
    problems += _check_added_tasks(definition, document)
    problems += [
        document.place(Problem(f"{_BUG} ({finding})", ("steps",), hint=_REPORT)) for finding in asl_findings(definition)
    ]
    if errors_in(problems):
        return None, problems
    try:
        size = len(compact(definition).encode())
    except ValueError:
        return None, [document.place(Problem(f"{_BUG}: a number is infinite or NaN", ("steps",), hint=_REPORT))]
    if size > MAX_DEFINITION_BYTES:
        return None, [*problems, document.place(_too_large_problem(size, markers=bool(networks(plan.main))))]
    return definition, problems
