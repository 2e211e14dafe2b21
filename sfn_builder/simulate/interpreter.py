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
  as in AWS: those end the execution, whatever Retry or Catch says; a task whose evaluated
  Parameters pass 256 KiB fails with `States.DataLimitExceeded` (moto checked only its result);
- virtual time: Retry intervals and Wait states do not sleep (the waits are
  added up instead), so a simulated day takes milliseconds;
- one order: Parallel branches run one after another in the order of the
  definition, and Map items in the order of the list, in the calling thread, so
  that a run gives the same history every time; a branch or item not started
  when another failed never starts (it is reported as cancelled). moto ran a
  thread per branch, per concurrent item and per task, and recursed once per item (a
  1,000-item Map at concurrency 1 hit Python's recursion limit);
- intrinsic string literals read as AWS reads them: `\\'`, `\\{`, `\\}` and `\\\\` are a
  quote, braces and a backslash, and an escaped brace in a `States.Format`
  template is text, not a placeholder (moto kept the backslashes and handed the
  template to Python's `str.format`, which failed on braces and quotes);
- a history read without a deep copy of every event (events are not changed once
  added): moto copied the whole history for each page of GetExecutionHistory, so
  following a 10,000-item Map in the emulator took minutes;
- completion markers (module `markers`) answered from MARKERS, as the DynamoDB table answers
  them: a Network's branches run in dependency order, so a step finds what it needs done;
- a definition's program built from its JSON (module `program_builder`) rather than parsed, and
  kept (module `program_cache`); what the builder does not know is parsed, with ANTLR's SLL
  prediction first (LL only when SLL meets an error); a program's text
  made only for the error that needs it (moto rebuilt it for every branch and iterator), and each
  intrinsic function's text parsed once per process (a fifth less parse time);
- JSON values copied as JSON: moto deep-copies state data at every read, with `copy.deepcopy`'s
  memo and reconstruction; a copy of dicts, lists and scalars is the same value, made 3-5x faster
  (anything else is still deep-copied); and a state's data is not copied at all where it is only
  read: a ResultPath copies the mappings on its path and shares the rest, and a state's data is
  written as JSON once for its events and size check (moto's copies and writes took time in the
  square of the steps when each step keeps a result);
- Distributed Maps read simulated items instead of S3 (three, shaped after what the item selector
  and the iterator read of each item; for a prefix, object listings) and write no results to S3;
  their items run one after another (a loop: moto recursed once per item), each as a child
  execution whose context names it and whose input is its item (`$$.Execution.Input`; moto kept
  the parent's), and a Map run whose failed items exceed its tolerated failure count or
  percentage fails with `States.ExceedToleratedFailureThreshold`, as in AWS (moto counted them
  and went on);
  JSONL and manifest item files read as JSON lists, which moto's parser knows;
- a split workflow's parts (module `split`) run in-process when the workflow starts them, as the
  engine's PARTS say: their events go into the history where the starting task waits (ids
  renumbered), and moto's own `.sync:2` code reads how they ended, output or error; a `.sync`
  task's DescribeExecution result has AWS's capitalised member names (moto's kept boto3's);
- JSON text made by encoders kept per separators: moto's `to_json_str` made a new encoder for
  each of the nine values an item's history and size checks encode (three times the encoding);
- cheaper per-item work: history timestamps formatted once per millisecond, UUIDs made from random
  bytes directly, `States.Hash` of an input hashed before remembered;
- quiet logs: moto logs whole parse trees when a state fails, and asks its logger about every
  component it evaluates.

It is installed in-process by `simulate` and in the embedded emulator's process.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .. import markers
from ..imports import load_alone
from ..naming import marker_role
from ..part_history import EXECUTION_EVENTS
from .cache_store import CacheStore
from .results import JOB_SUFFIX

CACHE_STATE_SUFFIX = ".cache"  # a step's cache lookup state
_installed = False
_lock = threading.Lock()


class VirtualClock:
    """Where simulated waits go: the seconds they would have taken; `moved_to` starts it at another time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.offset = 0.0

    def sleep(self, seconds: float) -> None:
        self.seconds += max(float(seconds), 0.0)

    def moved_to(self, epoch: float) -> None:
        import time

        self.offset = epoch - time.time() - self.seconds

    def time(self) -> float:
        import time

        return time.time() + self.offset + self.seconds


CLOCK = VirtualClock()
CACHE = CacheStore()  # where cache lookups are answered (module `cache_store`); `engine.run` sets it
MARKERS: dict[str, dict[str, Any]] = {}  # the markers table: item key -> item (as DynamoDB holds it)
# A split workflow's part machines by name (module `split`): each runs an execution of its part,
# given the input and name, and returns it as the engine's Run (with its events).
PARTS: dict[str, Callable[[dict[str, Any], str], Any]] = {}


def install() -> None:
    """Extend moto's interpreter (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        # The Batch task of moto's interpreter needs one enum of moto.batch, whose package
        # imports all of moto's EC2 (1.5 s); load that module alone.
        load_alone("moto.batch.utils", ("moto.batch",))
        _quiet()
        _timestamps_by_isoformat()
        _cheaper_ids_and_hashes()
        _sagemaker_from_mocks()
        _mocks_by_invocation()
        _states_errors_passed_on()
        _terminal_errors_not_caught()
        _task_inputs_limited()
        _definite_json_paths()
        _virtual_time()
        _branches_in_order()
        _items_in_order()
        _intrinsic_strings_as_aws_reads_them()
        _faster_parse()
        _history_without_deep_copies()
        _cache_lookups_from_the_store()
        _markers_from_the_store()
        _programs_from_the_cache()
        _items_from_the_simulation()
        _json_copies()
        _state_shared_until_written()
        _json_by_reused_encoders()
        _state_written_once()
        _missing_variables_described_when_read()
        _parts_run_in_process()
        _installed = True


def _mocks_by_invocation() -> None:
    """A state's mocked responses are numbered by its invocations in the whole execution (each retry,
    each round of a poll loop, each Map item counts), as LocalStack numbers them (moto numbers them by
    the retry of one entry, so a loop would get its first response every round); a state invoked more
    often than its numbered responses answers with its last one."""
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    def get_current_mocked_response(self: Any) -> Any:
        case, state = self.mock_test_case, self.next_state_name
        responses = case.state_mocked_responses.get(state)
        if responses is None:
            raise RuntimeError(f"No mocked response definition for state '{state}'")
        invocations = case.__dict__.setdefault("sfn_build_invocations", {})  # state -> invocations so far
        number = invocations.get(state, 0)
        invocations[state] = number + 1
        return responses.mocked_responses[min(number, len(responses.mocked_responses) - 1)]

    Environment.get_current_mocked_response = get_current_mocked_response



def _quiet() -> None:
    """moto's interpreter without its logging: it logs around every component evaluated (a
    10,000-item Map evaluates 730,000), and then only for us to hide it."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning

    for name in ("moto.stepfunctions.parser", "moto.stepfunctions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    def evaluate(self: Any, env: Any) -> None:
        running = env._program_state
        if type(running) is not ProgramRunning:
            return  # moto prunes the component: the program has ended, failed or stopped
        field_name = self._field_name()
        if field_name is not None:
            if running._next_state_name is None:
                env.next_field_name = field_name  # moto's own error
            running._next_field_name = field_name
        self._eval_body(env)

    EvalComponent.eval = evaluate


def _timestamps_by_isoformat() -> None:
    """History timestamps formatted by isoformat, a third of strftime's time, once per millisecond
    (a 10,000-item Map adds 8 events an item, about 20 a millisecond)."""
    from moto.stepfunctions.parser.asl.eval.event import event_manager

    last: dict[tuple[int, ...], str] = {}

    def iso_8601_milliseconds(value: datetime) -> str:
        key = (value.microsecond // 1000, value.second, value.minute, value.hour, value.day, value.month, value.year)
        text = last.get(key)
        if text is None:
            last.clear()
            text = last[key] = value.isoformat(timespec="milliseconds")[:23] + "Z"
        return text

    event_manager.iso_8601_datetime_with_milliseconds = iso_8601_milliseconds


def _cheaper_ids_and_hashes() -> None:
    """Version-4 UUIDs (task tokens, `States.UUID`) made from random bytes directly, a third of
    `uuid4`'s time, and `States.Hash` of an input it hashed before remembered: an item's job tag
    hashes the execution's id, the same for every item."""
    import os

    from moto.stepfunctions.parser import utils
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.hash_calculations.hash_func import (
        HashFunc,
    )

    def long_uid() -> str:
        random = bytearray(os.urandom(16))
        random[6] = random[6] & 0x0F | 0x40  # version 4
        random[8] = random[8] & 0x3F | 0x80  # RFC 4122 variant
        text = random.hex()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    _replaced_everywhere("long_uid", utils.long_uid, long_uid)
    HashFunc._hash_inp_with_alg = staticmethod(functools.lru_cache(maxsize=256)(HashFunc._hash_inp_with_alg))


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

        def _before_eval_execution(self, env: Any, resource_runtime_part: Any, raw_parameters: dict, **kw: Any) -> None:
            name = next((v for k, v in raw_parameters.items() if k.endswith("JobName") and isinstance(v, str)), "")
            self._job_suffix = name[-len(JOB_SUFFIX) :] if len(name) > len(JOB_SUFFIX) else None
            super()._before_eval_execution(env, resource_runtime_part, raw_parameters, **kw)

        def _normalise_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
            """The mocked result names the job this attempt started (its artifacts' paths too), as
            SageMaker's would: a new job, new paths."""
            super()._normalise_response(response, *args, **kwargs)
            suffix = getattr(self, "_job_suffix", None)
            if suffix and isinstance(response, dict):
                response.update(_renamed(response, suffix))

        def _eval_service_task(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> None:
            raise RuntimeError(
                f"no mocked response for the SageMaker task {env.next_state_name!r}: "
                "the local interpreter does not run SageMaker jobs"
            )

    # A module-level name, so that a parsed program that holds one can be stored (module `program_cache`).
    StateTaskServiceSageMaker.__qualname__ = StateTaskServiceSageMaker.__name__
    StateTaskServiceSageMaker.__module__ = __name__
    globals()[StateTaskServiceSageMaker.__name__] = StateTaskServiceSageMaker
    original = state_task_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return original(service_name=service_name)

    state_task_factory.state_task_service_for = state_task_service_for


def _renamed(value: Any, suffix: str) -> Any:
    """`value` with the simulated job names' suffix replaced by the one of the job actually started."""
    if isinstance(value, str):
        return value.replace(JOB_SUFFIX, suffix)
    if isinstance(value, dict):
        return {key: _renamed(item, suffix) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, suffix) for item in value]
    return value


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


_SIMPLE_PATH = re.compile(r"\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)\Z")
_SIMPLE_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


@functools.lru_cache(maxsize=4096)
def _simple_steps(path: str) -> tuple[str | int, ...] | None:
    """The member names and indexes of a path like `$.a.b[0]`, else None."""
    match = _SIMPLE_PATH.match(path)
    if match is None:
        return None
    return tuple(name if name else int(index) for name, index in _SIMPLE_STEP.findall(match.group(1)))


_MISSING = object()


def _walk(steps: tuple[str | int, ...], data: Any) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return _MISSING
        elif not isinstance(data, dict) or step not in data:
            return _MISSING
        data = data[step]
    return data


def _definite_json_paths() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)  # jsonpath_ng builds a parser per call
    result_path.parse = functools.lru_cache(maxsize=4096)(result_path.parse)
    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        steps = _simple_steps(path)
        if steps is not None:  # `$`, `.name` and `[n]` only: walked directly
            found = _walk(steps, data)
            if found is _MISSING:  # moto's own error, without parsing the path (a Choice's IsPresent asks often)
                raise json_path.NoSuchJsonPathError(json_path=path, data=data)
            return found
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


def _branches_in_order() -> None:
    import threading as _threading

    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import BranchWorker

    def start(self: Any) -> None:
        self._worker_thread = _threading.current_thread()
        if self._branch_worker_comm._termination_event.is_set():
            return  # a branch before this one failed: this one is cancelled before it starts
        self._program.eval(self.env)
        self._branch_worker_comm.on_terminated(env=self.env)

    def program_eval(self: Any, env: Any) -> None:
        """In the calling thread: moto ran each program (the execution, a branch, a Map item) in a thread
        of its own, to time it out in wall-clock time, which a virtual clock never passes."""
        env.next_state_name = self.start_at.start_at_name
        EvalComponent.eval(self, env)

    def evaluate_in_place(self: Any, env: Any) -> None:
        """A task's execution in the calling thread: moto ran each in a thread of its own, with an event
        to time it out in wall-clock time (a mocked task ends at once), and copied its input twice."""
        self.timeout.eval(env=env)
        env.stack.pop()
        frame = env.open_frame()
        frame.states.reset(input_value=env.states._states_data["input"])
        frame.stack = list(env.stack)  # the values are shared: nothing changes them in place
        try:
            self._eval_execution(frame)
            output = frame.stack[-1]
        finally:
            frame.set_ended()
            env.close_frame(frame)
        env.stack.append(output)
        if not self._is_language_query_jsonpath():  # then as moto's: result, assignments, selector, path
            env.states.set_result(output)
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            env.states.reset(input_value=env.stack.pop())

    BranchWorker.start = start
    Program.eval = program_eval
    execute_state.ExecutionState._evaluate_with_timeout = evaluate_in_place


def _items_in_order() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import (
        InlineIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import (
        IterationWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        inline_iterator_worker,
    )

    def launch_worker(self: Any, env: Any, eval_input: Any, job_pool: Any) -> Any:
        worker = self._create_worker(env=env, eval_input=eval_input, job_pool=job_pool)
        worker.eval()  # takes every item left, in order; the workers after it find none
        return worker

    def eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        """moto's `_eval_pool`, as a loop instead of a recursion per item."""
        while job is not None:
            job_frame = worker_frame.open_inner_frame()
            self._eval_job(env=job_frame, job=job)
            worker_frame.close_frame(job_frame)
            if isinstance(job.job_output, Exception) or self.stopped():
                break
            next_job = self._job_pool.next_job()
            if next_job is None:
                source = job_frame.event_history_context.last_published_event_id
                worker_frame.event_history_context.source_event_id = source
                break
            self._job_pool.close_job(job)
            job = next_job
        self._env.close_frame(worker_frame)
        if job is not None:
            self._job_pool.close_job(job)

    def eval_input(self: Any, env_frame: Any) -> None:
        """moto's `_eval_input` without copying the Map state's whole input twice per item (a list of
        10,000 items in it made a Map quadratic): Parameters only read it, and their result is copied."""
        selector = self._item_selector or self._parameters
        if selector is None:
            return
        map_state_input = self._env.stack[-1]
        env_frame.states._states_data["input"] = map_state_input
        env_frame.stack.append(map_state_input)
        selector.eval(env_frame)
        env_frame.states.reset(input_value=env_frame.stack[-1])
        env_frame.stack.clear()

    InlineIterationComponent._launch_worker = launch_worker
    IterationWorker._eval_pool = eval_pool
    inline_iterator_worker.InlineIteratorWorker._eval_input = eval_input  # `Iterator`, which sfn-build writes


_OPEN, _CLOSE = "\ue000", "\ue001"  # an escaped brace in a Format template, until the template is filled
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
CONTROL_HIDDEN = {code: 0xF0000 + code for code in range(32)}  # to a private-use plane and back
_CONTROL_SHOWN = {hidden: code for code, hidden in CONTROL_HIDDEN.items()}


def intrinsic_string(text: str, template: bool) -> str:
    """A string argument of an intrinsic function (its text between the quotes) as AWS reads it: `\\'`,
    `\\{`, `\\}` and `\\\\` are a quote, braces and a backslash; in a Format template (`template`) an escaped
    brace stays text until the template is filled."""
    braces = {"{": _OPEN, "}": _CLOSE} if template else {}

    def unescape(match: re.Match[str]) -> str:
        char = match.group(1)
        return braces.get(char, char) if char in "'{}\\" else match.group(0)

    return _ESCAPE.sub(unescape, text).translate(_CONTROL_SHOWN)


def _intrinsic_strings_as_aws_reads_them() -> None:
    from moto.stepfunctions.parser.asl.component.intrinsic.argument.argument import ArgumentLiteral
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic.string_format import (
        StringFormat,
    )
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor as DefinitionPreprocessor

    original_visit = DefinitionPreprocessor.visitString_intrinsic_function

    class _Decoded:
        """A `States.*(...)` token whose text is the JSON string's value (moto kept JSON's escapes)."""

        def __init__(self, token: Any) -> None:
            self._value = json.loads(token.getText())

        def getText(self) -> str:  # moto's lexer refuses control characters, which AWS takes
            return '"' + self._value.translate(CONTROL_HIDDEN) + '"'

    def visit_intrinsic(self: Any, ctx: Any) -> Any:
        token = ctx.STRINGINTRINSICFUNC()
        ctx.STRINGINTRINSICFUNC = lambda: _Decoded(token)
        return original_visit(self, ctx)

    def visit_string(self: Any, ctx: Any) -> Any:
        arguments = ctx.parentCtx
        template = arguments.children[1] is ctx and arguments.parentCtx.getText().startswith("States.Format(")
        return ArgumentLiteral(definition_value=intrinsic_string(ctx.STRING().getText()[1:-1], template))

    def format_body(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        template, *values = env.stack.pop()
        pieces = template.split("{}")
        if len(pieces) - 1 != len(values):
            raise ValueError(f"States.Format: {len(pieces) - 1} placeholders for {len(values)} values")
        text = pieces[0]
        for value, piece in zip(values, pieces[1:], strict=True):
            text += self._to_str_repr(value) + piece
        env.stack.append(text.replace(_OPEN, "{").replace(_CLOSE, "}"))

    DefinitionPreprocessor.visitString_intrinsic_function = visit_intrinsic
    Preprocessor.visitFunc_arg_string = visit_string
    StringFormat._eval_body = format_body


PARSED_FUNCTIONS_KEPT = 20_000  # intrinsic functions' parses kept per process (the bench's 1,000-step DAG has 4,458)


def _faster_parse() -> None:
    """A Program's text is made only for the error that says it lacks StartAt or States (moto made it
    for every Parallel branch and Map iterator, so a definition's text was rebuilt once per level of
    nesting: a third of its parse), and an intrinsic function's text is parsed once per process
    (a step's tags and failure causes repeat them), SLL first as the definition is."""
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicLexer import ASLIntrinsicLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLIntrinsicParser import ASLIntrinsicParser
    from moto.stepfunctions.parser.asl.parse import preprocessor as parts  # the names moto's visit uses
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import Preprocessor as IntrinsicPreprocessor

    def visit_program(self: Any, ctx: Any) -> Any:
        self._open_query_language_scope(ctx)
        props = parts.TypedProps()
        for child in ctx.children:
            props.add(self.visit(child))
        if props.get(parts.QueryLanguage) is None:
            props.add(self._get_current_query_language())
        for required in (parts.StartAt, parts.States):
            if props.get(required) is None:
                raise ValueError(f"No '{required}' definition for Program in context: '{ctx.getText()}'.")
        program = parts.Program(
            query_language=props.get(parts.QueryLanguage) or parts.QueryLanguage(),
            start_at=props.get(parts.StartAt),
            states=props.get(parts.States),
            timeout_seconds=props.get(parts.TimeoutSeconds),
            comment=props.get(parts.Comment),
            version=props.get(parts.Version),
        )
        self._close_query_language_scope()
        return program

    parsed_functions: dict[str, tuple[Any, Any]] = {}

    def parse_intrinsic(source: str) -> tuple[Any, Any]:
        if source not in parsed_functions:
            if len(parsed_functions) >= PARSED_FUNCTIONS_KEPT:  # the emulator parses for as long as it runs
                parsed_functions.clear()
            tree = _sll_tree(ASLIntrinsicLexer, ASLIntrinsicParser, source, "func_decl")
            if tree is None:
                parsed_functions[source] = original_parse(source)  # LL, with moto's own errors
            else:
                parsed_functions[source] = (IntrinsicPreprocessor().visit(tree), tree)
        return parsed_functions[source]

    original_parse = intrinsic_parser.IntrinsicParser.parse
    parts.Preprocessor.visitProgram_decl = visit_program
    intrinsic_parser.IntrinsicParser.parse = staticmethod(parse_intrinsic)


def _history_without_deep_copies() -> None:
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    def get_event_history(self: Any) -> list[Any]:
        with self._mutex:
            return list(self._history_event_list)

    EventManager.get_event_history = get_event_history


def _cache_lookups_from_the_store() -> None:
    """A step's cache lookup (`<step>.cache`, a Lambda task) is answered from CACHE, at CLOCK's time,
    as the deployed function would answer it; no mocked response is used."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_lambda

    service = state_task_service_lambda.StateTaskServiceLambda
    original = service._eval_execution

    def eval_execution(self: Any, env: Any) -> None:
        if not (env.is_mocked_mode() and env.next_state_name.endswith(CACHE_STATE_SUFFIX)):
            original(self, env)
            return
        self.resource.eval(env=env)
        env.stack.pop()
        parameters = self._eval_parameters(env=env)
        env.stack.append({"StatusCode": 200, "Payload": CACHE.answer(parameters["Payload"], CLOCK.time())})

    service._eval_execution = eval_execution


class _Thrown:
    """An error a service call raises, in the form the mocked-response thrower reads."""

    def __init__(self, error: str, cause: str) -> None:
        self.error, self.cause = error, cause


def _task_inputs_limited() -> None:
    """A task whose effective input (its Parameters, evaluated) passes 256 KiB fails with
    `States.DataLimitExceeded`, as in AWS; moto checks only what a task returns. Thrown as a mocked
    error is (`_states_errors_passed_on`)."""
    from moto.stepfunctions.parser import quotas
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import mock_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    def limited(evaluate: Callable[[Any, Any], dict]) -> Callable[[Any, Any], dict]:
        def eval_parameters(self: Any, env: Any) -> dict:
            parameters = evaluate(self, env)
            if not quotas.is_within_size_quota(parameters):  # raises the error
                cause = (
                    f"The state {env.next_state_name!r} has an input (its Parameters) with a size exceeding "
                    "the maximum number of bytes service limit."
                )
                mock_eval_utils._eval_mocked_response_throw(env, _Thrown("States.DataLimitExceeded", cause))
            return parameters

        return eval_parameters

    StateTask._eval_parameters = limited(StateTask._eval_parameters)
    StateTaskLambda._eval_parameters = limited(StateTaskLambda._eval_parameters)


def _markers_from_the_store() -> None:
    """Marker states (`<step>.after-needs`, `.read-needs`, `.signal`, `.markers-cleared`) are answered
    from MARKERS as DynamoDB answers them, with or without a mocked response."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import mock_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )

    original = StateTaskService._eval_execution

    def eval_execution(self: Any, env: Any) -> None:
        if not marker_role(env.next_state_name or ""):
            original(self, env)
            return
        self.resource.eval(env=env)
        env.stack.pop()
        parameters = self._eval_parameters(env=env)
        resource = self.resource.resource_arn
        try:
            env.stack.append(_marker_answer(resource, parameters))
        except _MarkerError as error:
            mock_eval_utils._eval_mocked_response_throw(env, _Thrown(error.name, str(error)))

    StateTaskService._eval_execution = eval_execution


class _MarkerError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _marker_answer(resource: str, parameters: dict[str, Any]) -> Any:
    """What the markers table (or SendTaskSuccess) answers a marker state's call."""
    if resource == markers.CLEAR_RESOURCE:
        for requests in parameters["RequestItems"].values():
            for request in requests:
                MARKERS.pop(request["DeleteRequest"]["Key"][markers.KEY_ATTRIBUTE]["S"], None)
        return {"UnprocessedItems": {}}
    if resource == markers.NOTIFY_RESOURCE:
        raise RuntimeError("a simulated run has no step waiting for a signal: its branches run in dependency order")
    key = parameters["Key"][markers.KEY_ATTRIBUTE]["S"]
    item = MARKERS.get(key)
    if resource == markers.WAIT_RESOURCE:
        needs = int(parameters["ExpressionAttributeValues"][":n"]["N"])
        if item is not None and len(item[markers.ARRIVED]["SS"]) >= needs:
            raise _MarkerError(markers.ALREADY_DONE[0], "The conditional request failed (Service: DynamoDb)")
        raise RuntimeError(
            f"the marker {key} is not done: in a simulated run a step's needs run before it (a branch order fault)"
        )
    if resource == markers.READ_RESOURCE:
        return {} if item is None else {"Item": copy.deepcopy(item)}
    # A signal: ADD arrived :s [SET #p0 = :p0, #p1 = :p1...], returning the item (ALL_NEW); or, before it,
    # SET only (the results beyond what one update sets).
    values = parameters["ExpressionAttributeValues"]
    item = MARKERS.setdefault(key, {markers.KEY_ATTRIBUTE: {"S": key}, markers.ARRIVED: {"SS": []}})
    arrived = item[markers.ARRIVED]["SS"]
    arrived.extend(step for step in values.get(":s", {"SS": []})["SS"] if step not in arrived)
    for name, attribute in parameters.get("ExpressionAttributeNames", {}).items():
        item[attribute] = {"S": values[":" + name[1:]]["S"]}
    return {"Attributes": copy.deepcopy(item)}


def _programs_from_the_cache() -> None:
    """Executions (and, in the emulator, the check of a new definition) parse each definition once."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def entrypoint(self: Any) -> Any:
        return parsed(self._evaluation_details.state_machine_details.definition)

    original_check = StepFunctionsParserBackend._validate_definition

    def check(definition: str) -> None:
        try:
            parsed(definition)
        except Exception:
            original_check(definition)  # moto's own error for a definition it cannot read

    ExecutionWorker._get_evaluation_entrypoint = entrypoint
    StepFunctionsParserBackend._validate_definition = staticmethod(check)


def parsed(definition: str) -> Any:
    """moto's program of a definition: from the cache (module `program_cache`), else parsed and kept."""
    from .program_cache import load_or_parse

    readable = _with_simulated_items(definition)
    return load_or_parse(definition, lambda: program_of(readable))


def program_of(definition: str) -> Any:
    """moto's program of a definition: built from its JSON (module `program_builder`, ten times faster)
    where it can be, else parsed by moto's parser."""
    from .program_builder import build_program

    program = build_program(definition, two_stage_parse)
    return program if program is not None else two_stage_parse(definition)


def two_stage_parse(definition: str) -> Any:
    """moto's parse of a definition (AmazonStateLanguageParser.parse), first with ANTLR's SLL prediction
    (about twice as fast) and, only when that meets an error, with its full LL prediction: ANTLR's
    two-stage use, which gives the parse LL would."""
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    tree = _sll_tree(ASLLexer, ASLParser, definition, "state_machine")
    if tree is None:
        return AmazonStateLanguageParser.parse(definition)[0]  # LL, with moto's own errors
    return Preprocessor().visit(tree)


def _sll_tree(lexer_type: Any, parser_type: Any, text: str, rule: str) -> Any | None:
    """The parse tree of `text` from `rule` by ANTLR's SLL prediction, or None when SLL meets an error
    (then LL, moto's own parse, gives the tree LL would, or moto's error)."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.atn.PredictionMode import PredictionMode
    from antlr4.error.Errors import ParseCancellationException
    from antlr4.error.ErrorStrategy import BailErrorStrategy

    parser = parser_type(CommonTokenStream(lexer_type(InputStream(text))))
    parser.removeErrorListeners()
    parser._interp.predictionMode = PredictionMode.SLL
    parser._errHandler = BailErrorStrategy()
    try:
        return getattr(parser, rule)()
    except ParseCancellationException:
        return None


SIMULATED_ITEMS: dict[str, tuple[list[Any], str]] = {}  # a Distributed Map's name -> (its items, their format)
SIMULATED_ITEM_COUNT = 3
_ITEM_READS = re.compile(r"\$\.item((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")


def _with_simulated_items(definition: str) -> str:
    """Record the simulated items of each Distributed Map; the definition as moto's parser reads it."""
    if '"ItemReader"' not in definition:
        return definition
    from ..asl import walk_states

    document = json.loads(definition)
    for name, body in walk_states(document):
        reader = body.get("ItemReader")
        if reader is None:
            continue
        config = reader.get("ReaderConfig", {})
        SIMULATED_ITEMS[name] = (simulated_items(body), config.get("InputType", "JSON"))
        if config.get("InputType") in ("JSONL", "MANIFEST"):
            config["InputType"] = "JSON"  # the simulated items are a JSON list whatever the file's format
    return json.dumps(document)


def simulated_items(map_state: dict[str, Any]) -> list[Any]:
    """Items with every member the item selector and the iterator read (`$.item.x.y`), or listed objects."""
    reader = map_state["ItemReader"]
    count = range(1, SIMULATED_ITEM_COUNT + 1)
    if reader["Resource"].endswith("listObjectsV2"):
        prefix = reader.get("Parameters", {}).get("Prefix", "")
        return [
            {
                "Key": f"{prefix}simulated-object-{n}",
                "Size": 1024 * n,
                "ETag": f'"{n:032x}"',
                "LastModified": "2024-01-01T00:00:00.000Z",
                "StorageClass": "STANDARD",
            }
            for n in count
        ]
    text = json.dumps(map_state.get("ItemProcessor", {}))
    paths = {match.group(1) for match in _ITEM_READS.finditer(text) if match.group(1)}
    if not paths:
        return [f"simulated-item-{n}" for n in count]
    items = []
    for n in count:
        item: dict[str, Any] = {}
        for path in sorted(paths, key=len):
            *parents, leaf = path.strip(".").split(".")
            node = item
            for part in parents:
                child = node.setdefault(part, {})
                node = child if isinstance(child, dict) else node
            node.setdefault(leaf, f"simulated-{leaf}-{n}")
        items.append(item)
    return items


def _items_from_the_simulation() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import resource_eval_s3
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3 as writer_s3,
    )

    reader = resource_eval_s3.ResourceEvalS3

    def get_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        env.stack.pop()
        items, input_type = SIMULATED_ITEMS.get(env.next_state_name, ([], "JSON"))
        env.stack.append(_csv(items) if input_type == "CSV" else json.dumps(items))

    def list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        env.stack.pop()
        env.stack.append(SIMULATED_ITEMS.get(env.next_state_name, ([], ""))[0])

    reader._handle_get_object = staticmethod(get_object)
    reader._handle_list_objects_v2 = staticmethod(list_objects_v2)

    def put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        """What the ResultWriter answers, without writing to S3."""
        parameters = env.stack.pop()
        env.stack.pop()
        run = env.map_run_record_pool_manager.get_all().pop()
        prefix = parameters.get("Prefix", "")
        prefix += "/" if prefix and not prefix.endswith("/") else ""
        key = f"{prefix}{run.map_run_arn.split(':')[-1]}/manifest.json"
        details = {"Bucket": parameters["Bucket"], "Key": key}
        env.stack.append({"MapRunArn": run.map_run_arn, "ResultWriterDetails": details})

    writer_s3.ResourceEvalS3._handle_put_object = staticmethod(put_object)
    _distributed_items_in_order_and_counted()


def _distributed_items_in_order_and_counted() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as distributed,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as workers,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original_run = distributed.DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_run(self, env, eval_input)
        items = eval_input.map_run_record.item_counter
        failed, total = items.failed.get(), max(items.total.get(), 1)
        count = eval_input.tolerated_failure_count or 0
        percentage = eval_input.tolerated_failure_percentage or 0.0
        if failed > count and failed * 100.0 / total > percentage:
            cause = "The specified tolerated failure threshold was exceeded"
            details = MapRunFailedEventDetails(error=EXCEEDED, cause=cause)
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(mapRunFailedEventDetails=details),
                )
            )

    def eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        """moto's `_eval_pool` as a loop instead of a recursion per item."""
        while job is not None:
            job_frame = worker_frame.open_inner_frame()
            self._eval_job(env=job_frame, job=job)
            worker_frame.delete_frame(job_frame)
            next_job = None if isinstance(job.job_output, Exception) or self.stopped() else self._job_pool.next_job()
            if next_job is None:
                break  # moto closes the frame before the job: the Map state waits for the jobs
            self._job_pool.close_job(job)
            job = next_job
        self._env.delete_frame(worker_frame)
        if job is not None:
            self._job_pool.close_job(job)

    original_input = workers.DistributedItemProcessorWorker._eval_input

    def eval_input(self: Any, env_frame: Any) -> None:
        original_input(self, env_frame)
        _as_child_execution(env_frame, self._map_run_record.map_run_arn)

    distributed.DistributedIterationComponent._map_run = map_run
    workers.DistributedItemProcessorWorker._eval_pool = eval_pool
    workers.DistributedItemProcessorWorker._eval_input = eval_input


