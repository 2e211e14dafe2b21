"""Commands that work on an AWS account (or the embedded emulator): plan, create, delete,
execute, status, and the emulator itself."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..masking import masked_text
from ..naming import part_role
from . import outcomes
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    MAX_INPUT_BYTES,
    checked_input,
    compile_file,
    fits_an_input,
    input_bytes,
    json_object,
    report,
    valid_workflow,
    write,
)


def _target(args: argparse.Namespace):
    from ..deploy.aws import Target

    return Target(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url, local=args.local)


def _connect(args: argparse.Namespace):
    from ..deploy.publish import connect

    aws = connect(_target(args))
    if args.local:
        from ..deploy import local

        print(f"using the local AWS emulator at {aws.endpoint_url}", file=sys.stderr)
        if local.outdated():
            print(
                "sfn-build: warning: the local AWS emulator was started by another version of sfn-build and runs "
                "its code; `sfn-build local stop` restarts it with this one (it forgets what it holds)",
                file=sys.stderr,
            )
    return aws


def _aws_command(run):
    """Run an AWS command, turning AWS and emulator failures into one clear message."""

    def wrapped(args: argparse.Namespace) -> int:
        from ..deploy.aws import AwsError

        try:
            return run(args)
        except (AwsError, RuntimeError) as error:
            print(f"sfn-build: {error}", file=sys.stderr)
            return EXIT_FAILED

    return wrapped


def _prepared(args: argparse.Namespace):
    compilation = compile_file(args.spec)
    if not compilation.ok:
        return None
    from ..deploy.publish import prepare

    aws = _connect(args)
    return prepare(compilation.analysis.workflow, compilation.definition, aws, compilation.parts)


def _print_changes(changes, where: str) -> None:
    from ..deploy.changes import REMOVE, SYMBOLS, summary
    from ..deploy.resources import ORDER

    rank = {kind: index for index, kind in enumerate(ORDER)}
    # the order they are applied in: creations and updates first, removals the other way round
    for change in sorted(
        changes, key=lambda c: (c.action == REMOVE, -rank[c.kind] if c.action == REMOVE else rank[c.kind])
    ):
        print(f"  {SYMBOLS[change.action]} {change.label}")
        for line in change.details():
            print(f"      {line}")
    print(summary(changes) if changes else f"No changes: {where} is up to date.")


@_aws_command
def plan(args: argparse.Namespace) -> int:
    publication = _prepared(args)
    if publication is None:
        return EXIT_FAILED
    aws = publication.aws
    print(f"Plan for {publication.workflow.name} in account {aws.account}, {aws.region}:")
    _print_changes(publication.changes, publication.workflow.name)
    cached = [step for step in publication.workflow.steps.values() if step.cache is not None]
    if cached:
        from ..durations import format_duration

        ages = [
            f"{step.name} ({format_duration(step.cache.expire_after) if step.cache.expire_after else 'any age'})"
            for step in cached
            if step.cache is not None
        ]
        print(
            "Cached steps, reusing a completed job with an equal request: " + ", ".join(ages) + "\n"
            "  (which ones hit depends on the execution's input: `sfn-build simulate --cache FILE` shows it)"
        )
    return EXIT_OK


@_aws_command
def create(args: argparse.Namespace) -> int:
    from ..deploy.publish import apply, arns_of, locked, prepare
    from ..deploy.resources import alias_arn
    from ..deploy.rollout import live_version

    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow = compilation.analysis.workflow
    aws = _connect(args)
    with locked(aws, workflow.name):  # a second create waits, then plans from what the first made
        publication = prepare(workflow, compilation.definition, aws, compilation.parts)
        print(f"Publishing {workflow.name} to account {aws.account}, {aws.region}:")
        _print_changes(publication.changes, workflow.name)
        if publication.changes:
            if not args.yes and not _confirm("Apply these changes?"):
                print("Nothing changed.")
                return EXIT_FAILED
            apply(publication, lambda change: print(f"{_done(change.action)} {change.label}"))
            print(f"Published {workflow.name}.")
        live = live_version(aws, alias_arn(workflow, arns_of(aws)))
    print(f"State machine: {publication.state_machine_arn}" + (f" ({live})" if live else ""))
    if not args.local:
        print(
            f"Console: https://console.aws.amazon.com/states/home?region={aws.region}"
            f"#/statemachines/view/{publication.state_machine_arn}"
        )
    return EXIT_OK


@_aws_command
def delete(args: argparse.Namespace) -> int:
    from ..deploy.publish import locked, plan_removal, remove

    name = _workflow_name(args.spec)
    if name is None:
        return EXIT_FAILED
    aws = _connect(args)
    with locked(aws, name):
        changes = plan_removal(aws, name)
        print(f"Deleting {name} from account {aws.account}, {aws.region}:")
        if not changes:
            print(f"Nothing to delete: sfn-build owns no resource of {name} here.")
            return EXIT_OK
        _print_changes(changes, name)
        if not args.yes and not _confirm("Delete all of this?"):
            print("Nothing changed.")
            return EXIT_FAILED
        remove(aws, name, changes, lambda change: print(f"{_done(change.action)} {change.label}"))
    print(f"Deleted {name}.")
    return EXIT_OK


@_aws_command
def execute(args: argparse.Namespace) -> int:
    from ..deploy import executions

    if outcomes.chosen(args) and not args.local:
        print("sfn-build execute: job outcomes can be chosen on the local emulator only (add --local)", file=sys.stderr)
        return EXIT_USAGE
    execution_input = json_object(args.input, "execute")
    if execution_input is None:
        return EXIT_USAGE
    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow = compilation.analysis.workflow
    if not checked_input(workflow, execution_input, "execute"):
        return EXIT_USAGE
    if not fits_an_input(execution_input, "execute") or not _input_lists_fit(compilation, execution_input, "execute"):
        return EXIT_FAILED
    return _start(args, _connect(args), compilation, execution_input, executions.execution_name())


def _input_lists_fit(compilation: Any, execution_input: dict[str, Any], command: str) -> bool:
    """Whether the input's lists fit the inline Maps that run them (with the other steps of their
    executions), and their kept results the state (after saying which do not). Status checks of their
    items that could pass the history if the work ran until its timeouts are warned of."""
    from ..compiler import input_polls_problems
    from ..execution_input import history_problems
    from ..kept_results import RESULTS_HINT, input_results_problems

    for warning in input_polls_problems(compilation, execution_input):
        print(f"sfn-build {command}: --input: warning: {warning.message}\n  hint: {warning.hint}", file=sys.stderr)
    workflow = compilation.analysis.workflow
    fits = True
    for problems, hint in (
        (history_problems(workflow, execution_input, compilation.histories()), _HISTORY_HINT),
        (input_results_problems(workflow, execution_input), RESULTS_HINT),
    ):
        for problem in problems:
            print(f"sfn-build {command}: --input: {problem}", file=sys.stderr)
        if problems:
            print(f"  hint: {hint}", file=sys.stderr)
            fits = False
    return fits


_HISTORY_HINT = (
    "give the step's for_each mode: distributed, or put the items in S3 (for_each.items: "
    "s3://bucket/items.json): either runs them as a Distributed Map, each item an execution of its own"
)


@_aws_command
def resume(args: argparse.Namespace) -> int:
    from ..deploy import executions
    from ..resume import plan_resume, unknown_from_step

    given = json_object(args.input, "resume") if args.input is not None else None
    if args.input is not None and given is None:
        return EXIT_USAGE
    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow = compilation.analysis.workflow
    wrong = unknown_from_step(workflow, args.from_steps)
    if wrong:
        print(f"sfn-build resume: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    if workflow.type != "standard":
        print("sfn-build resume: only Standard workflows keep a history to resume from", file=sys.stderr)
        return EXIT_USAGE
    if given is not None and not checked_input(workflow, given, "resume"):
        return EXIT_USAGE
    if given is not None and not _input_lists_fit(compilation, given, "resume"):
        return EXIT_FAILED
    if args.redrive and args.local:
        print("sfn-build resume: the local emulator has no RedriveExecution: resume without --redrive", file=sys.stderr)
        return EXIT_USAGE
    aws = _connect(args)
    earlier = executions.find_execution(aws, workflow, args.execution)
    if earlier["status"] == "RUNNING":
        print(
            f"sfn-build resume: {earlier['name']} is still running: wait for it to end, or stop it first "
            f"(sfn-build stop {args.spec} {earlier['name']})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if args.redrive:
        return _redrive(aws, workflow, compilation.definition, earlier)
    earlier_input = json.loads(earlier.get("input") or "{}")
    new_input = earlier_input if given is None else given
    resumable = {k: v for k, v in new_input.items() if not k.startswith("sfn_build")}
    plan = plan_resume(
        workflow,
        (executions.definition_run_by(aws, earlier["executionArn"], with_parts=True), compilation.whole()),
        executions.history(aws, earlier["executionArn"]),
        ({k: v for k, v in earlier_input.items() if not k.startswith("sfn_build")}, resumable),
        args.from_steps,
    )
    print(f"Resuming {earlier['name']} ({earlier['status']}):")
    for decision in plan.decisions:
        why = "" if decision.reused else f": {decision.reason}"
        print(f"  {'reused' if decision.reused else 'runs':7} {decision.step}{why}")
    if not plan.runs:
        print("Every step succeeded and is unchanged: nothing to run.")
        return EXIT_OK
    execution_input = plan.execution_input(resumable, earlier["executionArn"])
    size = input_bytes(execution_input)
    if size > MAX_INPUT_BYTES:
        largest = max(plan.recorded, key=lambda key: len(json.dumps(plan.recorded[key])))
        print(
            f"sfn-build resume: the recorded results make an input of {size:,} bytes; AWS takes {MAX_INPUT_BYTES:,}"
            f"\n  hint: rerun the step with the largest result too: --from {largest}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return _start(args, aws, compilation, execution_input, executions.resumed_name(earlier["name"]))


def _redrive(aws, workflow, definition: dict, earlier: dict) -> int:
    """AWS's own redrive: the same definition, from the states that failed (Standard, within 14 days)."""
    from ..deploy import executions

    if earlier["status"] not in ("FAILED", "TIMED_OUT", "ABORTED"):
        print(f"sfn-build resume: {earlier['name']} {earlier['status']}: only a failed execution can be redriven",
              file=sys.stderr)
        return EXIT_USAGE
    if executions.definition_run_by(aws, earlier["executionArn"]) != definition:
        print(
            f"sfn-build resume: {earlier['name']} ran another definition than {workflow.name}'s spec: AWS redrives "
            "only the definition an execution ran\n  hint: resume without --redrive (it works across changes)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    executions.redrive(aws, earlier["executionArn"])
    print(f"Redriven {earlier['name']}: AWS runs it again from the states that failed")
    if any(part_role(name) for name in definition.get("States", {})):
        print(
            f"  {workflow.name} runs as parts: the part that failed starts again from its first step (a new "
            "execution of it); `resume` without --redrive reuses every step that succeeded"
        )
    return EXIT_OK


@_aws_command
def history(args: argparse.Namespace) -> int:
    from ..deploy import executions
    from ..run_history import step_runs
    from ..timeline import duration_text, timeline_svg

    workflow = valid_workflow(args.spec)
    if workflow is None:
        return EXIT_FAILED
    aws = _connect(args)
    execution = executions.find_execution(aws, workflow, args.execution)
    events = executions.history(aws, execution["executionArn"])
    runs = step_runs(workflow, events, aws.region)
    print(f"{execution['name']}  {execution['status']}  started {execution['startDate']:%Y-%m-%d %H:%M:%S}")
    width = max(len(run.step) for run in runs)
    print(f"  {'step'.ljust(width)}  {'status':9}  {'start':8}  {'duration':>8}  {'attempts':>8}  job")
    for run in runs:
        start = f"{run.start:%H:%M:%S}" if run.start else "-"
        attempts = str(len(run.attempts)) if run.attempts else "-"
        print(
            f"  {run.step.ljust(width)}  {run.status:9}  {start:8}  {duration_text(run.seconds):>8}  {attempts:>8}  "
            f"{run.job or ''}".rstrip()
        )
    for state, map_run in executions.map_runs(events):  # a Distributed Map's items ran as executions of their own
        counts = executions.item_counts(aws, map_run)
        if counts is not None:
            print(f"  {state}: items {counts}")
    for run in runs:
        if run.error and run.status in ("failed", "caught"):
            print(f"\n{run.step} {run.status}: {run.error}: {masked_text(run.cause or '')}".rstrip(": "))
        for link in run.links if run.status in ("failed", "caught") else []:
            print(f"  {link}")
    if args.output:
        title = f"{workflow.name}: {execution['name']} ({execution['status']})"
        return write(args.output, timeline_svg(runs, title))
    return EXIT_OK


def _start(args: argparse.Namespace, aws, compilation, execution_input: dict, name: str) -> int:
    """Start an execution (on the emulator with its mocked case), and follow it with --wait."""
    from ..deploy import executions

    workflow = compilation.analysis.workflow
    if args.local:
        try:
            case = outcomes.mocked_case("execute", args, workflow, compilation.whole(), execution_input)
        except outcomes.OutcomeError as error:
            print(f"sfn-build execute: {error}", file=sys.stderr)
            return EXIT_USAGE if error.usage else EXIT_FAILED
        from ..deploy.emulator import leave_case
        from ..deploy.local import cases_dir

        leave_case(cases_dir(), workflow.name, name, case)
    if executions.deployed_definition(aws, workflow) not in (None, compilation.definition):
        print(
            f"warning: the state machine {workflow.name} deployed here differs from {args.spec}: this execution "
            f"runs the deployed one\n  hint: run `sfn-build create {args.spec}` to publish the spec "
            "(`sfn-build plan` shows what changed)",
            file=sys.stderr,
        )
    arn = executions.start_execution(aws, workflow, execution_input, name)
    if args.local:
        print(
            "(local: jobs are not run; each answers with a simulated result, and waits take no time)", file=sys.stderr
        )
    print(f"Started {arn}")
    if not args.wait:
        return EXIT_OK
    show = _ProgressDisplay(sys.stdout.isatty(), workflow.name)
    try:
        for progress in executions.follow(aws, arn):
            show(progress)
    except KeyboardInterrupt:
        show.close()
        print(
            f"\nStopped following {name}: the execution keeps running.\n"
            f"  sfn-build status {args.spec}{_where(args)} shows it; "
            f"sfn-build stop {args.spec} {name}{_where(args)} stops it.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    show.close()
    result = executions.describe_execution(aws, arn)
    print(f"Execution {result['status']}")
    if result["status"] == "SUCCEEDED":
        return EXIT_OK
    failed = executions.failure(aws, arn)
    if failed:
        state, error, cause = failed
        print(f"Failed in {state or 'the execution'}: {error}: {masked_text(cause or '')}")
    return EXIT_FAILED


@_aws_command
def stop(args: argparse.Namespace) -> int:
    from ..deploy import executions

    workflow = valid_workflow(args.spec)
    if workflow is None:
        return EXIT_FAILED
    aws = _connect(args)
    running = executions.running_executions(aws, workflow)
    if args.execution:
        chosen = [e for e in running if args.execution in (e["name"], e["executionArn"])]
        if not chosen:
            names = ", ".join(e["name"] for e in running) or "none"
            print(f"sfn-build stop: {args.execution} is not a running execution of {workflow.name}", file=sys.stderr)
            print(f"  hint: running now: {names}", file=sys.stderr)
            return EXIT_FAILED
        running = chosen
    if not running:
        print(f"{workflow.name} has no running executions.")
        return EXIT_OK
    asked = f"Stop {len(running)} running execution(s) of {workflow.name}?"
    if not args.execution and not args.yes and not _confirm(asked):
        print("Nothing stopped.")
        return EXIT_FAILED
    for execution in running:
        executions.stop_execution(aws, execution["executionArn"])
        print(f"Stopped {execution['name']}")
    return EXIT_OK


def _where(args: argparse.Namespace) -> str:
    """The options that chose the account, to repeat in a suggested command."""
    if args.local:
        return " --local"
    chosen = (("profile", args.profile), ("region", args.region))
    return "".join(f" --{flag} {value}" for flag, value in chosen if value)


@_aws_command
def rollback(args: argparse.Namespace) -> int:
    from ..deploy import rollout
    from ..deploy.publish import arns_of, locked
    from ..deploy.resources import alias_arn

    workflow = valid_workflow(args.spec)
    if workflow is None:
        return EXIT_FAILED
    aws = _connect(args)
    alias = workflow.rollout.alias
    with locked(aws, workflow.name):
        arn = alias_arn(workflow, arns_of(aws))
        before = rollout.read_alias(aws, arn)
        target = rollout.rollback_target(before, arn, args.to)
        print(
            f"Rolling back {workflow.name}: {alias} routes to {rollout.routes(before.routing)}; it will route to "
            f"version {target}."
        )
        if not args.yes and not _confirm("Move it?"):
            print("Nothing changed.")
            return EXIT_FAILED
        rollout.route(aws, arn, {target: 100}, exists=True)
    print(
        f"Rolled back: {alias} routes every execution of {workflow.name} to version {target}; the schedules start "
        f"it, and running executions keep their version.\n  `sfn-build create {args.spec}{_where(args)}` moves it "
        "to the spec's version again."
    )
    return EXIT_OK


@_aws_command
def status(args: argparse.Namespace) -> int:
    from ..deploy.executions import definition_run_by, deployed_definition, recent_executions, resumed_from, version
    from ..deploy.publish import arns_of
    from ..deploy.resources import alias_arn
    from ..deploy.rollout import live_version

    workflow = valid_workflow(args.spec)
    if workflow is None:
        return EXIT_FAILED
    aws = _connect(args)
    live = live_version(aws, alias_arn(workflow, arns_of(aws)))
    if live is not None:
        print(f"{workflow.name}: {live}")
    recent = recent_executions(aws, workflow)
    if not recent:
        print(f"{workflow.name} has no executions yet.")
        return EXIT_OK
    published = version(deployed_definition(aws, workflow))
    for execution in recent:
        started = execution["startDate"].strftime("%Y-%m-%d %H:%M:%S")
        stopped = execution.get("stopDate")
        took = f"{(stopped - execution['startDate']).total_seconds():.0f}s" if stopped else "running"
        name = execution.get("name") or execution["executionArn"].rsplit(":", 1)[1]
        ran = version(definition_run_by(aws, execution["executionArn"]))
        ran = f"definition {ran}" + (" (published now)" if ran == published else "")
        if execution.get("stateMachineVersionArn"):
            ran = f"version {execution['stateMachineVersionArn'].rsplit(':', 1)[1]}, {ran}"
        earlier = resumed_from(aws, execution)
        lineage = f"  resumed from {earlier.rsplit(':', 1)[1]}" if earlier else ""
        print(f"{started}  {execution['status']:10} {took:>8}  {name}  {ran}{lineage}")
    return EXIT_OK


def local(args: argparse.Namespace) -> int:
    from ..deploy import local

    if args.action == "start":
        try:
            emulator = local.start()
        except RuntimeError as error:
            print(f"sfn-build: {error}", file=sys.stderr)
            return EXIT_FAILED
        print(f"local AWS emulator running at {emulator.url} (pid {emulator.pid}); `sfn-build local stop` stops it")
    elif args.action == "status":
        emulator = local.status()
        if emulator is None:
            print("the local AWS emulator is not running (`sfn-build local start`, or any command with --local)")
            return EXIT_FAILED
        print(f"local AWS emulator running at {emulator.url} (pid {emulator.pid}); log: {emulator.log}")
    else:
        print("stopped the local AWS emulator" if local.stop() else "the local AWS emulator was not running")
    return EXIT_OK


class _ProgressDisplay:
    """Execution progress: one line rewritten in place on a terminal, plain lines otherwise. A state that
    runs again and again in a row (a Map's items) shows its first run, then how many more when it stops."""

    def __init__(self, live: bool, workflow: str) -> None:
        self.live, self.workflow, self.pending = live, workflow, False
        self.again: str | None = None  # the state that last succeeded, while it only runs again
        self.more = 0  # its successes after the first

    def __call__(self, progress) -> None:
        if progress.state == self.again and progress.event in ("entered", "succeeded") and not progress.detail:
            self.more += progress.event == "succeeded"
            if self.live:
                self._line(f"{progress.state}: succeeded {self.more} more times", pending=True)
            return
        self._say_how_many_more()
        self.again = progress.state if progress.event == "succeeded" and progress.state else None
        line = f"{progress.state or self.workflow}: {progress.event}"
        if progress.detail:
            line += f" ({progress.detail})"
        self._line(line, pending=progress.event in ("entered", "items"))

    def _say_how_many_more(self) -> None:
        if self.more:
            self._line(f"{self.again}: succeeded {self.more} more times", pending=False)
        self.more = 0

    def _line(self, line: str, *, pending: bool) -> None:
        if self.live and pending:
            print(f"\r\033[K{line}", end="", flush=True)
            self.pending = True
            return
        if self.live and self.pending:
            print("\r\033[K", end="")
        self.pending = False
        print(line, flush=True)

    def close(self) -> None:
        self._say_how_many_more()
        if self.pending:
            print()


def _done(action: str) -> str:
    return {"add": "created", "change": "updated", "remove": "removed"}[action]


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print("sfn-build: not applying without confirmation: run on a terminal, or pass --yes", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def _workflow_name(spec: str) -> str | None:
    """The workflow's name from a spec, even one with other problems (to clean up after it)."""
    from ..loader import load_file
    from ..problems import SpecError

    try:
        document = load_file(spec)
    except SpecError as error:
        report(error.problems)
        return None
    name = document.data.get("name")
    if not isinstance(name, str) or not name:
        print(f"{spec}: error: the spec has no name, so there is nothing to delete", file=sys.stderr)
        return None
    return name
