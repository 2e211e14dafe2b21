"""`workflow`: start another state machine and wait for it (startExecution.sync:2)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..allow_lists import values_of
from ..model import Step, Workflow
from ..naming import job_prefix
from ..problems import Problem
from .base import Arns, Expr, StepKind, check_arn, job_name, literal, require, statement

_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,80}\Z")
_OWN = "States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), {})"


def arn_in_own_account(service: str, resource: str) -> Expr:
    """An ARN in this state machine's partition, region and account, built at run time."""
    return Expr(
        f"States.Format('arn:{{}}:{service}:{{}}:{{}}:{resource}', {_OWN.format(1)}, {_OWN.format(3)}, "
        f"{_OWN.format(4)})"
    )


class NestedWorkflow(StepKind):
    type = "workflow"
    resource = "arn:aws:states:::states:startExecution.sync:2"
    api = ("stepfunctions", "StartExecution")
    json_members = frozenset({"Input"})
    summary = ("ExecutionArn", "Status", "Output")
    has_result = True
    error_prefix = "StepFunctions"
    general_error = "AWSStepFunctionsException"

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        machines, executions = [], []
        prefix = job_prefix(workflow.name, step.name)
        for target in values_of(step, "state_machine", workflow):
            if target.startswith("arn:"):
                machine, name = target, target.rsplit(":", 1)[1]
            else:
                machine, name = arns.arn("states", f"stateMachine:{target}"), target
            # The nested machine may be Standard (execution: ARNs) or Express (express: ARNs); its
            # executions started here are named after this step.
            machines.append(machine)
            executions += [
                arns.arn("states", f"execution:{name}:{prefix}-*"),
                arns.arn("states", f"express:{name}:{prefix}-*:*"),
            ]
        return [
            statement(["states:StartExecution"], machines),
            statement(["states:DescribeExecution", "states:StopExecution"], executions),
            statement(
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                [arns.managed_rule("StepFunctionsGetEventsForStepFunctionsExecutionRule")],
            ),
        ]

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "state_machine")
        target = literal(step.config.get("state_machine"))
        path = ("steps", step.name, "state_machine")
        if target is not None and target.startswith("arn:"):
            yield from check_arn(
                target,
                path,
                "states",
                "a state machine ARN",
                "arn:aws:states:eu-west-1:111122223333:stateMachine:churn-scoring",
            )
        elif target is not None and not _NAME.match(target):
            yield Problem(f"{target!r} is not a state machine name", path, hint="names are 1-80 of A-Za-z0-9_-")
        elif target == workflow.name:
            yield Problem("a workflow cannot start itself", path)

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        target = step.config["state_machine"]
        if isinstance(target, str) and not target.startswith(("arn:", "${")):
            target = arn_in_own_account("states", f"stateMachine:{target}")
        execution_input = dict(step.config.get("input", {}))
        execution_input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] = Expr("$$.Execution.Id")
        return {
            "StateMachineArn": target,
            "Name": job_name(workflow, step),
            "Input": execution_input,
        }
