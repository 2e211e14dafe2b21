"""Validate: a loaded spec -> model, step graph and plan, with every problem found.

The schema runs first; when the spec's shape is right, the meaning checks and
the planner run on the model. Problems come back placed (file:line:col) and
sorted; `Analysis.ok` says whether there is anything to compile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .checks import semantic_problems
from .collector import without_collections
from .graph import StepGraph
from .includes import load_spec
from .kept_results import kept_results_problems
from .loader import Document
from .model import Workflow, build_workflow
from .partial import about_set_aside, set_aside
from .plan import Plan, PlanTooDeep, make_plan
from .problems import Problem, SpecError, errors_in
from .schema import schema_problems
from .yaml_meaning import reread_problems


def _meaning_elsewhere(data: dict, errors: list[Problem]) -> list[Problem]:
    """The meaning problems of the parts of a spec whose shape is right (see `partial`)."""
    aside = set_aside(data, errors)
    if aside is None:
        return []
    cleaned, steps, sections = aside
    if errors_in(schema_problems(cleaned)):
        return []
    found, _ = semantic_problems(build_workflow(cleaned), cleaned)
    return [problem for problem in found if not about_set_aside(problem, steps, sections)]


@dataclass(frozen=True)
class Analysis:
    file: str
    document: Document | None
    workflow: Workflow | None
    graph: StepGraph | None
    plan: Plan | None
    problems: tuple[Problem, ...]
    # Every task step's request, built and checked here (compile reuses them).
    requests: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not errors_in(self.problems)


def analyze_file(path: str) -> Analysis:
    """Load and validate one spec file; never raises for bad input."""
    try:
        document = load_spec(path)
    except SpecError as error:
        return Analysis(path, None, None, None, None, tuple(error.problems))
    return analyze(document)


@without_collections()
def analyze(document: Document) -> Analysis:
    problems = [*schema_problems(document.data), *reread_problems(document)]
    workflow = graph = plan = None
    requests: dict[str, dict[str, Any]] = {}
    if not errors_in(problems) and "steps" not in document.data:  # `include:` instead, which added none
        problems.append(
            document.place(
                Problem(
                    "the workflow has no steps: neither this spec nor the files it includes define any",
                    ("include",),
                    hint="add steps here or to an included file",
                )
            )
        )
    if errors_in(problems):
        problems += _meaning_elsewhere(document.data, errors_in(problems))
    else:
        workflow = build_workflow(document.data, lambda step: os.path.dirname(document.file_of(("steps", step))))
        semantic, graph = semantic_problems(workflow, document.data)
        problems += semantic
        if graph is not None:
            try:
                plan = make_plan(graph)
                problems += plan.problems()
            except PlanTooDeep:
                problems.append(
                    Problem(
                        "the dependency graph nests parallel blocks too deeply to compile",
                        ("steps",),
                        hint="split the workflow into nested workflows (type: workflow steps)",
                    )
                )
        if not errors_in(problems):
            requests, found = _task_requests(workflow)
            problems += [*found, *kept_results_problems(workflow, plan, requests)]
    placed = sorted({document.place(p) for p in problems}, key=Problem.sort_key)  # a set: each problem once
    return Analysis(document.file, document, workflow, graph, plan, tuple(placed), requests)


def _task_requests(workflow: Workflow) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Every task step's request and what its API would refuse of it, as `compile` sends it: the
    steps' fields can make requests the API refuses too (an environment variable's name, a
    hyperparameter's length, the number of channels), not only `request:` members."""
    from .step_requests import step_request

    requests, problems = {}, []
    for step in workflow.steps.values():
        if step.is_task:
            requests[step.name], found = step_request(step, workflow)
            problems += found
    return requests, problems
