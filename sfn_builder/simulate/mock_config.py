"""Mocked task outcomes in the AWS MockConfigFile format (Step Functions Local, LocalStack).

A file names, per state machine, test cases that map states to mocked
responses; a mocked response maps attempt numbers (`"0"`, `"1-2"`) to a
`Return` payload or a `Throw` error, so a retry can fail and then succeed.

`default_config` writes a starter file for a compiled workflow: a `HappyPath`
case and, per task, a case in which it fails. A case need not name every
state: states it leaves out succeed with the simulated results of `results`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..asl import DEFAULT_MAX_ATTEMPTS, inner_blocks
from ..naming import POLL_CALL_ROLES, gate_role, marker_role, part_role
from .results import all_states, is_failure_state, reads_report, report_contents, success_result, task_states

HAPPY_PATH = "HappyPath"
DEFAULT_ERROR = "States.TaskFailed"
MAP_INVOCATIONS = 10_000  # a for_each of up to 10,000 items, or fewer items times their retries


class MockConfigError(ValueError):
    """A mock file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Attempts:
    """One entry of a mocked response: attempts `first`..`last` return or throw."""

    first: int
    last: int
    payload: Any = None
    error: str | None = None
    cause: str = ""


Case = dict[str, list[Attempts]]  # state name -> its mocked responses, by attempt


def default_config(definition: dict[str, Any], state_machine: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    """A starter MockConfigFile: the happy path, and each task step failing in turn."""
    happy = success_case(definition, execution_input)
    responses: dict[str, Any] = {}
    cases: dict[str, dict[str, str]] = {HAPPY_PATH: {}}
    for state, attempts in happy.items():
        name = f"{_identifier(state)}Succeeds"
        responses[name] = _responses(attempts)
        cases[HAPPY_PATH][state] = name
    for state in step_task_states(definition):
        name = f"{_identifier(state)}Fails"
        responses[name] = _responses(failure(definition, state))
        cases[f"{_identifier(state)}Fails"] = {**cases[HAPPY_PATH], state: name}
    return {"StateMachines": {state_machine: {"TestCases": cases}}, "MockedResponses": responses}


def one_case_config(state_machine: str, case_name: str, case: Case) -> dict[str, Any]:
    """A MockConfigFile holding just `case`."""
    names = {state: f"{_identifier(state)}Response" for state in case}
    return {
        "StateMachines": {state_machine: {"TestCases": {case_name: names}}},
        "MockedResponses": {names[state]: _responses(attempts) for state, attempts in case.items()},
    }


def success_case(definition: dict[str, Any], execution_input: dict[str, Any]) -> Case:
    """Every task succeeds at its first attempt with a simulated result.

    The input defaults declared in the definition apply under `execution_input`.
    """
    declared = definition["States"].get("input.defaults", {}).get("Result", {}).get("defaults", {})
    reports = report_contents(definition, {**declared, **execution_input})
    in_maps = map_task_states(definition)
    return {
        name: [Attempts(0, (MAP_INVOCATIONS if name in in_maps else 1) - 1, _result(name, state, reports))]
        for name, state in task_states(definition)
        # completion markers are the markers table's to answer, and parts run: not a mock's
        if not marker_role(name) and not part_role(name)
    }


CACHE_MISS = {"StatusCode": 200, "Payload": {"hit": False, "key": "0" * 64, "result": None}}


def _result(name: str, state: dict[str, Any], reports: dict[str, Any]) -> Any:
    """A task's simulated success; a step's cache lookup misses (the simulator and the emulator answer
    lookups from their own store: this is for interpreters that only read the mock file)."""
    return CACHE_MISS if gate_role(name) == "cache" else success_result(state, reports, name)


def failure(
    definition: dict[str, Any], state: str, error: str = DEFAULT_ERROR, cause: str | None = None
) -> list[Attempts]:
    """The state fails at every attempt it gets (for a task in a Map, at every item's)."""
    last = (MAP_INVOCATIONS if state in map_task_states(definition) else max_attempts(definition, state)) - 1
    return [Attempts(0, last, error=error, cause=cause or f"simulated failure of {state}")]


def map_task_states(definition: dict[str, Any]) -> set[str]:
    """The tasks that run once per item of a Map state.

    LocalStack counts a Map task's invocations across all of its items in the
    execution (moto counts per item): a task in a Map gets one response range that
    covers MAP_INVOCATIONS, so the same file works in both.
    """
    inside = set()
    for _, body in all_states(definition):
        if body["Type"] == "Map":
            inside.update(name for block in inner_blocks(body) for name, _ in all_states(block))
    return inside


def step_task_states(definition: dict[str, Any]) -> list[str]:
    """The tasks of the spec's steps (not the alerts, reports and cache lookups the compiler adds, nor
    the calls of a step that polls besides its start)."""
    return [
        name
        for name, _ in task_states(definition)
        if not is_failure_state(name)
        and not reads_report(name)
        and gate_role(name) is None
        and name.rpartition(".")[2] not in POLL_CALL_ROLES
    ]


def max_attempts(definition: dict[str, Any], state: str) -> int:
    """How many attempts a state can get: one, plus every retry its policies allow."""
    body = dict(task_states(definition))[state]
    return 1 + sum(retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS) for retrier in body.get("Retry", []))


