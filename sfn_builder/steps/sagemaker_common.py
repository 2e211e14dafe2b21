"""Pieces every SageMaker step shares: image, role, instances, VPC, environment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..allow_lists import values_of
from ..model import Step, Workflow
from ..naming import job_prefix
from ..problems import Problem, Severity, did_you_mean
from ..service_models import instance_types
from .base import Arns, StepKind, check_role, literal, statement, string_map

_KMS_KEY = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[\w/+=,.@\-]+|"
    r"arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:(key/[\w\-]+|alias/[\w/+=,.@\-]+))\Z"
)
MAX_TRAINING_RUNTIME = 28 * 24 * 3600  # SageMaker's default quota for one training job's MaxRuntimeInSeconds
_IMAGE = re.compile(r"^[\w.\-]+(:\d+)?/[\w.\-/]+(:[\w.\-]+|@sha256:[a-f0-9]{64})?\Z")


def check_common(kind: StepKind, step: Step) -> Iterator[Problem]:
    """Checks of the fields `defaults.sagemaker` may supply."""
    config = step.config
    if "role" in config:
        yield from check_role(config["role"], kind.field_path(step, "role"), "SageMaker role")
    image = literal(config.get("image"))
    if image is not None and not _IMAGE.match(image):
        yield Problem(
            f"{image!r} is not a container image URI",
            kind.field_path(step, "image"),
            hint="write <registry>/<repository>:<tag>, e.g. 111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn:1.4.0",
        )
    instance_type = literal(config.get("instance_type"))
    if instance_type is not None and step.type in ("processing", "training", "tuning", "transform", "endpoint"):
        allowed = instance_types(step.type)
        what = "endpoints" if step.type == "endpoint" else f"{step.type} jobs"
        if instance_type not in allowed:
            yield Problem(
                f"{instance_type!r} is not an instance type for {what}",
                kind.field_path(step, "instance_type"),
                hint=did_you_mean(instance_type, allowed)
                or f"see the {len(allowed)} types SageMaker lists for {what} (e.g. {allowed[0]})",
            )
    for use, key in (config.get("kms") or {}).items():
        text = literal(key)
        if text is not None and not _KMS_KEY.match(text):
            yield Problem(
                f"{key!r} is not a KMS key",
                (*kind.field_path(step, "kms"), use),
                hint="write a key ID, a key ARN, alias/NAME or an alias ARN",
            )
    max_runtime = config.get("max_runtime")
    if max_runtime is not None:
        yield from _max_runtime_problems(kind, step, max_runtime)


def _max_runtime_problems(kind: StepKind, step: Step, max_runtime: Any) -> Iterator[Problem]:
    """A job's max_runtime past SageMaker's default quota, or past the step's own timeout."""
    from ..durations import format_duration, parse_duration

    seconds = parse_duration(max_runtime)
    if step.type in ("training", "tuning") and seconds > MAX_TRAINING_RUNTIME:
        yield Problem(
            f"max_runtime ({format_duration(seconds)}) is longer than the 28 days SageMaker lets a training job "
            "run by default: it refuses the job unless the account's quota was raised",
            kind.field_path(step, "max_runtime"),
            hint="lower max_runtime to 28d or less (checkpoint and resume in another step), or ask AWS to raise "
            "the quota 'Longest run time for a training job'",
            severity=Severity.WARNING,
        )
    if step.timeout is not None and seconds > step.timeout:
        yield Problem(
            f"max_runtime ({format_duration(seconds)}) is longer than the step's "
            f"timeout ({format_duration(step.timeout)}): the step times out before the job is stopped",
            kind.field_path(step, "max_runtime"),
            hint="raise the step's timeout, or lower max_runtime",
            severity=Severity.WARNING,
        )


def job_arns(arns: Arns, resource_type: str, prefix: str) -> list[str]:
    """ARNs of the jobs a step starts: its job-name prefix (lowercase, as SageMaker writes names in ARNs)."""
    return [arns.arn("sagemaker", f"{resource_type}/{prefix}-*")]


def job_statements(
    arns: Arns,
    workflow: Workflow,
    step: Step,
    resource_type: str,
    job: str,
    managed_rule: str,
    prefix: str | None = None,
) -> list[dict[str, Any]]:
    """Start, watch and stop one kind of SageMaker job (named `prefix`-..., by default the step's job
    prefix), tag it, and pass the step's role to SageMaker."""
    resources = job_arns(arns, resource_type, prefix or job_prefix(workflow.name, step.name))
    statements = [
        statement(
            [f"sagemaker:Create{job}", f"sagemaker:Describe{job}", f"sagemaker:Stop{job}", "sagemaker:AddTags"],
            resources,
        ),
        statement(["sagemaker:ListTags"], ["*"]),  # as in every policy AWS generates for SageMaker tasks
        statement(["events:PutTargets", "events:PutRule", "events:DescribeRule"], [arns.managed_rule(managed_rule)]),
    ]
    statements.extend(pass_role(step, workflow))
    return statements


def pass_role(step: Step, workflow: Workflow) -> list[dict[str, Any]]:
    """Pass the step's role (each role its input's `enum` allows) to SageMaker, and nothing else."""
    if not step.config.get("role"):
        return []
    condition = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    return [statement(["iam:PassRole"], values_of(step, "role", workflow), condition)]


def max_runtime_seconds(step: Step) -> int:
    from ..durations import parse_duration

    runtime = step.config.get("max_runtime")
    return parse_duration(runtime) if runtime is not None else int(step.timeout or 86400)


def vpc_config(step: Step) -> dict[str, Any] | None:
    network = step.config.get("network")
    if not network:
        return None
    return {"SecurityGroupIds": list(network["security_groups"]), "Subnets": list(network["subnets"])}


def kms_key(step: Step, use: str) -> str | None:
    """The KMS key of the step's `kms.volume` or `kms.output`."""
    return (step.config.get("kms") or {}).get(use)


def network_isolation(step: Step) -> bool | None:
    """EnableNetworkIsolation: written when the spec asks for it."""
    return True if step.config.get("network_isolation") else None


def environment(step: Step) -> dict[str, Any] | None:
    env = step.config.get("env")
    return string_map(env) if env else None


def without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    """The mapping without members that are None (absent from the request)."""
    return {key: value for key, value in mapping.items() if value is not None}
