"""`sfn-build simulate`: run the compiled workflow locally, with simulated or mocked job outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..masking import masked_text
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, checked_input, compile_file, json_object
from .outcomes import OutcomeError, mocked_case


def simulate(args: argparse.Namespace) -> int:
    from ..simulate import engine

    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow, definition = compilation.analysis.workflow, compilation.definition
    given = json_object(args.input, "simulate")
    if given is None or not checked_input(workflow, given, "simulate"):
        return EXIT_USAGE
    try:
        case = mocked_case("simulate", args, workflow, definition, given)
    except OutcomeError as error:
        print(f"sfn-build simulate: {error}", file=sys.stderr)
        return EXIT_USAGE if error.usage else EXIT_FAILED
    result = engine.run(definition, workflow.name, given, case, progress=_progress)
    _show(workflow.name, result, engine.rule_alerts(workflow, definition, result))
    return EXIT_OK if result.status == "SUCCEEDED" else EXIT_FAILED


def _progress(events: int) -> None:
    print(f"  ... still simulating: {events:,} history events so far", file=sys.stderr, flush=True)


HISTORY_LIMIT = 25_000  # events in a Standard execution's history

_MARKS = {"succeeded": "ok", "failed": "failed", "running": "...", "cancelled": "cancelled", "reused": "reused"}


def _show(workflow: str, result: Any, by_rules: list[tuple[str, str]]) -> None:
    print(f"Simulated {workflow}: jobs answer with simulated results; nothing runs in AWS.")
    print("\nPath:")
    path = result.path
    names = [v.state + (f" [item {v.item}]" if v.item is not None else "") for v in path]
    width = max(map(len, names), default=0)
    for visit, name in zip(path, names, strict=True):
        line = f"  {_MARKS[visit.outcome]:9} {name.ljust(width)}"
        if visit.note:
            line += f"  {visit.note}"
        if visit.retried:
            tries = "attempt" if len(visit.retried) == 1 else "attempts"
            line += f"  attempt {visit.attempts}, after {len(visit.retried)} failed {tries}: {', '.join(visit.retried)}"
        if visit.outcome == "failed" and visit.error:
            line += f"  {visit.error}: {masked_text(visit.cause or '')}".rstrip(": ")
        print(line.rstrip())
    alerts = result.alerts
    if len(result.events) > HISTORY_LIMIT:
        print(
            f"\nwarning: this run has {len(result.events):,} history events; AWS ends a Standard execution at "
            f"{HISTORY_LIMIT:,}, so it would fail there\n  hint: fewer items per for_each, or split the work "
            "into a nested workflow (type: workflow) per batch of items"
        )
    print(f"\nAlerts published: {len(alerts) + len(by_rules)}")
    for alert in alerts:
        print(f"  {alert.subject}\n    {alert.message}")
    for rule, message in by_rules:
        print(f"  by the EventBridge rule {rule}\n    {message}")
    waited = f" (simulated waits: {result.waited_seconds:.0f}s)" if result.waited_seconds else ""
    if result.status == "SUCCEEDED":
        print(f"\nSUCCEEDED{waited}\nOutput: {json.dumps(result.output, indent=2)}")
    else:
        print(f"\n{result.status}{waited}: {result.error}: {masked_text(result.cause or '')}")
