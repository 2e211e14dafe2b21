"""`batch`: an AWS Batch job (submitJob.sync), array jobs included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import Step, Workflow
from ..problems import Problem
from .base import ResultShape, StepKind, as_text, job_name, require, string_map, tag_map
from .sagemaker_common import without_none


class Batch(StepKind):
    type = "batch"
    resource = "arn:aws:states:::batch:submitJob.sync"
    api = ("batch", "SubmitJob")
    result = ResultShape("batch", "JobDetail", capitalize=True)
    summary = ("JobName", "JobId", "Status")
    has_result = True
    runs_job = True

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
