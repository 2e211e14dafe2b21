"""Alert formatter: turns a job-state or execution event into a detailed alert.

Deployed by `sfn-build create` when a spec sets `notifications.format: detailed`;
the workflow's EventBridge rules send their events here instead of straight to
the topic. For a SageMaker job it adds the job's FailureReason and the
ExitMessage its container wrote to /opt/ml/output/message; for a SageMaker
pipeline execution or endpoint its FailureReason; for a Batch job the
status reason, exit code and log stream; for an execution the error and cause;
and links to the console and the logs. Then it publishes to the topic.

Environment: TOPIC_ARN (where to publish) and WORKFLOW (the workflow's name).
Runs on the Lambda Python runtime with nothing but boto3.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

CONSOLE = "https://console.aws.amazon.com"
SAGEMAKER_JOBS = {  # detail-type -> (the job's kind in API names, console page, log group)
    "SageMaker Processing Job State Change": ("Processing", "processing-jobs", "/aws/sagemaker/ProcessingJobs"),
    "SageMaker Training Job State Change": ("Training", "jobs", "/aws/sagemaker/TrainingJobs"),
    "SageMaker Transform Job State Change": ("Transform", "transform-jobs", "/aws/sagemaker/TransformJobs"),
    # a tuning job's logs are its training jobs', whose names start with its own
    "SageMaker HyperParameter Tuning Job State Change": (
        "HyperParameterTuning",
        "hyper-tuning-jobs",
        "/aws/sagemaker/TrainingJobs",
    ),
}
PIPELINE_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
ENDPOINT_EVENT = "SageMaker Endpoint State Change"
_WORDS = re.compile(r"(?<=[a-z])(?=[A-Z])")
SUBJECT_LIMIT = 100

Describe = Callable[[str, str], dict[str, Any]]  # (kind, job name) -> Describe*Job response
DescribeExecution = Callable[[str], dict[str, Any]]  # execution ARN -> DescribeExecution response
_STEP_ERROR = re.compile(r"^(?P<step>[A-Za-z0-9_\-]+)\.(Failed|unmatched)$")  # the workflow's own failure errors
_ENDINGS = {
    "TIMED_OUT": "It ran longer than the state machine's timeout.",
    "ABORTED": "It was stopped (StopExecution, or the console's Stop button).",
}


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """The Lambda entry point."""
    import boto3

    sagemaker = boto3.client("sagemaker")

    def describe(kind: str, name: str) -> dict[str, Any]:
        if kind == "PipelineExecution":  # named by its ARN
            return sagemaker.describe_pipeline_execution(PipelineExecutionArn=name)
        if kind == "Endpoint":
            return sagemaker.describe_endpoint(EndpointName=name)
        method = _WORDS.sub("_", kind).lower()  # HyperParameterTuning: describe_hyper_parameter_tuning_job
        return getattr(sagemaker, f"describe_{method}_job")(**{f"{kind}JobName": name})

    def describe_execution(arn: str) -> dict[str, Any]:
        return boto3.client("stepfunctions").describe_execution(executionArn=arn)

    subject, message = format_alert(event, os.environ["WORKFLOW"], describe, describe_execution)
    boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Subject=subject, Message=message)
    return {"subject": subject}


def format_alert(
    event: dict[str, Any], workflow: str, describe: Describe, describe_execution: DescribeExecution | None = None
) -> tuple[str, str]:
    """(subject, message) for an EventBridge event of an execution, a SageMaker job or a Batch job."""
    detail_type = event.get("detail-type", "")
    if detail_type in SAGEMAKER_JOBS:
        return _sagemaker(event, workflow, describe)
    if detail_type == PIPELINE_EVENT:
        return _pipeline(event, workflow, describe)
    if detail_type == ENDPOINT_EVENT:
        return _endpoint(event, workflow, describe)
    if detail_type == "Batch Job State Change":
        return _batch(event, workflow)
    return _execution(event, workflow, describe_execution)


def _execution(event: dict[str, Any], workflow: str, describe_execution: DescribeExecution | None) -> tuple[str, str]:
    """An execution's end; its error and cause come from the event, or else from DescribeExecution."""
    detail, region = event.get("detail", {}), event.get("region", "")
    name, status, arn = detail.get("name", "?"), detail.get("status", "?"), detail.get("executionArn", "")
    error, cause = detail.get("error"), detail.get("cause")
    if not (error or cause) and describe_execution is not None and arn:
        try:
            described = describe_execution(arn)
            error, cause = described.get("error"), described.get("cause")
        except Exception:  # the alert matters more than its details
            pass
    lines = [f"The execution {name} of workflow {workflow} ended {status} at {event.get('time', '?')}."]
    step = _STEP_ERROR.match(error or "")
    if step:
        lines.append(f"Step: {step.group('step')}")
    if error:
        lines.append(f"Error: {error}")
    if cause:
        lines.append(f"Cause: {_cause(cause)}")
    if status in _ENDINGS:
        lines.append(_ENDINGS[status])
    elif not error:
        lines.append("The error is not known yet: the execution's page shows it.")
    lines.append(f"Execution: {CONSOLE}/states/home?region={region}#/v2/executions/details/{arn}")
    return _subject(f"{workflow}: execution {status}"), "\n".join(lines)


