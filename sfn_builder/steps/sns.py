"""`sns`: publish a message to an SNS topic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..allow_lists import values_of
from ..model import Step, Workflow
from ..problems import Problem
from .base import Arns, StepKind, check_arn, require, statement
from .sagemaker_common import without_none


class Sns(StepKind):
    type = "sns"
    resource = "arn:aws:states:::sns:publish"
    api = ("sns", "Publish")
    json_members = frozenset({"Message"})
    summary = ("MessageId",)
    has_result = True
    error_prefix = "SNS"
    general_error = "AmazonSNSException"

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        return [statement(["sns:Publish"], values_of(step, "topic", workflow))]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "topic", "message")
        yield from check_arn(
            step.config.get("topic"),
            ("steps", step.name, "topic"),
            "sns",
            "an SNS topic ARN",
            "arn:aws:sns:eu-west-1:111122223333:churn-news",
        )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        return without_none(
            {"TopicArn": config["topic"], "Message": config["message"], "Subject": config.get("subject")}
        )
