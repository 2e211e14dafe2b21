"""`batch`: an AWS Batch job (submitJob.sync), array jobs included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..model import Step, Workflow
from ..problems import Problem
from .base import (
    Arns,
    JobEvents,
    ResultShape,
    StepKind,
    as_text,
    job_name,
    literal,
    require,
    statement,
    string_map,
    tag_map,
)
from .sagemaker_common import without_none

_REVISION = re.compile(r":\d+$")


class Batch(StepKind):
    type = "batch"
    resource = "arn:aws:states:::batch:submitJob.sync"
    api = ("batch", "SubmitJob")
    result = ResultShape("batch", "JobDetail", capitalize=True)
    summary = ("JobName", "JobId", "Status")
    has_result = True
    error_prefix = "Batch"
    general_error = "AWSBatchException"
    runs_job = True
    job_events = JobEvents(
        "aws.batch",
        "Batch Job State Change",
        "jobName",
        "status",
        {"Failed": "FAILED", "Completed": "SUCCEEDED"},  # Batch has no "stopped": a terminated job FAILED
        "statusReason",
        frozenset(),  # AWS does not document statusReason as always present
        "/batch/home?region=<region>#jobs/detail/<id>",
    )

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        return [
            # SubmitJob is authorised on the new job as well as on its queue and definition
            statement(
                ["batch:SubmitJob"],
                [arns.arn("batch", "job/*"), *_queue_arns(step, arns), *_definition_arns(step, arns)],
            ),
            statement(["batch:DescribeJobs"], ["*"]),  # DescribeJobs has no resource-level permissions
            statement(["batch:TerminateJob", "batch:TagResource"], [arns.arn("batch", "job/*")]),
            statement(
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                [arns.managed_rule("StepFunctionsGetEventsForBatchJobsRule")],
            ),
        ]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "job_queue", "job_definition")

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        overrides = without_none(
            {
                "Command": [as_text(c) for c in config["command"]] if config.get("command") else None,
                "Environment": [{"Name": k, "Value": as_text(v)} for k, v in config["env"].items()]
                if config.get("env")
                else None,
            }
        )
        return without_none(
            {
                "JobName": job_name(workflow, step),
                "JobQueue": config["job_queue"],
                "JobDefinition": config["job_definition"],
                "Parameters": string_map(config["parameters"]) if config.get("parameters") else None,
                "ArrayProperties": {"Size": config["array_size"]} if config.get("array_size") else None,
                "ContainerOverrides": overrides or None,
                "RetryStrategy": {"Attempts": config["attempts"]} if config.get("attempts") else None,
                "Tags": tag_map(workflow),
                "PropagateTags": True,
            }
        )


def _queue_arns(step: Step, arns: Arns) -> list[str]:
    queue = literal(step.config["job_queue"])
    if queue is None:
        return [arns.arn("batch", "job-queue/*")]
    return [queue if queue.startswith("arn:") else arns.arn("batch", f"job-queue/{queue}")]


def _definition_arns(step: Step, arns: Arns) -> list[str]:
    """The job definition as IAM evaluates SubmitJob: with its revision (any revision when none is named).

    The bare ARN is listed too, for policy linters whose service reference predates revisions.
    """
    definition = literal(step.config["job_definition"])
    if definition is None:
        return [arns.arn("batch", "job-definition/*")]
    if not definition.startswith("arn:"):
        definition = arns.arn("batch", f"job-definition/{definition}")
    revision = _REVISION.search(definition.rsplit("/", 1)[1])
    bare = definition[: -len(revision.group())] if revision else definition
    return [bare, definition if revision else f"{definition}:*"]
