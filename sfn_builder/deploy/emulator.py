"""The embedded emulator's process: moto's server, running executions with mocked jobs.

`local.start()` runs `python -m sfn_builder.deploy.emulator --cases DIR -H HOST
-p PORT`. Before serving, it installs our extensions of moto's Step Functions
interpreter and turns execution on, so `StartExecution` runs the state machine
(with virtual time: waits and retry intervals do not sleep). No task calls a
service: each answers from a mocked test case, read from `DIR/<digest>.json` (a
MockConfigFile that `execute --local` writes; the digest of the state machine and
execution names, so no name a caller chooses ever becomes a path) or else the case
in which every job succeeds with a simulated Describe* result.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ..files import write_atomically
from .aws import LOCAL_ACCOUNT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sfn_builder.deploy.emulator")
    parser.add_argument("--cases", required=True, type=Path, help="where execute --local leaves mocked test cases")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ["MOTO_PORT"] = str(args.port)  # where the interpreter's own AWS calls go
    os.environ["MOTO_ACCOUNT_ID"] = LOCAL_ACCOUNT  # the account `--local` commands know without asking
    _run_executions(args.cases)
    from moto import server

    server.main(["-H", args.host, "-p", str(args.port)])


def _run_executions(cases: Path) -> None:
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.backend.execution import Execution

    from ..simulate import interpreter
    from . import emulator_versions

    interpreter.install()
    emulator_versions.install()
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    original = Execution._get_start_execution_worker

    def start_worker(execution: Any) -> Any:
        worker = original(execution)
        worker._mock_test_case = _mocked_case(execution, cases)
        ran[execution.execution_arn] = execution.state_machine.definition
        return worker

    Execution._get_start_execution_worker = start_worker
    ran: dict[str, str] = {}
    _answer_with_the_definition_run(ran)
    _record_cached_jobs()
    _history_as_json()


def _history_as_json() -> None:
    """GetExecutionHistory as AWS answers it: a page of `maxResults` events (100 by default, at most
    1,000), newest first with `reverseOrder`, timestamps as seconds since the epoch, and a `nextToken`
    while there are more. moto answers every event at once, oldest first, with ISO timestamps that
    botocore parses one by one (seconds for the 7,000 events of a part of a 1,000-step workflow, at
    every poll of `execute --wait`), and serialises each event through the service's model; this
    writes the page as JSON at once. Events holding anything but JSON values and timestamps are
    serialised by moto as before."""
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.get_execution_history

    def get_execution_history(self: Any) -> Any:
        param = self._get_param
        history = self.stepfunction_backend.get_execution_history(param("executionArn"))
        events, token = _history_page(
            history["events"], param("maxResults"), param("reverseOrder"), param("nextToken")
        )
        try:
            page = [{**event, "timestamp": _epoch_seconds(event["timestamp"])} for event in events]
            return json.dumps({"events": page, **({"nextToken": token} if token else {})}, default=_epoch_seconds)
        except (TypeError, ValueError, KeyError):
            return original(self)

    StepFunctionResponse.get_execution_history = get_execution_history


HISTORY_PAGE, LARGEST_HISTORY_PAGE = 100, 1000


def _history_page(
    events: list[dict[str, Any]], max_results: int | None, reverse: bool | None, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The page of events a GetExecutionHistory call asks for, and the token of the next one. A token
    is the position of the next page's first event (oldest first) or, newest first, of the event after
    its last one: events only ever arrive at the end, so a token keeps its place while they do."""
    from moto.stepfunctions.exceptions import InvalidToken

    size = min(max_results or HISTORY_PAGE, LARGEST_HISTORY_PAGE)
    if token is not None and not (token.isdigit() and int(token) <= len(events)):
        raise InvalidToken(f"{token!r} is not a token this execution's history gave")
    if reverse:
        end = len(events) if token is None else int(token)
        start = max(0, end - size)
        return events[start:end][::-1], str(start) if start else None
    start = 0 if token is None else int(token)
    end = start + size
    return events[start:end], str(end) if end < len(events) else None


def _epoch_seconds(value: Any) -> float:
    """A timestamp (a datetime or ISO text) as AWS writes it: seconds since the epoch, to the millisecond."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not JSON: {type(value).__name__}")
    return calendar.timegm(value.utctimetuple()) + value.microsecond // 1000 / 1000


def _record_cached_jobs() -> None:
    """When an execution ends, the cached jobs it completed answer later executions' lookups (the
    emulator's stand-in for the deployed cache lookup function)."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    from ..simulate import interpreter

    original = BaseExecutionWorkerCommunication.terminated

    def terminated(self: Any) -> None:
        original(self)
        worker = self.execution.exec_worker
        events = [dict(event) for event in worker.env.event_manager.get_event_history()]
        interpreter.CACHE.record(events, interpreter.CLOCK.time())

    BaseExecutionWorkerCommunication.terminated = terminated


def _answer_with_the_definition_run(ran: dict[str, str]) -> None:
    """DescribeStateMachineForExecution answers with the definition the execution ran, as AWS does
    (moto answers with the state machine's current one)."""
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.describe_state_machine_for_execution

    def describe(self: Any) -> Any:
        result = original(self)
        definition = ran.get(self._get_param("executionArn"))
        if definition is not None:
            result.result["definition"] = definition
        return result

    StepFunctionResponse.describe_state_machine_for_execution = describe


def leave_case(cases: Path, state_machine: str, execution: str, case: Any) -> None:
    """Leave an execution's mocked test case (complete: every task state) for the emulator to find."""
    from ..simulate.mock_config import one_case_config

    cases.mkdir(parents=True, exist_ok=True)
    config = one_case_config(state_machine, execution, case)
    write_atomically(case_file(cases, state_machine, execution), json.dumps(config).encode("utf-8"))


def case_file(cases: Path, state_machine: str, execution: str) -> Path:
    """Where an execution's case is left: named by a digest, never by the names themselves."""
    digest = hashlib.sha256(f"{state_machine}\0{execution}".encode("utf-8", "surrogatepass")).hexdigest()
    return cases / f"{digest[:40]}.json"


_CASES_RUN: dict[str, Any] = {}  # execution ARN -> the case it ran with, for the parts it starts


def _mocked_case(execution: Any, cases: Path) -> Any:
    """The case left for this execution (read once), else its workflow execution's when it is a part
    of a split workflow started with one (that case holds every state of the parts), else every job
    succeeding."""
    from ..simulate.engine import to_moto
    from ..simulate.mock_config import case_from, success_case

    machine = execution.state_machine
    given = execution.input_data if isinstance(execution.input_data, dict) else {}
    left = case_file(cases, machine.name, execution.name)
    started_by = given.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
    if left.is_file():
        case = case_from(json.loads(left.read_text(encoding="utf-8")), machine.name, execution.name)
        left.unlink()
    elif isinstance(started_by, str) and started_by in _CASES_RUN:
        case = _CASES_RUN[started_by]
    else:  # the parts it starts succeed too, each by a case of its own definition
        return to_moto(success_case(json.loads(machine.definition), given), machine.name)
    _CASES_RUN[execution.execution_arn] = case
    return to_moto(case, machine.name)


if __name__ == "__main__":
    main()