def _sagemaker(event: dict[str, Any], workflow: str, describe: Describe) -> tuple[str, str]:
    kind, page, log_group = SAGEMAKER_JOBS[event["detail-type"]]
    detail, region = event.get("detail", {}), event.get("region", "")
    name = detail.get(f"{kind}JobName", "?")
    status = detail.get(f"{kind}JobStatus", "?")
    try:
        job = describe(kind, name)
    except Exception as error:  # the alert matters more than its details
        job = {"FailureReason": detail.get("FailureReason"), "_describe_error": str(error)}
    lines = [
        f"The SageMaker {_noun(kind)} job {name} of workflow {workflow} ended {status} at {event.get('time', '?')}.",
        f"Failure reason: {job.get('FailureReason') or detail.get('FailureReason') or '-'}",
    ]
    if job.get("ExitMessage"):
        lines.append(f"Exit message: {job['ExitMessage']}")
    if job.get("_describe_error"):
        lines.append(f"(The job could not be described: {job['_describe_error']})")
    lines += [
        f"Job: {CONSOLE}/sagemaker/home?region={region}#/{page}/{name}",
        f"Logs: {log_link(region, log_group, name)}",
    ]
    return _subject(f"{workflow}: {_noun(kind)} job {status}"), "\n".join(lines)


def _pipeline(event: dict[str, Any], workflow: str, describe: Describe) -> tuple[str, str]:
    """A pipeline execution a `pipeline` step started; its failure reason comes from DescribePipelineExecution."""
    detail, region = event.get("detail", {}), event.get("region", "")
    name = detail.get("pipelineExecutionDisplayName", "?")
    status = detail.get("currentPipelineExecutionStatus", "?")
    arn = detail.get("pipelineExecutionArn", "")
    try:
        reason = describe("PipelineExecution", arn).get("FailureReason") if arn else None
    except Exception as error:  # the alert matters more than its details
        reason = f"(the execution could not be described: {error})"
    pipeline = detail.get("pipelineArn", "").rsplit("/", 1)[-1] or "?"
    lines = [
        f"The SageMaker pipeline execution {name} (pipeline {pipeline}) of workflow {workflow} ended {status} "
        f"at {event.get('time', '?')}.",
        f"Failure reason: {reason or '-'}",
        f"Execution: {arn or '?'}",
        f"Pipelines: {CONSOLE}/sagemaker/home?region={region}#/pipelines",
    ]
    return _subject(f"{workflow}: pipeline execution {status}"), "\n".join(lines)


def _endpoint(event: dict[str, Any], workflow: str, describe: Describe) -> tuple[str, str]:
    """An endpoint an `endpoint` step deploys to; its failure reason comes from DescribeEndpoint."""
    detail, region = event.get("detail", {}), event.get("region", "")
    name, status = detail.get("EndpointName", "?"), detail.get("EndpointStatus", "?")
    try:
        reason = describe("Endpoint", name).get("FailureReason") if name != "?" else None
    except Exception as error:  # the alert matters more than its details
        reason = f"(the endpoint could not be described: {error})"
    lines = [
        f"The SageMaker endpoint {name} of workflow {workflow} is {status} since {event.get('time', '?')} "
        f"(configuration {detail.get('EndpointConfigName', '?')}).",
        f"Failure reason: {reason or '-'}",
        f"Endpoint: {CONSOLE}/sagemaker/home?region={region}#/endpoints/{name}",
    ]
    return _subject(f"{workflow}: endpoint {status}"), "\n".join(lines)


def _noun(kind: str) -> str:
    """`processing`, `training`, `hyperparameter tuning`: the job's kind in words."""
    return _WORDS.sub(" ", kind).lower().replace("hyper parameter", "hyperparameter")


def _batch(event: dict[str, Any], workflow: str) -> tuple[str, str]:
    detail, region = event.get("detail", {}), event.get("region", "")
    container = detail.get("container", {}) or {}
    name, status = detail.get("jobName", "?"), detail.get("status", "?")
    lines = [
        f"The Batch job {name} of workflow {workflow} ended {status} at {event.get('time', '?')}.",
        f"Status reason: {detail.get('statusReason') or '-'}",
    ]
    if container.get("reason"):
        lines.append(f"Container: {container['reason']}")
    if container.get("exitCode") is not None:
        lines.append(f"Exit code: {container['exitCode']}")
    lines.append(f"Job: {CONSOLE}/batch/home?region={region}#jobs/detail/{detail.get('jobId', '')}")
    if container.get("logStreamName"):
        lines.append(f"Logs: {log_link(region, '/aws/batch/job', container['logStreamName'])}")
    return _subject(f"{workflow}: batch job {status}"), "\n".join(lines)


def _cause(cause: Any) -> str:
    """An execution's cause is often JSON (a job's Describe response): show its reason."""
    if not cause:
        return "-"
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        return str(cause)
    if isinstance(parsed, dict):
        for key in ("FailureReason", "errorMessage", "StatusReason", "statusReason", "Cause"):
            if parsed.get(key):
                return str(parsed[key])
    return str(cause)


def log_link(region: str, group: str, stream_prefix: str) -> str:
    """The CloudWatch console's link to a log group's streams that start with `stream_prefix`.

    The console encodes names twice and the query once, with `$` for `%`.
    """

    def twice(text: str) -> str:
        return quote(quote(text, safe=""), safe="").replace("%", "$")

    query = f"$3FlogStreamNameFilter$3D{twice(stream_prefix)}"
    return f"{CONSOLE}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{twice(group)}{query}"


def _subject(text: str) -> str:
    subject = "sfn-build: " + text
    return subject if len(subject) <= SUBJECT_LIMIT else subject[: SUBJECT_LIMIT - 3] + "..."
