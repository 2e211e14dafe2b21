"""`model`: a SageMaker model (createModel; returns at once).

The model's name is derived from the execution's ARN, so it is the same
whenever this execution computes it: a transform step of the same workflow
names the model by computing it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..model import Step, Workflow
from ..naming import model_name_expression, model_prefix
from ..problems import Problem
from .base import ROLE_OWNED, Arns, Expr, ResultShape, StepKind, check_s3_uri, require, statement, tag_list
from .sagemaker_common import check_common, environment, network_isolation, pass_role, vpc_config, without_none


def model_name(workflow: Workflow, step: Step) -> Expr:
    return Expr(model_name_expression(workflow.name, step.name))


def served_model(step: Step, workflow: Workflow) -> Any:
    """The `model:` a transform or endpoint step uses, as its request names it: a model step's computed
    name, or an existing SageMaker model's."""
    model = step.config.get("model")
    source = workflow.steps.get(model) if isinstance(model, str) else None
    return model_name(workflow, source) if source is not None else model


def model_problems(step: Step, workflow: Workflow, user: str) -> Iterator[Problem]:
    """A `model:` that names a step names a model step the step needs (`user`: "the transform uses")."""
    model = step.config.get("model")
    source = workflow.steps.get(model) if isinstance(model, str) else None
    if source is not None and source.type != "model":
        yield Problem(
            f"'{model}' is a {source.type} step, not a model step",
            ("steps", step.name, "model"),
            hint="name a `model` step of this workflow, or an existing SageMaker model",
        )
    elif source is not None and model not in step.needs:
        yield Problem(
            f"{user} model step '{model}' but does not need it",
            ("steps", step.name, "model"),
            hint=f"add '{model}' to steps.{step.name}.needs",
        )


class ModelKind(StepKind):
    type = "model"
    resource = "arn:aws:states:::sagemaker:createModel"
    api = ("sagemaker", "CreateModel")
    result = ResultShape("sagemaker", "CreateModelOutput")
    summary = ("ModelArn",)
    has_result = True
    error_prefix = "SageMaker"
    general_error = "AmazonSageMakerException"
    owned_members = MappingProxyType({
        "ModelName": "the model's name is one per execution, for the transform steps that use it and the policy",
        "ExecutionRoleArn": ROLE_OWNED,
    })

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        models = [arns.arn("sagemaker", f"model/{model_prefix(workflow.name, step.name)}-*")]
        return [
            statement(["sagemaker:CreateModel", "sagemaker:AddTags"], models),
            statement(["sagemaker:ListTags"], ["*"]),  # as in every policy AWS generates for SageMaker tasks
            *pass_role(step, workflow),
        ]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "image", "role", "model_data")
        yield from check_common(self, step)
        yield from check_s3_uri(step.config.get("model_data"), ("steps", step.name, "model_data"))
        if step.for_each is not None:
            yield Problem(
                "a model step cannot use for_each: its model's name is one per execution",
                ("steps", step.name, "for_each"),
                hint="create one model and run a transform step for each item instead",
            )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        return without_none(
            {
                "ModelName": model_name(workflow, step),
                "ExecutionRoleArn": config.get("role"),
                "PrimaryContainer": without_none(
                    {
                        "Image": config.get("image"),
                        "ModelDataUrl": config.get("model_data"),
                        "Environment": environment(step),
                    }
                ),
                "VpcConfig": vpc_config(step),
                "EnableNetworkIsolation": network_isolation(step),
                "Tags": tag_list(workflow),
            }
        )
