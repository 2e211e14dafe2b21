"""The publish operations the CLI offers: plan, create, delete; and running executions."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..model import Workflow
from ..steps.base import Arns
from . import local
from .aws import Aws, AwsError, Target, call
from .changes import Change, apply_changes, plan_changes, removal_changes
from .resources import Resource, desired_resources, state_machine_arn


@dataclass
class Publication:
    """A workflow, where it goes, what it needs there, and what must change."""

    workflow: Workflow
    aws: Aws
    resources: list[Resource]
    changes: list[Change]

    @property
    def state_machine_arn(self) -> str:
        return state_machine_arn(self.workflow, arns_of(self.aws))


def connect(target: Target) -> Aws:
    """AWS clients for the target; with --local, the emulator (started if need be)."""
    if target.local:
        emulator = local.start()
        target = Target(region=target.region, endpoint_url=emulator.url, local=True)
    return Aws.connect(target)


def arns_of(aws: Aws) -> Arns:
    return Arns(aws.partition, aws.region, aws.account)


def prepare(workflow: Workflow, definition: dict[str, Any], aws: Aws) -> Publication:
    resources = desired_resources(workflow, definition, arns_of(aws))
    return Publication(workflow, aws, resources, plan_changes(aws, workflow, resources))


def apply(publication: Publication, report: Callable[[Change], None]) -> None:
    apply_changes(publication.aws, publication.workflow.name, publication.changes, report)


def plan_removal(aws: Aws, workflow_name: str) -> list[Change]:
    return removal_changes(aws, workflow_name)


def remove(aws: Aws, workflow_name: str, changes: list[Change], report: Callable[[Change], None]) -> None:
    apply_changes(aws, workflow_name, changes, report)


# -- executions ----------------------------------------------------------------

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Progress:
    """One line of an execution's progress: a state entered, left or failed."""

    state: str
    event: str  # "entered" | "succeeded" | "failed" | "retrying"
    detail: str = ""


def start_execution(aws: Aws, workflow: Workflow, execution_input: dict[str, Any]) -> str:
    """Start an execution named `sfn-build-<UTC time>-<6 hex>` (readable, and unique)."""
    arn = state_machine_arn(workflow, arns_of(aws))
    try:
        started = call(
            aws.client("stepfunctions").start_execution,
            what=f"state machine {workflow.name}",
            stateMachineArn=arn,
            name=f"sfn-build-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
            input=json.dumps(execution_input),
        )
    except AwsError as error:
        raise _not_created(error, workflow) from None
    return started["executionArn"]


def _not_created(error: AwsError, workflow: Workflow) -> AwsError:
    if "StateMachineDoesNotExist" in str(error):
        return AwsError(f"the state machine {workflow.name} does not exist here: run `sfn-build create` first")
    return error


def describe_execution(aws: Aws, execution_arn: str) -> dict[str, Any]:
    return call(
        aws.client("stepfunctions").describe_execution, what=f"execution {execution_arn}", executionArn=execution_arn
    )


def follow(aws: Aws, execution_arn: str, poll: float = 2.0) -> Iterator[Progress]:
    """The execution's progress as it happens, until it ends."""
    sfn = aws.client("stepfunctions")
    seen = 0
    while True:
        history = call(
            sfn.get_execution_history, what=f"execution {execution_arn}", executionArn=execution_arn, maxResults=1000
        )["events"]
        for event in history[seen:]:
            progress = _progress(event)
            if progress is not None:
                yield progress
        seen = len(history)
        if describe_execution(aws, execution_arn)["status"] in TERMINAL:
            return
        time.sleep(poll)


def failure(aws: Aws, execution_arn: str) -> tuple[str, str, str] | None:
    """(failing state, error, cause) of a failed execution, from its history."""
    history = call(
        aws.client("stepfunctions").get_execution_history,
        what=f"execution {execution_arn}",
        executionArn=execution_arn,
        reverseOrder=True,
        maxResults=200,
    )["events"]
    entered = {e["id"]: e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}
    for event in history:
        for key in ("taskFailedEventDetails", "executionFailedEventDetails", "lambdaFunctionFailedEventDetails"):
            if key in event:
                details = event[key]
                state = _state_of(event, entered, history)
                return state, details.get("error", ""), details.get("cause", "")
    return None


def recent_executions(aws: Aws, workflow: Workflow, limit: int = 10) -> list[dict[str, Any]]:
    arn = state_machine_arn(workflow, arns_of(aws))
    try:
        found = call(
            aws.client("stepfunctions").list_executions,
            what=f"state machine {workflow.name}",
            stateMachineArn=arn,
            maxResults=limit,
        )
    except AwsError as error:
        raise _not_created(error, workflow) from None
    return found["executions"]


def _progress(event: dict[str, Any]) -> Progress | None:
    kind = event["type"]
    if "stateEnteredEventDetails" in event:
        return Progress(event["stateEnteredEventDetails"]["name"], "entered")
    if "stateExitedEventDetails" in event:
        return Progress(event["stateExitedEventDetails"]["name"], "succeeded")
    if kind.endswith("Failed") or kind.endswith("TimedOut"):
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        return Progress("", "failed", f"{details.get('error', kind)}: {details.get('cause', '')}".strip(": "))
    return None


def _state_of(event: dict[str, Any], entered: dict[int, str], history: list[dict[str, Any]]) -> str:
    previous = event.get("previousEventId")
    by_id = {e["id"]: e for e in history}
    while previous:
        if previous in entered:
            return entered[previous]
        previous = by_id.get(previous, {}).get("previousEventId")
    return ""
