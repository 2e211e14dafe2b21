"""`pipeline`: run a SageMaker Pipelines pipeline and wait for it (StartPipelineExecution, then polls).

Step Functions has no `.sync` integration for pipelines: the step starts the
execution through the AWS SDK integration and then asks how it goes every `poll`
(module `poll_states`). The pipeline is the team's own (made by the SageMaker
SDK, Studio or CloudFormation): it must exist; `delete` never touches it. Its
executions are named like the workflow's jobs (the display name), which the
alerts on its status events match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..model import Step, Workflow
from ..problems import Problem
from .base import (
    JOB_NAME_OWNED,
    Arns,
    Expr,
    JobEvents,
    ResultShape,
    StepKind,
    as_text,
    job_name,
    literal,
    statement,
)
from .polling import Polling, check_polling
from .sagemaker_common import without_none

POLL_TOKEN = "$.poll.token"  # set once per run of the step: a retried start call starts no second execution
STARTED_ARN = "$.poll.started.PipelineExecutionArn"
DESCRIBE = "arn:aws:states:::aws-sdk:sagemaker:describePipelineExecution"
STOP = "arn:aws:states:::aws-sdk:sagemaker:stopPipelineExecution"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}\Z")
_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:([a-z0-9\-]+):(\d{12}):pipeline/([a-zA-Z0-9](-*[a-zA-Z0-9]){0,255})\Z")
_PARAMETER = re.compile(r"^[A-Za-z0-9\-_]{1,256}\Z")


class Pipeline(StepKind):
    type = "pipeline"
    resource = "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution"
    api = ("sagemaker", "StartPipelineExecution")
    result = ResultShape("sagemaker", "DescribePipelineExecutionResponse")
    summary = ("PipelineExecutionArn", "PipelineExecutionStatus")
    has_result = True
    runs_job = False
    error_prefix = "SageMaker"
    general_error = "SageMakerException"
    owned_members = MappingProxyType(
        {
            "PipelineName": "write the pipeline as the step's `pipeline:`",
            "PipelineExecutionDisplayName": JOB_NAME_OWNED,
            "ClientRequestToken": "sfn-build sets it once per run of the step, so that a retried call starts no "
            "second execution",
        }
    )
    polling = Polling(
        started={"PipelineExecutionArn": "$.PipelineExecutionArn"},
        describe=DESCRIBE,
        status="PipelineExecutionStatus",
        succeeded=("Succeeded",),
        failed={"Failed": "PipelineExecutionFailed", "Stopped": "PipelineExecutionStopped"},
        stop=(STOP, {"PipelineExecutionArn": STARTED_ARN, "ClientRequestToken": POLL_TOKEN}),
        timed_out="PipelineExecutionTimedOut",
        noun="pipeline execution",
    )
    calls = MappingProxyType(
        {DESCRIBE: ("sagemaker", "DescribePipelineExecution"), STOP: ("sagemaker", "StopPipelineExecution")}
    )
    job_events = JobEvents(
        "aws.sagemaker",
        "SageMaker Model Building Pipeline Execution Status Change",
        "pipelineExecutionDisplayName",
        "currentPipelineExecutionStatus",
        {"Failed": "Failed", "Stopped": "Stopped", "Completed": "Succeeded"},
        "",
        frozenset(),  # AWS documents no failure reason in these events
        "/sagemaker/home?region=<region>#/pipelines",
    )

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        pipeline = pipeline_arn(step.config["pipeline"], arns)
        return [
            statement(["sagemaker:StartPipelineExecution"], [pipeline]),
            statement(
                ["sagemaker:DescribePipelineExecution", "sagemaker:StopPipelineExecution"],
                [f"{pipeline}/execution/*"],
            ),
        ]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        base = ("steps", step.name)
        pipeline = literal(step.config.get("pipeline"))
        if pipeline is None:
            yield Problem(
                "the pipeline is named in the spec, not by a template: the policy grants starting that pipeline",
                (*base, "pipeline"),
                hint="write the pipeline's name (or ARN)",
            )
        elif not (_NAME.match(pipeline) or _ARN.match(pipeline)):
            yield Problem(
                f"{pipeline!r} is not a SageMaker pipeline's name or ARN",
                (*base, "pipeline"),
                hint="a pipeline's name is 1-256 letters, digits and hyphens (its ARN ends in pipeline/NAME)",
            )
        for name in step.config.get("parameters") or {}:
            if not _PARAMETER.match(name):
                yield Problem(
                    f"{name!r} is not a pipeline parameter's name (letters, digits, '-' and '_')",
                    (*base, "parameters", name),
                    on_key=True,
                )
        yield from check_polling(step)

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        parameters = [
            {"Name": name, "Value": as_text(value)} for name, value in (config.get("parameters") or {}).items()
        ]
        return without_none(
            {
                "PipelineName": config.get("pipeline"),
                "PipelineExecutionDisplayName": job_name(workflow, step),
                "PipelineExecutionDescription": config.get("description"),
                "PipelineParameters": parameters or None,
                "ClientRequestToken": Expr(POLL_TOKEN),
            }
        )

    def describe_parameters(self, step: Step) -> dict[str, Any]:
        return {"PipelineExecutionArn": Expr(STARTED_ARN)}


def pipeline_arn(pipeline: str, arns: Arns) -> str:
    """The pipeline's ARN, given its name or ARN (SageMaker writes names in ARNs in lower case)."""
    match = _ARN.match(pipeline)
    if match:
        return pipeline[: match.start(3)] + match.group(3).lower()
    return arns.arn("sagemaker", f"pipeline/{pipeline.lower()}")
