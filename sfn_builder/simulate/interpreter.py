"""moto's Step Functions interpreter, extended where it falls short for our workflows.

moto (whose interpreter descends from LocalStack's) runs Amazon States
Language with Catch, Retry, Choice, Parallel and Map semantics, and answers
Task states from mocked responses. `install()` adds what it lacks here:

- SageMaker tasks (`sagemaker:create*Job.sync`, `createModel`): moto has no
  SageMaker integration and refuses `.sync` for unknown services; they are
  answered from mocked responses only;
- a `States.*` error (what a failed job raises) may be thrown by a mock and
  passed on by a Fail state's ErrorPath or out of a Map iteration, as in AWS,
  instead of crashing on "custom error names must not begin with States.";
- a definite JSONPath that reaches through an array index (`$[0].input`, as a
  Parallel state's ResultSelector uses) selects the value, as in AWS, where
  moto returned it wrapped in a list;
- `States.ALL` does not match `States.Runtime` or `States.DataLimitExceeded`,
  as in AWS: those end the execution, whatever Retry or Catch says;
- virtual time: Retry intervals and Wait states do not sleep (the waits are
  added up instead), so a simulated day takes milliseconds;
- quiet logs: moto logs whole parse trees when a state fails.

It is installed in-process by `simulate` and in the embedded emulator's process.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from typing import Any

_installed = False
_lock = threading.Lock()


class VirtualClock:
    """Where simulated waits go: the seconds they would have taken."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def sleep(self, seconds: float) -> None:
        self.seconds += max(float(seconds), 0.0)

    def time(self) -> float:
        import time

        return time.time() + self.seconds


CLOCK = VirtualClock()


def install() -> None:
    """Extend moto's interpreter (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _quiet()
        _sagemaker_from_mocks()
        _states_errors_passed_on()
        _terminal_errors_not_caught()
        _definite_json_paths()
        _virtual_time()
        _installed = True


def _quiet() -> None:
    for name in ("moto.stepfunctions.parser", "moto.stepfunctions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _sagemaker_from_mocks() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    class StateTaskServiceSageMaker(StateTaskServiceCallback):
        """SageMaker jobs and models: only ever answered from mocked responses."""

        def __init__(self) -> None:
            super().__init__(supported_integration_patterns={ResourceCondition.Sync})

        def _validate_service_integration_is_supported(self) -> None:
            pass  # sfn-build checked the request against botocore's SageMaker model already

        def _eval_service_task(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> None:
            raise RuntimeError(
                f"no mocked response for the SageMaker task {env.next_state_name!r}: "
                "the local interpreter does not run SageMaker jobs"
            )

    original = state_task_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return original(service_name=service_name)

    state_task_factory.state_task_service_for = state_task_service_for


def _states_errors_passed_on() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import mock_eval_utils
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    CustomErrorName.__init__ = ErrorName.__init__  # type: ignore[method-assign]

    def throw(env: Any, mocked_response: Any) -> None:
        error = mocked_response.error
        try:
            name = StatesErrorName.from_name(error) if error.startswith("States.") else CustomErrorName(error)
        except Exception:  # a States.* name the interpreter does not know
            name = CustomErrorName(error)
        details = TaskFailedEventDetails(error=error, cause=mocked_response.cause)
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=name,
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(taskFailedEventDetails=details),
            )
        )

    mock_eval_utils._eval_mocked_response_throw = throw


TERMINAL_ERRORS = ("States.Runtime", "States.DataLimitExceeded")  # States.ALL does not catch them


def _terminal_errors_not_caught() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl

    original = ErrorEqualsDecl._eval_body
    catch_all = ErrorEqualsDecl._STATE_ALL_ERROR

    def eval_body(self: Any, env: Any) -> None:
        error = env.stack[-1]
        if getattr(error, "error_name", None) in TERMINAL_ERRORS and catch_all in self.error_names:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    ErrorEqualsDecl._eval_body = eval_body


_JSON_PATH_USERS = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators",
    "moto.stepfunctions.parser.asl.eval.states",
)
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")


def _definite_json_paths() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if not _INDEFINITE.search(path):
            matches = json_path.parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    json_path.extract_json = extract_json
    for name in _JSON_PATH_USERS:
        importlib.import_module(name).extract_json = extract_json


def _virtual_time() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    retrier_decl.time = CLOCK  # the retrier only calls time.sleep

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        CLOCK.sleep(wait_seconds)

    WaitFunction._wait_interval = wait_interval
