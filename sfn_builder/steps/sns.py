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
        yield from _fifo_topic(step)
        yield from _subject(step)

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        return without_none(
            {"TopicArn": config["topic"], "Message": config["message"], "Subject": config.get("subject")}
        )


def _fifo_topic(step: Step) -> Iterator[Problem]:
    topic = step.config.get("topic")
    if isinstance(topic, str) and "${" not in topic and topic.endswith(".fifo"):
        yield Problem(
            "a FIFO topic takes only messages with a message group id, which an sns step does not send: SNS "
            "would refuse the message",
            ("steps", step.name, "topic"),
            hint="publish to a standard topic (or use a lambda step to publish with MessageGroupId)",
        )


def _subject(step: Step) -> Iterator[Problem]:
    """SNS takes a subject of printable ASCII that starts with a letter, digit or punctuation."""
    subject = step.config.get("subject")
    if not isinstance(subject, str) or "${" in subject:
        return
    if not subject.isascii() or not subject.isprintable() or subject.startswith(" "):
        yield Problem(
            f"the subject {subject!r} is not one SNS takes: printable ASCII on one line, starting with a letter, "
            "digit or punctuation mark",
            ("steps", step.name, "subject"),
            hint="remove line breaks, tabs and non-ASCII characters (put them in the message instead)",
        )
