"""Job outcomes chosen on the command line: `--fail`, `--report`, `--mock`, `--case`.

`simulate` and `execute --local` share them: they turn into one mocked test
case (state -> responses by attempt) over the all-succeed case.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..problems import did_you_mean
from .common import json_object


class OutcomeError(Exception):
    """An outcome that cannot be used; `usage` when the argument itself is wrong."""

    def __init__(self, message: str, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("job outcomes")
    group.add_argument(
        "--fail",
        action="append",
        metavar="STEP[=ERROR]",
        help="make this step's job fail (default error States.TaskFailed); repeatable",
    )
    group.add_argument(
        "--report", action="append", metavar="STEP=JSON|@FILE", help="what this step's report file holds; repeatable"
    )
    group.add_argument("--mock", metavar="FILE", help="mocked responses in the MockConfigFile format")
    group.add_argument("--case", metavar="NAME", help="the mock file's test case (default: HappyPath)")


def chosen(args: argparse.Namespace) -> bool:
    return bool(args.fail or args.report or args.mock or args.case)


def mocked_case(
    command: str, args: argparse.Namespace, workflow: Any, definition: dict[str, Any], given: dict[str, Any]
) -> Any:
    """Every job succeeds, except as the arguments say; raises OutcomeError."""
    from ..simulate.mock_config import HAPPY_PATH, MockConfigError, case_from, load, success_case

    if args.case and not args.mock:
        raise OutcomeError("--case picks a test case of a --mock file", usage=True)
    case = success_case(definition, given)
    try:
        if args.mock:
            case.update(case_from(load(args.mock), workflow.name, args.case or HAPPY_PATH, source=args.mock))
    except MockConfigError as error:
        raise OutcomeError(str(error), usage=False) from None
    for argument in args.report or []:
        _report(command, case, argument)
    for argument in args.fail or []:
        _fail(case, definition, argument)
    return case


def _fail(case: dict, definition: dict[str, Any], argument: str) -> None:
    """--fail STEP[=ERROR]: the step's task fails at every attempt."""
    from ..simulate.mock_config import DEFAULT_ERROR, failure, step_task_states

    step, _, error = argument.partition("=")
    tasks = step_task_states(definition)
    # the step's task, its task per item, or the task that starts the work of a step that polls
    state = next((name for name in (step, f"{step}.each", f"{step}.start") if name in tasks), None)
    if state is None:
        steps = sorted({t.removesuffix(".each").removesuffix(".start") for t in tasks})
        hint = did_you_mean(step, steps) or f"tasks: {', '.join(steps)}"
        raise OutcomeError(f"--fail {argument}: there is no task step {step!r} ({hint})", usage=True)
    case[state] = failure(definition, state, error or DEFAULT_ERROR)


def _report(command: str, case: dict, argument: str) -> None:
    """--report STEP=JSON|@FILE: what the step's report file holds."""
    from ..simulate.mock_config import Attempts

    step, _, text = argument.partition("=")
    state = f"{step}.report"
    if state not in case:
        reporters = sorted(s.removesuffix(".report") for s in case if s.endswith(".report"))
        raise OutcomeError(
            f"--report {argument}: step {step!r} has no report (steps with one: {', '.join(reporters) or 'none'})",
            usage=True,
        )
    content = json_object(text, command, "--report") if text else None
    if content is None:
        raise OutcomeError(f"--report {argument}: give the report's content as STEP=JSON or STEP=@FILE", usage=True)
    body = json.dumps(content)
    head = {"ContentType": "application/json", "ContentLength": len(body.encode())}
    case[state] = [Attempts(0, 0, {"Body": body, **head})]
    case[f"{step}.report-size"] = [Attempts(0, 0, head)]
