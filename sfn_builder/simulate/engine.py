"""Run a compiled definition in-process on the (extended) moto interpreter.

The run happens synchronously in this process: no server, no AWS. Its result
is the execution's status, output or error, and its event history, from which
the path taken and the alerts that would have been published are read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..asl import compact
from ..collector import without_collections
from ..history import state_of
from . import interpreter
from .cache_store import CacheStore
from .mock_config import Case
from .visits import Visit, visits

ACCOUNT, REGION = "123456789012", "us-east-1"


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
    definition: dict[str, Any] = field(repr=False)
    waited_seconds: float = 0.0
    execution_arn: str = ""
    state_machine_arn: str = ""
    parts: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    # The most events one execution's history holds: a part started by this run has a history of
    # its own in AWS, though `events` holds its events where the task that started it waits.
    largest_history: int = 0

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
        return visits(self.events, self.definition, self.parts.values())

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
    progress: Callable[[int], None] | None = None,
    cache: CacheStore | None = None,
    at: float | None = None,
    parts: dict[str, dict[str, Any]] | None = None,
) -> Run:
    """Execute `definition` with the tasks answered by `case`; `progress` hears the number of
    history events every PROGRESS_SECONDS of a long run. Cache lookups are answered from `cache`
    (none: every lookup misses), and the cached jobs the run completes are recorded in it; `at`
    (epoch seconds) is when the simulated run starts. `parts`: a split workflow's part machines
    by name (module `split`); the executions the workflow starts of them run here too, their
    events in its history where the task that started them waits."""
    interpreter.install()
    interpreter.CACHE = cache if cache is not None else CacheStore()
    interpreter.MARKERS.clear()  # an earlier run's (a failed one keeps them, as for a redrive): not this run's
    waited_before = interpreter.CLOCK.seconds
    if at is not None:
        interpreter.CLOCK.moved_to(at)
    texts = {name: compact(part) for name, part in (parts or {}).items()}  # as `create` sends them
    interpreter.PARTS = {
        name: lambda given, named, d=part, n=name: _execute(d, n, named, given, case, None, texts[n])
        for name, part in (parts or {}).items()
    }
    try:
        with without_collections():
            result = _execute(definition, state_machine, execution, execution_input, case, progress)
    finally:
        interpreter.PARTS = {}
    interpreter.CACHE.record(result.events, interpreter.CLOCK.time())
    result.waited_seconds = interpreter.CLOCK.seconds - waited_before
    result.parts = parts or {}
    return result


def _execute(
    definition: dict[str, Any],
    state_machine: str,
    execution: str,
    execution_input: dict[str, Any],
    case: Case,
    progress: Callable[[int], None] | None,
    text: str | None = None,
) -> Run:
    """One execution of `definition` (`text`: its compact JSON, when already made)."""
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
            arn=machine_arn,
            name=state_machine,
            typ=StateMachineType.STANDARD,
            definition=text if text is not None else compact(definition),  # as `create` sends it
        ),
    )
    worker = ExecutionWorker(
        evaluation_details=details,
        exec_comm=Done(),
        cloud_watch_logging_session=None,
        activity_store={},
        mock_test_case=to_moto(case, state_machine),
    )
    with _reporting(worker, progress):
        worker._execution_logic()  # the synchronous core of moto's execution thread
    env = worker.env
    state = env.program_state()
    events = [dict(event) for event in env.event_manager.get_event_history()]
    own, parts_largest = interpreter.spliced_counts(env.event_manager)
    arns = {
        "execution_arn": execution_arn,
        "state_machine_arn": machine_arn,
        "largest_history": max(len(events) - own, parts_largest),
    }
    if isinstance(state, ProgramEnded):
        return Run("SUCCEEDED", env.states.get_input(), None, None, events, definition, **arns)
    if isinstance(state, ProgramError):
        error = state.error or {}
        return Run("FAILED", None, error.get("error"), error.get("cause"), events, definition, **arns)
    if isinstance(state, ProgramTimedOut):
        return Run("TIMED_OUT", None, "States.Timeout", None, events, definition, **arns)
    return Run("ABORTED", None, None, None, events, definition, **arns)


PROGRESS_SECONDS = 5.0


@contextmanager
def _reporting(worker: Any, progress: Callable[[int], None] | None) -> Iterator[None]:
    """Call `progress` from a watcher thread while the run lasts."""
    if progress is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(PROGRESS_SECONDS):
            env = getattr(worker, "env", None)
            if env is not None:
                progress(len(env.event_manager._history_event_list))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def rule_alerts(workflow: Any, definition: dict[str, Any], run: Run) -> list[tuple[str, str]]:
    """(rule name, message) for each alert rule that the run's Execution Status Change event matches."""
    from ..deploy.alerts import alert_rules, matching_messages
    from ..naming import resource_name

    rules = alert_rules(workflow, run.state_machine_arn, definition, run.parts.values())
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
