"""`lambda`: invoke an AWS Lambda function and wait for its result."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..allow_lists import values_of
from ..model import Step, Workflow
from ..problems import Problem
from .base import Arns, Expr, StepKind, literal, require, statement

_FUNCTION = re.compile(
    r"^(arn:aws[a-z\-]*:lambda:[a-z0-9\-]+:\d{12}:function:)?[A-Za-z0-9\-_]{1,64}(:(\$LATEST|[A-Za-z0-9\-_]+))?\Z"
)


class Lambda(StepKind):
    type = "lambda"
    resource = "arn:aws:states:::lambda:invoke"
    api = ("lambda", "Invoke")
    json_members = frozenset({"Payload"})
    summary = ("Payload",)
    result_root = ("Payload",)
    has_result = True
    error_prefix = "Lambda"
    general_error = "AWSLambdaException"

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        resources = []
        for function in values_of(step, "function", workflow):
            base = function if function.startswith("arn:") else arns.arn("lambda", f"function:{function}")
            resources += [base, f"{base}:*"] if base.count(":") == 6 else [base]
        return [statement(["lambda:InvokeFunction"], resources)]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "function")
        function = literal(step.config.get("function"))
        if function is not None and not _FUNCTION.match(function):
            yield Problem(
                f"{function!r} is not a Lambda function name or ARN",
                ("steps", step.name, "function"),
                hint="write the function's name (1-64 of A-Za-z0-9-_), optionally with :alias, or its ARN",
            )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        payload = step.config.get("payload")
        return {
            "FunctionName": step.config["function"],
            "Payload": Expr("$") if payload is None else payload,
        }
