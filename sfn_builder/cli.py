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
