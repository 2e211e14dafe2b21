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
from .problems import Problem, errors_in
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

    from .build import build_definition  # imports the Step Functions SDK: only when compiling

    try:
        definition = build_definition(workflow, plan, graph, requests)
    except RenderError as error:
        problems.append(document.place(Problem(str(error), ("steps",))))
        return Compilation(analysis, None, tuple(problems))
    problems += _check_added_tasks(definition, document)
    problems += [
        document.place(Problem(f"{_BUG} ({finding})", ("steps",), hint=_REPORT)) for finding in asl_findings(definition)
    ]
    if errors_in(problems):
        return Compilation(analysis, None, tuple(problems))
    try:
        size = len(compact(definition).encode())
    except ValueError:
        problems.append(document.place(Problem(f"{_BUG}: a number is infinite or NaN", ("steps",), hint=_REPORT)))
        return Compilation(analysis, None, tuple(problems))
    if size > MAX_DEFINITION_BYTES:
        problems.append(
            document.place(
                Problem(
                    f"the state machine definition is {size:,} bytes; Step Functions accepts at most "
                    f"{MAX_DEFINITION_BYTES:,}",
                    ("steps",),
                    hint="move part of the steps into another workflow and start it with a `workflow` step",
                )
            )
        )
        return Compilation(analysis, None, tuple(problems))
    return Compilation(analysis, definition, tuple(problems))
