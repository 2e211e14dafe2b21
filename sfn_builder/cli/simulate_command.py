"""`sfn-build simulate`: run the compiled workflow locally, with simulated or mocked job outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..masking import masked_text
from ..model import HISTORY_LIMIT
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, checked_input, compile_file, fits_an_input, json_object, write
from .outcomes import OutcomeError, mocked_case


def simulate(args: argparse.Namespace) -> int:
    from ..simulate import engine

    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow, definition = compilation.analysis.workflow, compilation.whole()
    given = json_object(args.input, "simulate")
    if given is None or not checked_input(workflow, given, "simulate"):
        return EXIT_USAGE
    if not fits_an_input(given, "simulate"):
        return EXIT_FAILED
    if args.resume_from:
        given = _resumed_input(args, workflow, definition, given)
        if given is None:
            return EXIT_USAGE
    try:
        case = mocked_case("simulate", args, workflow, definition, given)
    except OutcomeError as error:
        print(f"sfn-build simulate: {error}", file=sys.stderr)
        return EXIT_USAGE if error.usage else EXIT_FAILED
    cache, at = _cache_store(args), _start_time(args)
    if cache is None or at is False:
        return EXIT_USAGE
    result = engine.run(
        compilation.definition, workflow.name, given, case, progress=_progress, cache=cache, at=at,
        parts=compilation.machines(),
    )
    _show(workflow.name, result, engine.rule_alerts(workflow, definition, result))
    if args.cache and write(args.cache, cache.to_json()) != EXIT_OK:
        return EXIT_FAILED
    if args.save_run:
        run = {"definition": definition, "input": given, "events": result.events}
        if write(args.save_run, json.dumps(run, default=str)) != EXIT_OK:
            return EXIT_FAILED
    return EXIT_OK if result.status == "SUCCEEDED" else EXIT_FAILED


def _start_time(args: argparse.Namespace) -> float | bool | None:
    """--at as epoch seconds (None: now); False after saying it is not a time."""
    from datetime import UTC, datetime

    if not args.at:
        return None
    try:
        moment = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
    except ValueError:
        print(f"sfn-build simulate: --at {args.at}: not an ISO 8601 time (2026-12-01T03:00:00Z)", file=sys.stderr)
        return False
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _cache_store(args: argparse.Namespace) -> Any:
    """The cache the run looks jobs up in: --cache FILE (created when missing)."""
    from ..simulate.cache_store import CacheStore

    if not args.cache:
        return CacheStore()
    try:
        with open(args.cache, encoding="utf-8") as handle:
            return CacheStore.from_json(handle.read())
    except FileNotFoundError:
        return CacheStore()
    except (OSError, ValueError) as error:
        print(f"sfn-build simulate: --cache {args.cache}: not a cache file ({error})", file=sys.stderr)
        return None


def _resumed_input(args: argparse.Namespace, workflow: Any, definition: dict[str, Any], given: dict[str, Any]) -> Any:
    """The input that resumes the run saved with --save-run (None after telling what is wrong)."""
    from ..resume import plan_resume, unknown_from_step

    wrong = unknown_from_step(workflow, args.from_steps)
    if wrong:
        print(f"sfn-build simulate: {wrong}", file=sys.stderr)
        return None
    try:
        with open(args.resume_from, encoding="utf-8") as handle:
            saved = json.load(handle)
        earlier = (saved["definition"], saved["events"], saved["input"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"sfn-build simulate: --resume-from {args.resume_from}: not a run saved with --save-run ({error})",
              file=sys.stderr)
        return None
    chosen = given if args.input is not None else {k: v for k, v in earlier[2].items() if not k.startswith("sfn_build")}
    plan = plan_resume(workflow, (earlier[0], definition), earlier[1], (earlier[2], chosen), args.from_steps)
    print(f"Resuming the run saved in {args.resume_from}:")
    for decision in plan.decisions:
        why = "" if decision.reused else f": {decision.reason}"
        print(f"  {'reused' if decision.reused else 'runs':7} {decision.step}{why}")
    print()
    return plan.execution_input(chosen, f"file:{args.resume_from}")


def _progress(events: int) -> None:
    print(f"  ... still simulating: {events:,} history events so far", file=sys.stderr, flush=True)


_MARKS = {"succeeded": "ok", "failed": "failed", "running": "...", "cancelled": "cancelled", "reused": "reused",
          "cached": "cached"}


def _path_names(path: list[Any]) -> tuple[list[Any], list[str]]:
    """The visits to show and their names: a run of three or more Map items of a state, one after
    another, that each just succeeded is one line (`each [items 0-9999]`), not a line an item."""
    shown: list[Any] = []
    names: list[str] = []
    run: list[Any] = []  # plain items of one state in a row

    def close_run() -> None:
        if len(run) >= 3:
            shown.append(run[0])
            names.append(f"{run[0].state} [items {run[0].item}-{run[-1].item}]")
        else:
            shown.extend(run)
            names.extend(f"{v.state} [item {v.item}]" for v in run)
        run.clear()

    for visit in path:
        plain = visit.item is not None and visit.outcome == "succeeded" and not visit.note and not visit.retried
        if plain and run and visit.state == run[-1].state and visit.item == run[-1].item + 1:
            run.append(visit)
            continue
        close_run()
        if plain:
            run.append(visit)
        else:
            shown.append(visit)
            names.append(visit.state + (f" [item {visit.item}]" if visit.item is not None else ""))
    close_run()
    return shown, names


def _show(workflow: str, result: Any, by_rules: list[tuple[str, str]]) -> None:
    print(f"Simulated {workflow}: jobs answer with simulated results; nothing runs in AWS.")
    print("\nPath:")
    path, names = _path_names(result.path)
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
    if result.largest_history > HISTORY_LIMIT:
        print(
            f"\nwarning: this run has {result.largest_history:,} history events; AWS ends a Standard execution at "
            f"{HISTORY_LIMIT:,}, so it would fail there\n  hint: give a large for_each mode: distributed, or "
            "put its items in S3 (for_each.items: s3://...), to run them as a Distributed Map, each item an "
            "execution of its own; or split the work into nested workflows (type: workflow)"
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
