"""`sfn-build simulate`: run the compiled workflow locally, with simulated or mocked job outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..problems import did_you_mean
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, compile_file, json_object


class _Usage(Exception):
    """An argument that names something the workflow does not have."""


def simulate(args: argparse.Namespace) -> int:
    from ..simulate import engine
    from ..simulate.mock_config import HAPPY_PATH, MockConfigError, case_from, load, success_case

    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow, definition = compilation.analysis.workflow, compilation.definition
    given = json_object(args.input, "simulate")
    if given is None:
        return EXIT_USAGE
    if args.case and not args.mock:
        print("sfn-build simulate: --case picks a test case of a --mock file", file=sys.stderr)
        return EXIT_USAGE
    defaults = {f.name: f.default for f in workflow.inputs if f.has_default}
    case = success_case(definition, {**defaults, **given})
    try:
        if args.mock:
            case.update(case_from(load(args.mock), workflow.name, args.case or HAPPY_PATH, source=args.mock))
        for argument in args.report or []:
            _report(case, definition, argument)
        for argument in args.fail or []:
            _fail(case, definition, argument)
    except MockConfigError as error:
        print(f"sfn-build simulate: {error}", file=sys.stderr)
        return EXIT_FAILED
    except _Usage as error:
        print(f"sfn-build simulate: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = engine.run(definition, workflow.name, given, case)
    _show(workflow.name, result)
    return EXIT_OK if result.status == "SUCCEEDED" else EXIT_FAILED


def _fail(case: dict, definition: dict[str, Any], argument: str) -> None:
    """--fail STEP[=ERROR]: the step's task fails at every attempt."""
    from ..simulate.mock_config import DEFAULT_ERROR, failure, max_attempts, step_task_states

    step, _, error = argument.partition("=")
    tasks = step_task_states(definition)
    state = step if step in tasks else f"{step}.each" if f"{step}.each" in tasks else None
    if state is None:
        steps = sorted({t.removesuffix(".each") for t in tasks})
        hint = did_you_mean(step, steps) or f"tasks: {', '.join(steps)}"
        raise _Usage(f"--fail {argument}: there is no task step {step!r} ({hint})")
    case[state] = failure(state, max_attempts(definition, state), error or DEFAULT_ERROR)


def _report(case: dict, definition: dict[str, Any], argument: str) -> None:
    """--report STEP=JSON|@FILE: what the step's report file holds."""
    from ..simulate.mock_config import Attempts

    step, _, text = argument.partition("=")
    state = f"{step}.report"
    if state not in case:
        reporters = sorted(s.removesuffix(".report") for s in case if s.endswith(".report"))
        raise _Usage(
            f"--report {argument}: step {step!r} has no report (steps with one: {', '.join(reporters) or 'none'})"
        )
    content = json_object(text or None, "simulate", "--report") if text else None
    if content is None:
        raise _Usage(f"--report {argument}: give the report's content as STEP=JSON or STEP=@FILE")
    body = json.dumps(content)
    case[state] = [Attempts(0, 0, {"Body": body, "ContentType": "application/json", "ContentLength": len(body)})]


_MARKS = {"succeeded": "ok", "failed": "failed", "running": "..."}


def _show(workflow: str, result: Any) -> None:
    print(f"Simulated {workflow}: jobs answer with simulated results; nothing runs in AWS.")
    print("\nPath:")
    width = max((len(v.state) for v in result.path), default=0)
    for visit in result.path:
        line = f"  {_MARKS[visit.outcome]:7} {visit.state.ljust(width)}"
        if visit.retried:
            line += f"  after {len(visit.retried)} failed attempt(s): {', '.join(visit.retried)}"
        if visit.outcome == "failed" and visit.error:
            line += f"  {visit.error}: {visit.cause or ''}".rstrip(": ")
        print(line.rstrip())
    alerts = result.alerts
    print(f"\nAlerts published: {len(alerts)}")
    for alert in alerts:
        print(f"  {alert.subject}\n    {alert.message}")
    waited = f" (simulated waits: {result.waited_seconds:.0f}s)" if result.waited_seconds else ""
    if result.status == "SUCCEEDED":
        print(f"\nSUCCEEDED{waited}\nOutput: {json.dumps(result.output, indent=2)}")
    else:
        print(f"\n{result.status}{waited}: {result.error}: {result.cause}")
