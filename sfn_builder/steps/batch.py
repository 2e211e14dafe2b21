"""`batch`: an AWS Batch job (submitJob.sync), array jobs included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..allow_lists import values_of
from ..model import Step, Workflow
from ..problems import Problem
from .base import (
    Arns,
    JobEvents,
    ResultShape,
    StepKind,
    as_text,
    job_name,
    require,
    statement,
    string_map,
    tag_map,
)
from .sagemaker_common import without_none

_REVISION = re.compile(r":\d+\Z")


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
                [
                    arns.arn("batch", "job/*"),
                    *_queue_arns(step, workflow, arns),
                    *_definition_arns(step, workflow, arns),
                ],
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


def _queue_arns(step: Step, workflow: Workflow, arns: Arns) -> list[str]:
    return [
        queue if queue.startswith("arn:") else arns.arn("batch", f"job-queue/{queue}")
        for queue in values_of(step, "job_queue", workflow)
    ]


def _definition_arns(step: Step, workflow: Workflow, arns: Arns) -> list[str]:
    """The job definitions as IAM evaluates SubmitJob: with the revision (any revision when none is named).

    The bare ARN is listed too, for policy linters whose service reference predates revisions.
    """
    resources = []
    for definition in values_of(step, "job_definition", workflow):
        if not definition.startswith("arn:"):
            definition = arns.arn("batch", f"job-definition/{definition}")
        revision = _REVISION.search(definition.rsplit("/", 1)[1])
        bare = definition[: -len(revision.group())] if revision else definition
        resources += [bare, definition if revision else f"{definition}:*"]
    return resources