EXCEEDED = "States.ExceedToleratedFailureThreshold"


def _as_child_execution(frame: Any, map_run_arn: str) -> None:
    """A Distributed Map item's frame (its input just selected) as AWS runs it, a child execution:
    `$$.Execution` names the child (`execution:<machine>/<map run label>:<name>`) and its input is the
    item selector's output. Only this frame's context changes: its parent's is shared by other frames."""
    context = frame.states.context_object.context_object_data
    name = f"{context['Map']['Item']['Index']:08d}-{map_run_arn.rpartition(':')[2][:8]}"
    head = map_run_arn.replace(":mapRun:", ":execution:", 1).rpartition(":")[0]
    child = {"Id": f"{head}:{name}", "Name": name, "Input": copy_json(frame.states.get_input())}
    context["Execution"] = {**context["Execution"], **child}


def _csv(items: list[Any]) -> str:
    import csv
    import io

    columns = sorted({key for item in items if isinstance(item, dict) for key in item})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for item in items:
        writer.writerow([item.get(column, "") if isinstance(item, dict) else item for column in columns])
    return out.getvalue()


_COPYING_MODULES = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.json_manipulation.json_merge",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.mock_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.environment",
)
_SCALARS = (str, int, float, bool, type(None))
_RECORDS: set[type] = set()  # moto's records: plain objects whose attributes are JSON values


