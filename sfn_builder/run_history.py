"""An execution, step by step, read from its history: when each step ran, how often, and how it ended.

A step's time runs from the first state of the step entered (its task, Map or
poll loop's Parallel state, its report states) to the last one exited; `<step>.resumed` makes it
`reused`, `<step>.cached` (a cache hit) `cached`. Attempts count the jobs the step's
task state started (retries included; for a `for_each` step, the jobs of every item). The job's name comes from the
request the task sent, its console and log links from the service it ran on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .deploy.alert_formatter import CONSOLE, log_link
from .history import state_of
from .model import Workflow
from .naming import REUSE_ROLES

_TIMED_ROLES = frozenset(
    {"", "each", "start", "report-size", "report-check", "report", "resumed", "cache", "cache-hit", "cached"}
)
_STARTING_ROLES = ("", "each", "start")  # the task that starts a step's job (`start`: of a step that polls)
_JOB_NAME_FIELDS = (
    "ProcessingJobName",
    "TrainingJobName",
    "HyperParameterTuningJobName",
    "TransformJobName",
    "ModelName",
    "PipelineExecutionDisplayName",
    "JobName",
    "Name",
)
_SAGEMAKER_PAGES = {
    "ProcessingJobName": ("processing-jobs", "/aws/sagemaker/ProcessingJobs"),
    "TrainingJobName": ("jobs", "/aws/sagemaker/TrainingJobs"),
    "HyperParameterTuningJobName": ("hyper-tuning-jobs", "/aws/sagemaker/TrainingJobs"),  # its jobs' logs
    "TransformJobName": ("transform-jobs", "/aws/sagemaker/TransformJobs"),
}


@dataclass
class StepRun:
    step: str
    status: str = "not run"  # succeeded | failed | caught | reused | cached | running | not run
    start: datetime | None = None
    end: datetime | None = None
    attempts: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # each job's start and end
    job: str | None = None
    links: list[str] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None

    @property
    def seconds(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None


def step_runs(workflow: Workflow, events: list[dict[str, Any]], region: str) -> list[StepRun]:
    """One `StepRun` per step of the workflow, in spec order (steps that never ran included)."""
    runs = {name: StepRun(name) for name in workflow.steps}
    by_id: dict[int, dict[str, Any]] = {}
    failure_paths: set[str] = set()  # steps whose compiler-made failure path (alert, fail) ran
    for event in events:
        by_id[event["id"]] = event
        when = _time(event["timestamp"])
        entered, exited = event.get("stateEnteredEventDetails"), event.get("stateExitedEventDetails")
        state = (entered or exited or {}).get("name") or state_of(event, by_id)
        step, _, role = state.partition(".")
        if entered and role in ("alert", "failed"):
            failure_paths.add(step)
        run = runs.get(step)
        if run is None or role not in _TIMED_ROLES:
            continue
        if entered and not role and workflow.steps[step].type == "succeed":
            run.start = run.end = when  # done when entered (inside parallel work, a Fail state: build's `succeed`)
            run.status = "succeeded"
        elif entered:
            run.start = run.start or when
            run.status = "running" if run.status in ("not run", "running") else run.status
        elif exited:
            run.end = when
            if role in REUSE_ROLES:
                run.status = REUSE_ROLES[role]
            elif run.status in ("running", "not run"):
                run.status = "succeeded"
            elif run.status == "failed":
                run.status = "caught"  # the error went on to a catch
        elif event["type"] == "TaskScheduled" and role in _STARTING_ROLES:
            run.attempts.append((when, None))
            _job(run, event["taskScheduledEventDetails"], region)
        elif event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut") and role in _STARTING_ROLES:
            if run.attempts:
                run.attempts[-1] = (run.attempts[-1][0], when)
            if event["type"] == "TaskSucceeded" and run.status == "failed":
                run.status = "running"  # a retry succeeded
            elif event["type"] != "TaskSucceeded":
                details = next(v for k, v in event.items() if k.endswith("EventDetails"))
                run.status, run.error, run.cause = "failed", details.get("error"), details.get("cause")
        elif event["type"].endswith(("Failed", "Aborted", "TimedOut")) and not event["type"].startswith("Execution"):
            if workflow.steps[step].type == "succeed":
                continue  # the Parallel state a succeed step ended (build's `succeed`): it did not fail
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            run.status = "failed"
            if details.get("error") or run.error is None:  # MapStateFailed names none: MapRunFailed did
                run.error, run.cause = details.get("error"), details.get("cause")
    for name in failure_paths & runs.keys():  # a block's shared failure path names no step
        if runs[name].status == "caught":  # by the compiler's catch-all: the step failed the run
            runs[name].status = "failed"
    return list(runs.values())


def _job(run: StepRun, details: dict[str, Any], region: str) -> None:
    """The job name and links from the request a task sent."""
    try:
        request = json.loads(details.get("parameters") or "{}")
    except ValueError:
        return
    name_field = next((f for f in _JOB_NAME_FIELDS if isinstance(request.get(f), str)), None)
    if name_field is None:
        return
    run.job = request[name_field]
    page = _SAGEMAKER_PAGES.get(name_field)
    if page is not None:
        run.links = [
            f"{CONSOLE}/sagemaker/home?region={region}#/{page[0]}/{run.job}",
            log_link(region, page[1], run.job),
        ]
    elif name_field == "JobName" and details.get("resourceType") == "batch":
        run.links = [f"{CONSOLE}/batch/home?region={region}#jobs"]


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
