"""The `sfn-build` command: parse arguments, call the library, render results.

Exit codes: 0 ok, 1 the spec (or the run) failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .problems import Problem, errors_in

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
GRAPH_FORMATS = ("svg", "png", "mermaid", "dot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug of ours: say so briefly, and how to see more
        if os.environ.get("SFN_BUILD_DEBUG"):
            raise
        print(f"sfn-build: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print("  hint: this is a bug in sfn-build; rerun with SFN_BUILD_DEBUG=1 for details", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfn-build",
        description="Compile workflow specs into AWS Step Functions state machines.",
    )
    parser.add_argument("--version", action="version", version=f"sfn-build {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    validate = commands.add_parser("validate", help="check specs and report every problem")
    validate.add_argument("specs", nargs="+", metavar="SPEC", help="workflow spec files (YAML or JSON)")
    validate.set_defaults(run=_validate)

    compile_ = commands.add_parser("compile", help="write the Amazon States Language definition")
    compile_.add_argument("spec", metavar="SPEC")
    compile_.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    compile_.add_argument(
        "--format",
        choices=("asl", "cloudformation"),
        default="asl",
        help="asl: the state machine definition (default); cloudformation: a template with everything `create` makes",
    )
    compile_.set_defaults(run=_compile)

    graph = commands.add_parser("graph", help="draw the state machine (SVG, PNG, Mermaid or DOT)")
    graph.add_argument("spec", metavar="SPEC")
    graph.add_argument("-o", "--output", metavar="FILE", required=True, help="the picture file to write")
    graph.add_argument(
        "--format",
        choices=GRAPH_FORMATS,
        help="svg, png, mermaid or dot (default: from the file's extension)",
    )
    graph.set_defaults(run=_graph)

    aws_options = argparse.ArgumentParser(add_help=False)
    where = aws_options.add_argument_group("where")
    where.add_argument("--local", action="store_true", help="use the embedded local AWS emulator (no account needed)")
    where.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    where.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    where.add_argument("--endpoint-url", help="send AWS calls here (also AWS_ENDPOINT_URL)")

    plan = commands.add_parser("plan", parents=[aws_options], help="show what `create` would add, change and remove")
    plan.add_argument("spec", metavar="SPEC")
    plan.set_defaults(run=_plan)

    create = commands.add_parser(
        "create", parents=[aws_options], help="publish the workflow with its role, schedule and alerts"
    )
    create.add_argument("spec", metavar="SPEC")
    create.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    create.set_defaults(run=_create)

    delete = commands.add_parser("delete", parents=[aws_options], help="remove everything `create` made")
    delete.add_argument("spec", metavar="SPEC")
    delete.add_argument("--yes", "-y", action="store_true", help="remove without asking")
    delete.set_defaults(run=_delete)

    execute = commands.add_parser("execute", parents=[aws_options], help="start an execution")
    execute.add_argument("spec", metavar="SPEC")
    execute.add_argument("--input", metavar="JSON|@FILE", help="the execution input (default: {})")
    execute.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    execute.set_defaults(run=_execute)

    status = commands.add_parser("status", parents=[aws_options], help="list recent executions")
    status.add_argument("spec", metavar="SPEC")
    status.set_defaults(run=_status)

    emulator = commands.add_parser("local", help="start, inspect or stop the embedded local AWS emulator")
    emulator.add_argument("action", choices=("start", "status", "stop"))
    emulator.set_defaults(run=_local)
    return parser


def _report(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(problem.render(), file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    from .validate import analyze_file

    status = EXIT_OK
    for spec in args.specs:
        analysis = analyze_file(spec)
        _report(analysis.problems)
        errors = len(errors_in(analysis.problems))
        warnings = len(analysis.problems) - errors
        if analysis.ok:
            steps = len(analysis.workflow.steps) if analysis.workflow else 0
            note = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
            print(f"{spec}: valid ({steps} step{'s' * (steps != 1)}{note})")
        else:
            print(f"{spec}: {errors} error{'s' * (errors != 1)}", file=sys.stderr)
            status = EXIT_FAILED
    return status


def _compile_file(spec: str):
    from .compiler import compile_analysis
    from .validate import analyze_file

    compilation = compile_analysis(analyze_file(spec))
    _report(compilation.problems)
    return compilation


def _compile(args: argparse.Namespace) -> int:
    compilation = _compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    if args.format == "cloudformation":
        import json

        from .deploy.cloudformation import template

        document = template(compilation.analysis.workflow, compilation.definition)
        return _write(args.output, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return _write(args.output, compilation.json())


def _graph(args: argparse.Namespace) -> int:
    output_format = args.format or Path(args.output).suffix.lstrip(".").lower()
    output_format = {"mmd": "mermaid", "gv": "dot"}.get(output_format, output_format)
    if output_format not in GRAPH_FORMATS:
        print(
            f"sfn-build graph: cannot tell the format of {args.output!r}; use a .svg, .png, .mmd or .dot file, "
            "or --format",
            file=sys.stderr,
        )
        return EXIT_USAGE
    compilation = _compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    from .picture import GraphvizMissing, render

    try:
        content = render(compilation.definition or {}, output_format, title=compilation.analysis.workflow.name)
    except GraphvizMissing as error:
        print(f"sfn-build graph: {error}", file=sys.stderr)
        return EXIT_FAILED
    return _write(args.output, content)


def _write(output: str | None, content: str | bytes) -> int:
    if output is None or output == "-":
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return EXIT_OK
    path = Path(output)
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as error:
        print(f"sfn-build: cannot write {output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {output}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())


# -- publishing and operating ---------------------------------------------------


def _target(args: argparse.Namespace):
    from .deploy.aws import Target

    return Target(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url, local=args.local)


def _connect(args: argparse.Namespace):
    from .deploy.publish import connect

    aws = connect(_target(args))
    if args.local:
        print(f"using the local AWS emulator at {aws.endpoint_url}", file=sys.stderr)
    return aws


def _aws_command(run):
    """Run an AWS command, turning AWS and emulator failures into one clear message."""

    def wrapped(args: argparse.Namespace) -> int:
        from .deploy.aws import AwsError

        try:
            return run(args)
        except (AwsError, RuntimeError) as error:
            print(f"sfn-build: {error}", file=sys.stderr)
            return EXIT_FAILED

    return wrapped


def _prepared(args: argparse.Namespace):
    compilation = _compile_file(args.spec)
    if not compilation.ok:
        return None
    from .deploy.publish import prepare

    aws = _connect(args)
    return prepare(compilation.analysis.workflow, compilation.definition, aws)


def _print_changes(changes, where: str) -> None:
    from .deploy.changes import REMOVE, SYMBOLS, summary
    from .deploy.resources import ORDER

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
def _plan(args: argparse.Namespace) -> int:
    publication = _prepared(args)
    if publication is None:
        return EXIT_FAILED
    aws = publication.aws
    print(f"Plan for {publication.workflow.name} in account {aws.account}, {aws.region}:")
    _print_changes(publication.changes, publication.workflow.name)
    return EXIT_OK


@_aws_command
def _create(args: argparse.Namespace) -> int:
    from .deploy.publish import apply

    publication = _prepared(args)
    if publication is None:
        return EXIT_FAILED
    aws, name = publication.aws, publication.workflow.name
    print(f"Publishing {name} to account {aws.account}, {aws.region}:")
    _print_changes(publication.changes, name)
    if publication.changes:
        if not args.yes and not _confirm("Apply these changes?"):
            print("Nothing changed.")
            return EXIT_FAILED
        apply(publication, lambda change: print(f"{_done(change.action)} {change.label}"))
        print(f"Published {name}.")
    print(f"State machine: {publication.state_machine_arn}")
    if not args.local:
        print(
            f"Console: https://console.aws.amazon.com/states/home?region={aws.region}"
            f"#/statemachines/view/{publication.state_machine_arn}"
        )
    return EXIT_OK


@_aws_command
def _delete(args: argparse.Namespace) -> int:
    from .deploy.publish import plan_removal, remove

    name = _workflow_name(args.spec)
    if name is None:
        return EXIT_FAILED
    aws = _connect(args)
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
def _execute(args: argparse.Namespace) -> int:
    from .deploy import publish

    workflow = _valid_workflow(args.spec)
    if workflow is None:
        return EXIT_FAILED
    execution_input = _execution_input(args.input)
    if execution_input is None:
        return EXIT_USAGE
    aws = _connect(args)
    arn = publish.start_execution(aws, workflow, execution_input)
    print(f"Started {arn}")
    if not args.wait:
        return EXIT_OK
    show = _ProgressDisplay(sys.stdout.isatty(), workflow.name)
    for progress in publish.follow(aws, arn):
        show(progress)
    show.close()
    result = publish.describe_execution(aws, arn)
    print(f"Execution {result['status']}")
    if result["status"] == "SUCCEEDED":
        return EXIT_OK
    failed = publish.failure(aws, arn)
    if failed:
        state, error, cause = failed
        print(f"Failed in {state or 'the execution'}: {error}: {cause}")
    return EXIT_FAILED


@_aws_command
def _status(args: argparse.Namespace) -> int:
    from .deploy.publish import recent_executions

    workflow = _valid_workflow(args.spec)
    if workflow is None:
        return EXIT_FAILED
    executions = recent_executions(_connect(args), workflow)
    if not executions:
        print(f"{workflow.name} has no executions yet.")
        return EXIT_OK
    for execution in executions:
        started = execution["startDate"].strftime("%Y-%m-%d %H:%M:%S")
        stopped = execution.get("stopDate")
        took = f"{(stopped - execution['startDate']).total_seconds():.0f}s" if stopped else "running"
        name = execution.get("name") or execution["executionArn"].rsplit(":", 1)[1]
        print(f"{started}  {execution['status']:10} {took:>8}  {name}")
    return EXIT_OK


def _local(args: argparse.Namespace) -> int:
    from .deploy import local

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
    """Execution progress: one line rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, live: bool, workflow: str) -> None:
        self.live, self.workflow, self.pending = live, workflow, False

    def __call__(self, progress) -> None:
        line = f"{progress.state or self.workflow}: {progress.event}"
        if progress.detail:
            line += f" ({progress.detail})"
        if self.live and progress.event == "entered":
            print(f"\r\033[K{line}", end="", flush=True)
            self.pending = True
            return
        if self.live and self.pending:
            print("\r\033[K", end="")
        self.pending = False
        print(line, flush=True)

    def close(self) -> None:
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


def _valid_workflow(spec: str):
    from .validate import analyze_file

    analysis = analyze_file(spec)
    _report(analysis.problems)
    return analysis.workflow if analysis.ok else None


def _workflow_name(spec: str) -> str | None:
    """The workflow's name from a spec, even one with other problems (to clean up after it)."""
    from .loader import load_file
    from .problems import SpecError

    try:
        document = load_file(spec)
    except SpecError as error:
        _report(error.problems)
        return None
    name = document.data.get("name")
    if not isinstance(name, str) or not name:
        print(f"{spec}: error: the spec has no name, so there is nothing to delete", file=sys.stderr)
        return None
    return name


def _execution_input(text: str | None) -> dict | None:
    import json

    if text is None:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            print(f"sfn-build execute: cannot read {text[1:]}: {error.strerror}", file=sys.stderr)
            return None
    try:
        value = json.loads(text)
    except ValueError as error:
        print(f"sfn-build execute: --input is not JSON: {error}", file=sys.stderr)
        return None
    if not isinstance(value, dict):
        print("sfn-build execute: --input must be a JSON object", file=sys.stderr)
        return None
    return value