def copy_json(value: Any, memo: Any = None) -> Any:
    """`copy.deepcopy` for JSON values (dicts, lists, scalars) and moto's records (program states,
    copied at every Map item and Parallel branch; a Map's closed jobs); other objects are deep-copied."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list:
        return [copy_json(item) for item in value]
    if kind in _SCALARS:
        return value
    if kind is set:
        return {copy_json(item) for item in value}
    if kind in _RECORDS:
        record = object.__new__(kind)
        record.__dict__.update({name: copy_json(item) for name, item in vars(value).items()})
        return record
    import copy

    return copy.deepcopy(value, memo)


class _JsonCopy:
    """What the copying modules see as their `copy` module."""

    deepcopy = staticmethod(copy_json)

    def __getattr__(self, name: str) -> Any:
        import copy

        return getattr(copy, name)


def _json_copies() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import JobClosed
    from moto.stepfunctions.parser.asl.eval import program_state

    _RECORDS.update(
        record
        for record in vars(program_state).values()
        if isinstance(record, type) and issubclass(record, program_state.ProgramState)
    )
    _RECORDS.add(JobClosed)
    for name in _COPYING_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is not None:
            module.copy = _JsonCopy()


def _state_shared_until_written() -> None:
    """A state's data read without copying it, and written by copying only the path to what changes.

    moto deep-copied the whole state at every read (a state's input, a path, a task's frame), so a
    run whose state grows with its steps (each keeping a result a later step reads) took time in the
    square of its steps: 13 s for a chain of 1,000 Lambda steps each reading the one before. The
    state is a value nothing changes in place but a ResultPath, which now copies the mappings on its
    path (`$`, `$.steps`) and shares the rest: the input it read is left as it was."""
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.eval import states

    def extract(query: str | None, data: Any) -> Any:
        return data if query is None else states.extract_json(query, data)

    def reset(self: Any, input_value: Any) -> None:
        self._states_data.update(input=input_value, result=None, errorOutput=None)

    def json_path_body(self: Any, env: Any) -> None:
        value = env.stack[-1]
        if self.json_path != string_expression.JSONPATH_ROOT_PATH:
            value = string_expression.extract_json(self.json_path, value)
        env.stack.append(value)

    moto_result_path = ResultPath._eval_body

    def result_path_body(self: Any, env: Any) -> None:
        steps = _simple_steps(self.result_path_src) if self.result_path_src is not None else None
        written = _MISSING
        if steps and not any(isinstance(step, int) for step in steps):
            written = _written(env.states.get_input(), steps, env.stack[-1])
        if written is _MISSING:  # `null`, `$`, an index, or a member on the way that is not a mapping
            moto_result_path(self, env)  # moto's own (it copies what it changes)
            return
        env.stack[-1] = written

    states.States._extract = staticmethod(extract)
    states.States.reset = reset
    string_expression.StringJsonPath._eval_body = json_path_body
    ResultPath._eval_body = result_path_body


def _state_written_once() -> None:
    """A state's data written as JSON once: its exit event, its size check (moto's, with spaces; now
    as sent, compact) and the next state's entry event hold the same value, which moto wrote three
    times. Installed after `_json_by_reused_encoders`, whose encoder it calls."""
    from moto.stepfunctions.parser import quotas
    from moto.stepfunctions.parser.asl.component.state import state

    encode, compact = state.to_json_str, (",", ":")
    last: list[tuple[Any, str]] = [(None, "null")]  # the value last written compactly, and its text

    def state_text(value: Any, separators: tuple[str, str] | None = None) -> str:
        if separators != compact:
            return encode(value, separators)
        seen, text = last[0]
        if seen is not value:  # a state's data is never changed in place (`_state_shared_until_written`)
            text = encode(value, compact)
            last[0] = (value, text)
        return text

    def within_size_quota(value: Any) -> bool:
        return len(state_text(value, compact).encode("utf-8", "surrogatepass")) < quotas.MAX_STATE_SIZE_UTF8_BYTES

    state.to_json_str, state.is_within_size_quota = state_text, within_size_quota


def _missing_variables_described_when_read() -> None:
    """A Choice's variable its input lacks (a resume gate asks at every step) is described, with the
    whole input as JSON, only when the description is read: moto wrote it every time."""
    from moto.stepfunctions.parser.asl.component.state.choice.comparison import variable

    class MissingVariable(variable.NoSuchVariable):
        def __init__(self, name: str, error: Exception) -> None:
            self.name, self.error = name, error

        @property
        def path(self) -> str:
            return f"{self.name}, {self.error}"

    def variable_body(self: Any, env: Any) -> None:
        try:
            self.string_sampler.eval(env=env)
            value = env.stack.pop()
        except Exception as error:
            value = MissingVariable(self.string_sampler.literal_value, error)
        env.stack.append(value)

    variable.Variable._eval_body = variable_body


def _written(data: Any, steps: tuple[str | int, ...], value: Any) -> Any:
    """`data` with `value` at the member path `steps`: the mappings on the path are new, the rest is
    shared; missing mappings are made. `_MISSING` when a member on the way is not a mapping."""
    if not isinstance(data, dict):
        return _MISSING
    head, rest = steps[0], steps[1:]
    copied = dict(data)
    if rest:
        inner = _written(data.get(head, {}), rest, value)
        if inner is _MISSING:
            return _MISSING
        copied[head] = inner
    else:
        copied[head] = value
    return copied


def _json_by_reused_encoders() -> None:
    """moto's `to_json_str`, in every module of its interpreter that uses it, with one C encoder
    per separators (moto's `default` kept: dates as ISO text, anything else as `str`)."""
    from json.encoder import c_make_encoder, encode_basestring_ascii

    from moto.stepfunctions.parser.asl.utils import encoding

    if c_make_encoder is None:
        return  # a Python without the C accelerator: moto's own is as fast as any
    original, default = encoding.to_json_str, encoding._DateTimeEncoder().default
    encoders: dict[tuple[str, str] | None, Any] = {}

    def to_json_str(obj: Any, separators: tuple[str, str] | None = None) -> str:
        encoder = encoders.get(separators)
        if encoder is None:
            item_separator, key_separator = separators or (", ", ": ")
            # no markers: state data are JSON trees; the encoder then keeps no state between calls
            encoder = c_make_encoder(
                None, default, encode_basestring_ascii, None, key_separator, item_separator, False, False, True
            )
            encoders[separators] = encoder
        if type(obj) is str:
            return encode_basestring_ascii(obj)
        return "".join(encoder(obj, 0))

    _replaced_everywhere("to_json_str", original, to_json_str)


def _replaced_everywhere(name: str, original: Any, replacement: Any) -> None:
    """`name` replaced in each module of moto's interpreter that imported `original` under it."""
    import sys

    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("moto.stepfunctions.parser") and getattr(module, name, None) is original:
            setattr(module, name, replacement)


def _parts_run_in_process() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn as sfn

    original_eval = sfn.StateTaskServiceSfn._eval_service_task
    original_client = sfn.boto_client_for
    ended: dict[str, dict[str, Any]] = {}  # execution ARN -> what DescribeExecution says of it

    def _eval_service_task(
        self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
    ) -> None:
        # arn:...:stateMachine:<machine>[:<alias>]: a part is started by its alias
        machine = str(normalised_parameters.get("StateMachineArn", "")).split(":stateMachine:", 1)[-1].split(":")[0]
        if self._get_boto_service_action() != "start_execution" or machine not in PARTS:
            original_eval(self, env, resource_runtime_part, normalised_parameters, state_credentials)
            return
        started = datetime.now(UTC)
        given = json.loads(normalised_parameters.get("Input") or "{}")
        run = PARTS[machine](given, normalised_parameters.get("Name") or "part")
        _splice(env.event_manager, run.events, run.largest_history)
        ended[run.execution_arn] = {
            "executionArn": run.execution_arn,
            "stateMachineArn": run.state_machine_arn,
            "name": run.execution_arn.rsplit(":", 1)[-1],
            "status": run.status,
            "startDate": started,
            "stopDate": datetime.now(UTC),
            "input": json.dumps(given),
            **({"output": json.dumps(run.output)} if run.status == "SUCCEEDED" else {}),
            **{key: value for key, value in (("error", run.error), ("cause", run.cause)) if value is not None},
        }
        env.stack.append({"ExecutionArn": run.execution_arn, "StartDate": started})

    class _Client:
        """A Step Functions client that knows the parts' executions and asks AWS (moto) about others."""

        def __init__(self, **kwargs: Any) -> None:
            self._kwargs = kwargs
            self._real: Any = None

        def _client(self) -> Any:
            """The boto3 client, made once (a `.sync` task polls through it)."""
            if self._real is None:
                self._real = original_client(**self._kwargs)
            return self._real

        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            if executionArn in ended:
                return dict(ended[executionArn])
            return self._client().describe_execution(executionArn=executionArn)

        def start_execution(self, **parameters: Any) -> dict[str, Any]:
            """StartExecution with the task's parameters (ASL's capitalised names; boto3's are not), its
            result as the task sees it."""
            response = self._client().start_execution(
                **{key[:1].lower() + key[1:]: value for key, value in parameters.items()}
            )
            return {key[:1].upper() + key[1:]: value for key, value in response.items()}

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client(), name)

    def _normalise_response(self: Any, response: Any, _service: Any = None, service_action_name: Any = None) -> None:
        """DescribeExecution as the `.sync` integrations give it: member names capitalised, as AWS's."""
        if service_action_name == "describe_execution" and isinstance(response, dict):
            named = {key[:1].upper() + key[1:]: value for key, value in response.items()}
            response.clear()
            response.update(named)

    sfn.StateTaskServiceSfn._eval_service_task = _eval_service_task
    sfn.StateTaskServiceSfn._normalise_response = _normalise_response
    sfn.boto_client_for = _Client


def spliced_counts(manager: Any) -> tuple[int, int]:
    """Of an execution's history: how many events its parts' executions put there, and the most one of
    their own histories holds."""
    return getattr(manager, "sfn_build_spliced", 0), getattr(manager, "sfn_build_largest_part", 0)


def _splice(manager: Any, events: list[dict[str, Any]], largest: int) -> None:
    """A part execution's state events added to the history that started it, with ids of its own
    (`largest`: the most events one of its executions holds, which `spliced_counts` tells)."""
    history = manager._history_event_list
    before = len(history)
    anchor = history[-1]["id"] if history else 0
    ids = {0: anchor}
    for event in events:
        new_id = manager._event_id_gen.get()
        ids[event["id"]] = new_id
        if event["type"] in EXECUTION_EVENTS:
            ids[event["id"]] = ids.get(event.get("previousEventId", 0), anchor)
            continue
        history.append({**event, "id": new_id, "previousEventId": ids.get(event.get("previousEventId", 0), anchor)})
    manager.sfn_build_spliced = getattr(manager, "sfn_build_spliced", 0) + len(history) - before
    manager.sfn_build_largest_part = max(getattr(manager, "sfn_build_largest_part", 0), largest)
