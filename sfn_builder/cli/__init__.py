"""The `sfn-build` command: parse arguments, call the library, render results.

Exit codes: 0 ok, 1 the spec (or the run) failed, 2 usage error. Each command
lives in the module for its kind (spec, AWS, simulate); heavy imports (the
SDKs, moto) happen inside the commands that need them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from .. import __version__
from . import outcomes, spec_commands
from .common import EXIT_FAILED, EXIT_OK


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command of a module imported when it runs: `validate` does not load what `create` needs."""

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)(args)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(argv).parse_args(argv)
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


def console() -> None:
    """The `sfn-build` program: `main`, then the process ends without Python's collector scanning what
    the command leaves (a full collection at exit; `gc.freeze` keeps it all out of it)."""
    import gc

    code = main()
    gc.freeze()
    sys.exit(code)


def parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The command line's parser, with only the parser of the command `argv` names when it names one
    (argparse looks up translations for every help text: 15 parsers were a third of `validate`'s run)."""
    root = argparse.ArgumentParser(
        prog="sfn-build",
        description="Compile workflow specs into AWS Step Functions state machines, publish and run them.",
    )
    root.add_argument("--version", action="version", version=f"sfn-build {__version__}")
    commands = root.add_subparsers(title="commands", metavar="COMMAND", required=True)
    named = _COMMANDS.get(argv[0]) if argv else None
    for add in [named] if named is not None else _COMMANDS.values():
        add(commands)
    return root


@cache
def _aws_options() -> argparse.ArgumentParser:
    """Where the AWS commands work: the options they share."""
    options = argparse.ArgumentParser(add_help=False)
    where = options.add_argument_group("where")
    where.add_argument("--local", action="store_true", help="use the embedded local AWS emulator (no account needed)")
    where.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    where.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    where.add_argument("--endpoint-url", help="send AWS calls here (also AWS_ENDPOINT_URL)")
    return options


def _validate_command(commands: Any) -> None:
    validate = commands.add_parser("validate", help="check specs and report every problem")
    validate.add_argument("specs", nargs="+", metavar="SPEC", help="workflow spec files (YAML or JSON)")
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: every problem as one JSON list on standard output (file, line, column, severity, message...)",
    )
    validate.set_defaults(run=spec_commands.validate)


def _compile_command(commands: Any) -> None:
    compile_ = commands.add_parser("compile", help="write the Amazon States Language definition")
    compile_.add_argument("spec", metavar="SPEC")
    compile_.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    written = compile_.add_mutually_exclusive_group()
    written.add_argument(
        "--format",
        choices=("asl", "cloudformation"),
        default="asl",
        help="asl: the state machine definition (default); cloudformation: a template with everything `create` makes",
    )
    written.add_argument(
        "--mock-config",
        action="store_true",
        help="write a starter MockConfigFile (Step Functions Local / LocalStack) with a case per failing task",
    )
    compile_.set_defaults(run=spec_commands.compile_)


def _graph_command(commands: Any) -> None:
    graph = commands.add_parser("graph", help="draw the state machine (SVG, PNG, Mermaid or DOT)")
    graph.add_argument("spec", metavar="SPEC")
    graph.add_argument("-o", "--output", metavar="FILE", required=True, help="the picture file to write")
    graph.add_argument(
        "--format",
        choices=spec_commands.GRAPH_FORMATS,
        help="svg, png, mermaid or dot (default: from the file's extension)",
    )
    graph.add_argument(
        "--view",
        choices=("machine", "steps"),
        default="machine",
        help="machine: the compiled state machine (default); steps: the spec's dependency graph, "
        "with the waits the compiler added dashed",
    )
    graph.set_defaults(run=spec_commands.graph)


def _simulate_command(commands: Any) -> None:
    simulate = commands.add_parser("simulate", help="run the workflow locally with simulated job outcomes")
    simulate.add_argument("spec", metavar="SPEC")
    simulate.add_argument("--input", metavar="JSON|@FILE", help="the execution input (default: {})")
    simulate.add_argument("--save-run", metavar="FILE", help="keep this run (definition, input, history) to resume")
    simulate.add_argument(
        "--resume-from", metavar="FILE", help="resume a run kept with --save-run, as `sfn-build resume` would"
    )
    simulate.add_argument(
        "--from", dest="from_steps", metavar="STEP", action="append", default=[], help="with --resume-from: rerun it"
    )
    simulate.add_argument(
        "--cache",
        metavar="FILE",
        help="cached jobs: lookups are answered from this file, and the run's cached jobs are added to it",
    )
    simulate.add_argument("--at", metavar="TIME", help="the simulated start time, for cache expiry (ISO 8601)")
    outcomes.add_arguments(simulate)
    simulate.set_defaults(run=_command("simulate_command", "simulate"))


def _plan_command(commands: Any) -> None:
    plan = commands.add_parser("plan", parents=[_aws_options()], help="show what `create` would add, change and remove")
    plan.add_argument("spec", metavar="SPEC")
    plan.set_defaults(run=_command("aws_commands", "plan"))


