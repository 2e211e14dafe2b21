"""`register`: a model version in a SageMaker Model Registry group (CreateModelPackage; returns at once).

The SageMaker SDK's `model.register(model_package_group_name=..., approval_status=...,
model_metrics=...)` as a step, through Step Functions' AWS SDK integration. The group
must exist (it is the registry's, not the workflow's: `delete` never touches it). A
package in a group takes the group's tags, so none are sent. One execution registers
once: the client token is the execution's, so a retried call does not add a second version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..model import Step, Workflow
from ..problems import Problem
from .base import EXECUTION_TAG, Arns, ResultShape, StepKind, check_s3_uri, literal, require, statement
from .sagemaker_common import environment, without_none

APPROVALS = {"pending": "PendingManualApproval", "approved": "Approved", "rejected": "Rejected"}
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package-group/(.+)$")


def group_name(value: str) -> str:
    """The group's name, given its name or ARN."""
    match = _GROUP_ARN.match(value)
    return match.group(1) if match else value


class Register(StepKind):
    type = "register"
    resource = "arn:aws:states:::aws-sdk:sagemaker:createModelPackage"
    api = ("sagemaker", "CreateModelPackage")
    result = ResultShape("sagemaker", "CreateModelPackageOutput")
    summary = ("ModelPackageArn",)
    has_result = True
    error_prefix = "SageMaker"
    general_error = "SageMakerException"
    owned_members = MappingProxyType({"ModelPackageGroupName": "write the group as the step's `group:`"})

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        group = group_name(step.config["group"])
        resources = [
            arns.arn("sagemaker", f"model-package-group/{group}"),
            arns.arn("sagemaker", f"model-package/{group.lower()}/*"),  # its versions: <group>/<number>
        ]
        return [statement(["sagemaker:CreateModelPackage"], resources)]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "group", "model_data", "image")
        base = ("steps", step.name)
        group = literal(step.config.get("group"))
        if group is not None and not _GROUP_NAME.match(group_name(group)):
            yield Problem(
                f"{group!r} is not a model package group's name or ARN",
                (*base, "group"),
                hint="a group's name is 1-63 letters, digits and hyphens (its ARN ends in model-package-group/NAME)",
            )
        elif group is None and "group" in step.config:
            yield Problem(
                "the model package group is named in the spec, not by a template: the policy grants that group",
                (*base, "group"),
                hint="write the group's name",
            )
        if "Tags" in (step.config.get("request") or {}):
            yield Problem(
                "a model package in a group takes the group's tags: CreateModelPackage refuses Tags with a group",
                (*base, "request", "Tags"),
                hint="tag the model package group instead",
                on_key=True,
            )
        yield from check_s3_uri(step.config.get("model_data"), (*base, "model_data"))
        if step.config.get("metrics") is not None:
            yield from check_s3_uri(step.config["metrics"], (*base, "metrics"))

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        metrics = config.get("metrics")
        return without_none(
            {
                "ModelPackageGroupName": config.get("group"),
                "ModelPackageDescription": config.get("description"),
                "ModelApprovalStatus": APPROVALS[config.get("approval", "pending")],
                "InferenceSpecification": without_none(
                    {
                        "Containers": [
                            without_none(
                                {
                                    "Image": config.get("image"),
                                    "ModelDataUrl": config.get("model_data"),
                                    "Environment": environment(step),
                                }
                            )
                        ],
                        "SupportedContentTypes": list(config.get("content_types") or ["text/csv"]),
                        "SupportedResponseMIMETypes": list(config.get("response_types") or ["text/csv"]),
                    }
                ),
                "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics}}}
                if metrics
                else None,
                # one version per execution, however often the call is retried (not per item of a for_each)
                "ClientToken": EXECUTION_TAG if step.for_each is None else None,
            }
        )
