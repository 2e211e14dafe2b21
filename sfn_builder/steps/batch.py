"""`batch`: an AWS Batch job (submitJob.sync), array jobs included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..allow_lists import values_of
from ..model import Step, Workflow
from ..naming import secrets_definition
from ..problems import Problem
from .base import (
    JOB_NAME_OWNED,
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

_REVISION = re.compile(r":\d+\Z")
# SubmitJob's jobQueue and jobDefinition: a name (with a revision, for a definition) or an ARN.
_NAME = r"[A-Za-z0-9_\-]{1,128}"
_BATCH_ARN = r"arn:aws[a-z\-]*:batch:[a-z0-9\-]+:\d{12}:"
_QUEUE = re.compile(rf"^({_NAME}|{_BATCH_ARN}job-queue/{_NAME})\Z")
_DEFINITION = re.compile(rf"^({_NAME}|{_BATCH_ARN}job-definition/{_NAME})(:[1-9][0-9]*)?\Z")
MIN_MEMORY_MIB = 4  # what Batch accepts for a container's MEMORY requirement
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?) ?(MiB|GiB)\Z")  # as the schema allows


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
    owned_members = MappingProxyType(
        {
            "JobName": JOB_NAME_OWNED,
            "JobQueue": "write the queue as the step's `job_queue:`: the policy allows that queue",
            "JobDefinition": "write it as the step's `job_definition:`: the policy allows that job definition",
        }
    )
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
        yield from _names(step)
        yield from _reserved_variables(step)
        yield from _secret_problems(step)
        memory = _mebibytes((step.config.get("resources") or {}).get("memory"))
        if memory is not None and memory < MIN_MEMORY_MIB:
            yield Problem(
                f"resources.memory is {memory} MiB; a Batch container needs at least {MIN_MEMORY_MIB} MiB",
                ("steps", step.name, "resources", "memory"),
                hint="write it in MiB (2048) or with a unit (16 GiB)",
            )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        overrides = without_none(
            {
                "Command": [as_text(c) for c in config["command"]] if config.get("command") else None,
                "Environment": [{"Name": k, "Value": as_text(v)} for k, v in config["env"].items()]
                if config.get("env")
                else None,
                "ResourceRequirements": resource_requirements(config.get("resources")),
            }
        )
        return without_none(
            {
                "JobName": job_name(workflow, step),
                "JobQueue": config["job_queue"],
                "JobDefinition": secrets_definition(workflow.name, step.name)
                if config.get("secrets")
                else config["job_definition"],
                "Parameters": string_map(config["parameters"]) if config.get("parameters") else None,
                "ArrayProperties": {"Size": config["array_size"]} if config.get("array_size") else None,
                "ContainerOverrides": overrides or None,
                "RetryStrategy": {"Attempts": config["attempts"]} if config.get("attempts") else None,
                "Tags": tag_map(workflow),
                "PropagateTags": True,
            }
        )


def _reserved_variables(step: Step) -> Iterator[Problem]:
    """Batch sets the variables whose names start with AWS_BATCH itself, and refuses a job that sets one."""
    for field in ("env", "secrets"):
        for name in step.config.get(field) or {}:
            if name.startswith("AWS_BATCH"):
                yield Problem(
                    f"the variable {name!r} starts with AWS_BATCH, which Batch keeps for the variables it sets",
                    ("steps", step.name, field, name),
                    hint="rename it",
                    on_key=True,
                )


def _names(step: Step) -> Iterator[Problem]:
    """The queue and job definition as SubmitJob takes them (templated ones are checked by their values)."""
    queue, definition = literal(step.config.get("job_queue")), literal(step.config.get("job_definition"))
    if queue and not _QUEUE.match(queue):
        yield Problem(
            f"{queue!r} is not a Batch job queue name or ARN",
            ("steps", step.name, "job_queue"),
            hint="write the queue's name (1-128 of A-Za-z0-9-_) or its ARN (arn:aws:batch:REGION:ACCOUNT:job-queue/Q)",
        )
    if definition and not _DEFINITION.match(definition):
        yield Problem(
            f"{definition!r} is not a Batch job definition name, name:revision or ARN",
            ("steps", step.name, "job_definition"),
            hint="write e.g. churn-features:3 (the revision a whole number), churn-features, or the definition's ARN",
        )


def resource_requirements(resources: dict[str, Any] | None) -> list[dict[str, str]] | None:
    """`resources: {vcpus, memory, gpus}` as the container's resourceRequirements (memory in MiB)."""
    if not resources:
        return None
    memory = _mebibytes(resources.get("memory"))
    values = {"VCPU": resources.get("vcpus"), "MEMORY": memory, "GPU": resources.get("gpus")}
    return [{"Type": kind, "Value": as_text(value)} for kind, value in values.items() if value is not None]


def _mebibytes(memory: float | str | None) -> int | None:
    """Memory as MiB: a number is MiB already (`2048.0` too, a whole number to JSON Schema); "16 GiB",
    "512MiB" are converted."""
    if memory is None:
        return None
    if isinstance(memory, int | float):
        return int(memory)
    number, unit = _MEMORY.match(memory).groups()
    return round(float(number) * (1024 if unit == "GiB" else 1))


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
    written = [secrets_definition(workflow.name, step.name)] if step.config.get("secrets") else None
    for definition in written or values_of(step, "job_definition", workflow):
        if not definition.startswith("arn:"):
            definition = arns.arn("batch", f"job-definition/{definition}")
        revision = _REVISION.search(definition.rsplit("/", 1)[1])
        bare = definition[: -len(revision.group())] if revision else definition
        resources += [bare, definition if revision else f"{definition}:*"]
    return resources


# A secret's ARN (with an optional :json-key:version-stage:version-id), or an SSM parameter's ARN or name.
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z\-]*:secretsmanager:[a-z0-9\-]+:\d{12}:secret:[A-Za-z0-9/_+=.@\-]+(:[^:]*){0,3}\Z"
)
_PARAMETER = re.compile(r"^(arn:aws[a-z\-]*:ssm:[a-z0-9\-]+:\d{12}:parameter)?/?[A-Za-z0-9_.\-/]{1,2048}\Z")


def _secret_problems(step: Step) -> Iterator[Problem]:
    """Secrets come from a literal job definition, each from a secret or a parameter, named once."""
    secrets = step.config.get("secrets") or {}
    if not secrets:
        return
    base = ("steps", step.name)
    if literal(step.config.get("job_definition")) is None and "job_definition" in step.config:
        yield Problem(
            "secrets: are added to a copy of the job definition that create registers, so it is named in the "
            "spec, not by a template",
            (*base, "job_definition"),
            hint="write the job definition's name or ARN",
        )
    for name, source in secrets.items():
        where = (*base, "secrets", name)
        text = literal(source)
        if text is None:
            yield Problem("a secret is named in the spec, not by a template", where, hint="write its ARN or name")
        elif not (_SECRET_ARN.match(text) or _PARAMETER.match(text)):
            yield Problem(
                f"{text!r} is not a Secrets Manager secret's ARN nor an SSM parameter's name or ARN",
                where,
                hint="write arn:aws:secretsmanager:<region>:<account>:secret:<name> or /path/to/parameter",
            )
        if name in (step.config.get("env") or {}):
            yield Problem(
                f"{name} is set both in env and in secrets",
                where,
                hint="keep one of them",
                on_key=True,
            )
        if name.startswith("AWS_BATCH"):
            yield Problem(f"{name} is a name AWS Batch reserves", where, hint="rename the variable", on_key=True)
