"""Run a compiled definition in-process on the (extended) moto interpreter.

The run happens synchronously in this process: no server, no AWS. Its result
is the execution's status, output or error, and its event history, from which
the path taken and the alerts that would have been published are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..history import entry_of, state_of
from . import interpreter
from .mock_config import Case

ACCOUNT, REGION = "123456789012", "us-east-1"


@dataclass(frozen=True)
class Visit:
    """One time a state ran: its name and what happened."""

    state: str
    outcome: str  # "succeeded", "failed", "running"
    attempts: int = 1
    error: str | None = None
    cause: str | None = None
    retried: tuple[str, ...] = ()  # errors of the attempts that failed and were retried


@dataclass(frozen=True)
class Alert:
    state: str
    subject: str
    message: str


@dataclass
class Run:
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]] = field(repr=False)
    waited_seconds: float = 0.0
    execution_arn: str = ""
    state_machine_arn: str = ""

    def status_event(self) -> dict[str, Any]:
        """The Execution Status Change event Step Functions sends when this execution ends."""
        detail: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.execution_arn.rsplit(":", 1)[-1],
            "status": self.status,
        }
        detail.update({k: v for k, v in (("error", self.error), ("cause", self.cause)) if v is not None})
        return {
            "version": "0",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [self.execution_arn],
            "detail": detail,
        }

    @property
    def path(self) -> list[Visit]:
        return _visits(self.events)

    @property
    def alerts(self) -> list[Alert]:
        alerts = []
        by_id = {event["id"]: event for event in self.events}
        for event in self.events:
            details = event.get("taskScheduledEventDetails")
            if details and details.get("resource") == "publish" and details.get("resourceType") == "sns":
                parameters = json.loads(details.get("parameters") or "{}")
                state = state_of(event, by_id)
                if state.endswith(".alert"):
                    alerts.append(Alert(state, parameters.get("Subject", ""), parameters.get("Message", "")))
        return alerts


def run(
    definition: dict[str, Any],
    state_machine: str,
    execution_input: dict[str, Any],
    case: Case,
    execution: str = "simulation",
) -> Run:
    """Execute `definition` with the tasks answered by `case`."""
    interpreter.install()
    from moto.stepfunctions.parser.api import StateMachineType
    from moto.stepfunctions.parser.asl.eval.evaluation_details import (
        AWSExecutionDetails,
        EvaluationDetails,
        ExecutionDetails,
        StateMachineDetails,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramTimedOut
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.backend.execution_worker_comm import ExecutionWorkerCommunication

    class Done(ExecutionWorkerCommunication):
        def terminated(self) -> None:
            pass

    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{state_machine}"
    execution_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{state_machine}:{execution}"
    role = f"arn:aws:iam::{ACCOUNT}:role/simulation"
    details = EvaluationDetails(
        aws_execution_details=AWSExecutionDetails(ACCOUNT, REGION, role),
        execution_details=ExecutionDetails(
            arn=execution_arn,
            name=execution,
            role_arn=role,
            inpt=execution_input,
            start_time=datetime.now(UTC),
        ),
        state_machine_details=StateMachineDetails(
            arn=machine_arn, name=state_machine, typ=StateMachineType.STANDARD, definition=json.dumps(definition)
        ),
    )
    waited_before = interpreter.CLOCK.seconds
    worker = ExecutionWorker(
        evaluation_details=details,
        exec_comm=Done(),
        cloud_watch_logging_session=None,
        activity_store={},
        mock_test_case=to_moto(case, state_machine),
    )
    worker._execution_logic()  # the synchronous core of moto's execution thread
    env = worker.env
    state = env.program_state()
    events = [dict(event) for event in env.event_manager.get_event_history()]
    waited = interpreter.CLOCK.seconds - waited_before
    arns = {"execution_arn": execution_arn, "state_machine_arn": machine_arn}
    if isinstance(state, ProgramEnded):
        return Run("SUCCEEDED", env.states.get_input(), None, None, events, waited, **arns)
    if isinstance(state, ProgramError):
        error = state.error or {}
        return Run("FAILED", None, error.get("error"), error.get("cause"), events, waited, **arns)
    if isinstance(state, ProgramTimedOut):
        return Run("TIMED_OUT", None, "States.Timeout", None, events, waited, **arns)
    return Run("ABORTED", None, None, None, events, waited, **arns)


def rule_alerts(workflow: Any, definition: dict[str, Any], run: Run) -> list[tuple[str, str]]:
    """(rule name, message) for each alert rule that the run's Execution Status Change event matches."""
    from ..deploy.alerts import alert_rules, matching_messages
    from ..naming import resource_name

    rules = alert_rules(workflow, run.state_machine_arn, definition)
    return [
        (resource_name(workflow.name, rule.suffix), message)
        for rule, message in matching_messages(rules, run.status_event())
    ]


def to_moto(case: Case, state_machine: str) -> Any:
    from moto.stepfunctions.parser.mocking.mock_config import (
        MockedResponseReturn,
        MockedResponseThrow,
        MockTestCase,
        StateMockedResponses,
    )

    states = []
    for state, attempts in case.items():
        responses = [
            MockedResponseReturn(a.first, a.last, a.payload)
            if a.error is None
            else MockedResponseThrow(a.first, a.last, a.error, a.cause)
            for a in attempts
        ]
        states.append(StateMockedResponses(state, f"{state}-responses", responses))
    return MockTestCase(state_machine, "simulation", states)


def _visits(events: list[dict[str, Any]]) -> list[Visit]:
    """Each state entry in order, with how it ended and how many attempts it took."""
    visits: dict[int, dict[str, Any]] = {}
    by_id = {event["id"]: event for event in events}
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            failing = event["type"] == "FailStateEntered"
            visits[event["id"]] = {
                "state": entered["name"],
                "outcome": "failed" if failing else "running",
                "attempts": 0,
            }
            continue
        exited = event.get("stateExitedEventDetails")
        if exited:  # a Parallel's exit does not chain back to its entry: match the name
            for visit in reversed(visits.values()):
                if visit["state"] == exited["name"] and visit["outcome"] == "running":
                    visit["outcome"] = "succeeded"
                    break
            continue
        owner = entry_of(event, by_id)
        if owner is None or owner not in visits:
            continue
        visit = visits[owner]
        if "taskScheduledEventDetails" in event:
            if visit["outcome"] == "failed":  # scheduled again: the failure was retried
                visit.setdefault("retried", []).append(visit.pop("error", None) or "")
                visit["outcome"] = "running"
            visit["attempts"] += 1
        elif event["type"].endswith(("Failed", "TimedOut")) and event["type"] != "ExecutionFailed":
            failure = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            visit.update(outcome="failed", error=failure.get("error"), cause=failure.get("cause"))
    return [
        Visit(
            v["state"], v["outcome"], max(v["attempts"], 1), v.get("error"), v.get("cause"), tuple(v.get("retried", ()))
        )
        for _, v in sorted(visits.items())
    ]
