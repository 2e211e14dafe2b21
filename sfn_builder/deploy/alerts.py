"""Alert rules: which events become alerts, and the text people receive.

`on_execution` matches Step Functions' Execution Status Change events of this
state machine only; `on_jobs` matches the job-state change events of each kind
of job the workflow starts, by the job-name prefix of each step that starts
them (so another workflow's jobs never alert here). With the simple format an
input transformer writes the message; with the detailed one the event goes to
the alert formatter Lambda, which adds the job's failure reason and links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Workflow
from ..naming import job_prefix
from ..steps import KINDS
from ..steps.base import JobEvents

EXECUTION_SOURCE = "aws.states"
EXECUTION_DETAIL_TYPE = "Step Functions Execution Status Change"
_CONSOLE = "https://console.aws.amazon.com"


@dataclass(frozen=True)
class AlertRule:
    """One EventBridge rule: its name suffix, pattern, and (simple format) transformer."""

    suffix: str
    description: str
    pattern: dict[str, Any]
    transformer: dict[str, Any]


def alert_rules(workflow: Workflow, state_machine_arn: str) -> list[AlertRule]:
    notifications = workflow.notifications
    if notifications is None:
        return []
    rules = []
    if notifications.on_execution:
        rules.append(
            AlertRule(
                "execution-alerts",
                f"Alerts when an execution of {workflow.name} ends {', '.join(notifications.on_execution)}",
                {
                    "source": [EXECUTION_SOURCE],
                    "detail-type": [EXECUTION_DETAIL_TYPE],
                    "detail": {"stateMachineArn": [state_machine_arn], "status": list(notifications.on_execution)},
                },
                _execution_transformer(workflow),
            )
        )
    if notifications.on_jobs:
        for events, prefixes in _job_kinds(workflow).values():
            statuses = [events.statuses[s] for s in notifications.on_jobs if s in events.statuses]
            if not statuses:
                continue
            kind = events.detail_type.removesuffix(" State Change")  # "SageMaker Processing Job", "Batch Job"
            rules.append(
                AlertRule(
                    _slug(kind) + "-alerts",
                    f"Alerts when a {kind.lower()} of {workflow.name} ends {', '.join(statuses)}",
                    {
                        "source": [events.source],
                        "detail-type": [events.detail_type],
                        "detail": {
                            events.name_field: [{"prefix": p} for p in prefixes],
                            events.status_field: statuses,
                        },
                    },
                    _job_transformer(workflow, events, kind),
                )
            )
    return rules


def _job_kinds(workflow: Workflow) -> dict[str, tuple[JobEvents, list[str]]]:
    """Each kind of job event the workflow's steps emit (by detail-type), with their job-name prefixes."""
    kinds: dict[str, tuple[JobEvents, list[str]]] = {}
    for step in workflow.steps.values():
        events = KINDS[step.type].job_events
        if events is not None:
            kinds.setdefault(events.detail_type, (events, []))[1].append(job_prefix(workflow.name, step.name) + "-")
    return kinds


def _execution_transformer(workflow: Workflow) -> dict[str, Any]:
    paths = {
        "execution": "$.detail.name",
        "status": "$.detail.status",
        "error": "$.detail.error",
        "cause": "$.detail.cause",
        "arn": "$.detail.executionArn",
        "time": "$.time",
        "region": "$.region",
    }
    text = (
        f"sfn-build: the execution <execution> of workflow {workflow.name} ended <status> at <time>. "
        f"Error: <error>. Cause: <cause>. "
        f"Execution: {_CONSOLE}/states/home?region=<region>#/v2/executions/details/<arn>"
    )
    return {"InputPathsMap": paths, "InputTemplate": f'"{text}"'}


def _job_transformer(workflow: Workflow, events: JobEvents, kind: str) -> dict[str, Any]:
    paths = {
        "job": f"$.detail.{events.name_field}",
        "status": f"$.detail.{events.status_field}",
        "reason": f"$.detail.{events.reason_field}",
        "time": "$.time",
        "region": "$.region",
    }
    if events.source == "aws.batch":
        paths["id"] = "$.detail.jobId"
        link = f"{_CONSOLE}/batch/home?region=<region>#jobs/detail/<id>"
    else:
        page = _slug(kind.removeprefix("SageMaker ")) + "s"  # processing-jobs, training-jobs, transform-jobs
        link = f"{_CONSOLE}/sagemaker/home?region=<region>#/{page}/<job>"
    text = (
        f"sfn-build: the {kind.lower()} <job> of workflow {workflow.name} ended <status> at <time>. "
        f"Reason: <reason>. Job: {link}"
    )
    return {"InputPathsMap": paths, "InputTemplate": f'"{text}"'}


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")