def load(path: str) -> dict[str, Any]:
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise MockConfigError(f"{path}: cannot read the mock file: {error.strerror or error}") from None
    except ValueError as error:
        raise MockConfigError(f"{path}: the mock file is not JSON: {error}") from None
    if not isinstance(config, dict) or not isinstance(config.get("StateMachines"), dict):
        raise MockConfigError(f"{path}: a mock file has StateMachines and MockedResponses (the MockConfigFile format)")
    return config


def case_from(config: dict[str, Any], state_machine: str, case: str, source: str = "the mock file") -> Case:
    """The test case `case` of `state_machine`, as attempts per state."""
    machines = config.get("StateMachines", {})
    if state_machine not in machines:
        raise MockConfigError(f"{source} has no state machine {state_machine!r} (it has: {', '.join(machines)})")
    cases = machines[state_machine].get("TestCases", {})
    if case not in cases:
        raise MockConfigError(f"{source} has no test case {case!r} for {state_machine} (it has: {', '.join(cases)})")
    result: Case = {}
    for state, response_name in cases[case].items():
        response = config.get("MockedResponses", {}).get(response_name)
        if not isinstance(response, dict) or not response:
            raise MockConfigError(
                f"{source}: test case {case!r} names the mocked response {response_name!r}, "
                "which is not defined under MockedResponses"
            )
        result[state] = [_attempts(key, value, response_name, source) for key, value in response.items()]
    return result


def _attempts(key: str, value: Any, response: str, source: str) -> Attempts:
    first, _, last = key.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        raise MockConfigError(f'{source}: {response!r} has the attempt range {key!r}; write "0" or "1-2"')
    first_attempt, last_attempt = int(first), int(last or first)
    if isinstance(value, dict) and "Return" in value:
        return Attempts(first_attempt, last_attempt, payload=value["Return"])
    if isinstance(value, dict) and isinstance(value.get("Throw"), dict) and "Error" in value["Throw"]:
        return Attempts(
            first_attempt, last_attempt, error=value["Throw"]["Error"], cause=value["Throw"].get("Cause", "")
        )
    raise MockConfigError(f"{source}: {response!r} attempt {key!r} needs Return or Throw (with Error)")


def _responses(attempts: list[Attempts]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in attempts:
        key = str(item.first) if item.first == item.last else f"{item.first}-{item.last}"
        out[key] = (
            {"Return": item.payload} if item.error is None else {"Throw": {"Error": item.error, "Cause": item.cause}}
        )
    return out


def _identifier(state: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in state.replace("-", "_").replace(".", "_").split("_"))