def _create_command(commands: Any) -> None:
    create = commands.add_parser(
        "create", parents=[_aws_options()], help="publish the workflow with its role, schedule and alerts"
    )
    create.add_argument("spec", metavar="SPEC")
    create.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    create.set_defaults(run=_command("aws_commands", "create"))


def _rollback_command(commands: Any) -> None:
    rollback = commands.add_parser(
        "rollback",
        parents=[_aws_options()],
        help="move the workflow's alias back to an earlier version (what the schedules start)",
    )
    rollback.add_argument("spec", metavar="SPEC")
    rollback.add_argument(
        "--to", type=int, metavar="VERSION", help="the version (default: the one before what the alias routes to)"
    )
    rollback.add_argument("--yes", "-y", action="store_true", help="move it without asking")
    rollback.set_defaults(run=_command("aws_commands", "rollback"))


def _delete_command(commands: Any) -> None:
    delete = commands.add_parser("delete", parents=[_aws_options()], help="remove everything `create` made")
    delete.add_argument("spec", metavar="SPEC")
    delete.add_argument("--yes", "-y", action="store_true", help="remove without asking")
    delete.set_defaults(run=_command("aws_commands", "delete"))


def _execute_command(commands: Any) -> None:
    execute = commands.add_parser("execute", parents=[_aws_options()], help="start an execution")
    execute.add_argument("spec", metavar="SPEC")
    execute.add_argument("--input", metavar="JSON|@FILE", help="the execution input (default: {})")
    execute.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    outcomes.add_arguments(execute)  # with --local only: the emulator runs no jobs
    execute.set_defaults(run=_command("aws_commands", "execute"))


def _resume_command(commands: Any) -> None:
    resume = commands.add_parser(
        "resume",
        parents=[_aws_options()],
        help="rerun an execution from where it failed, reusing the results of steps that succeeded",
    )
    resume.add_argument("spec", metavar="SPEC")
    resume.add_argument(
        "execution", metavar="EXECUTION", nargs="?", help="the earlier execution's name or ARN (default: --last)"
    )
    resume.add_argument("--last", action="store_true", help="the most recent execution (the default)")
    resume.add_argument(
        "--from",
        dest="from_steps",
        metavar="STEP",
        action="append",
        default=[],
        help="run this step (and what comes after it) again even if it succeeded; may be repeated",
    )
    resume.add_argument("--input", metavar="JSON|@FILE", help="another input (default: the earlier execution's)")
    resume.add_argument(
        "--redrive",
        action="store_true",
        help="use AWS's RedriveExecution instead (the definition unchanged, within 14 days of the failure)",
    )
    resume.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    outcomes.add_arguments(resume)  # with --local only
    resume.set_defaults(run=_command("aws_commands", "resume"))


def _history_command(commands: Any) -> None:
    history = commands.add_parser(
        "history", parents=[_aws_options()], help="show an execution step by step (and draw it as a timeline)"
    )
    history.add_argument("spec", metavar="SPEC")
    history.add_argument(
        "execution", metavar="EXECUTION", nargs="?", help="its name or ARN (default: --last, the most recent)"
    )
    history.add_argument("--last", action="store_true", help="the most recent execution (the default)")
    history.add_argument("-o", "--output", metavar="FILE", help="also draw the run as a timeline (SVG)")
    history.set_defaults(run=_command("aws_commands", "history"))


def _stop_command(commands: Any) -> None:
    stop = commands.add_parser("stop", parents=[_aws_options()], help="stop a running execution (or all of them)")
    stop.add_argument("spec", metavar="SPEC")
    stop.add_argument("execution", metavar="EXECUTION", nargs="?", help="its name or ARN (default: every running one)")
    stop.add_argument("--yes", "-y", action="store_true", help="stop them all without asking")
    stop.set_defaults(run=_command("aws_commands", "stop"))


def _status_command(commands: Any) -> None:
    status = commands.add_parser("status", parents=[_aws_options()], help="list recent executions")
    status.add_argument("spec", metavar="SPEC")
    status.set_defaults(run=_command("aws_commands", "status"))


def _local_command(commands: Any) -> None:
    emulator = commands.add_parser("local", help="start, inspect or stop the embedded local AWS emulator")
    emulator.add_argument("action", choices=("start", "status", "stop"))
    emulator.set_defaults(run=_command("aws_commands", "local"))


_COMMANDS: dict[str, Callable[[Any], None]] = {
    "validate": _validate_command,
    "compile": _compile_command,
    "graph": _graph_command,
    "simulate": _simulate_command,
    "plan": _plan_command,
    "create": _create_command,
    "rollback": _rollback_command,
    "delete": _delete_command,
    "execute": _execute_command,
    "resume": _resume_command,
    "history": _history_command,
    "stop": _stop_command,
    "status": _status_command,
    "local": _local_command,
}
