"""Commands that need only the spec: validate, compile, graph."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from ..problems import errors_in
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, compile_file, report, write

GRAPH_FORMATS = ("svg", "png", "mermaid", "dot")
MAX_TEMPLATE_BYTES = 1_000_000  # a CloudFormation template body read from S3


def validate(args: argparse.Namespace) -> int:
    from ..validate import analyze_file

    status = EXIT_OK
    if args.format == "json":
        found = []
        for spec in args.specs:
            analysis = analyze_file(spec)
            found += [problem.as_json() for problem in analysis.problems]
            status = status if analysis.ok else EXIT_FAILED
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return status
    for spec in args.specs:
        analysis = analyze_file(spec)
        report(analysis.problems)
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


def compile_(args: argparse.Namespace) -> int:
    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    workflow, definition = compilation.analysis.workflow, compilation.definition
    if args.mock_config:
        from ..simulate.mock_config import default_config

        defaults = {f.name: f.default for f in workflow.inputs if f.has_default}
        document = default_config(compilation.whole(), workflow.name, defaults)
        return write(args.output, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    if args.format == "cloudformation":
        from ..deploy.cloudformation import template

        document = template(workflow, definition, compilation.parts)
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_TEMPLATE_BYTES:
            print(
                f"warning: the template is {size:,} bytes (minified); CloudFormation takes at most "
                f"{MAX_TEMPLATE_BYTES:,} (from S3)\n  hint: publish this workflow with `sfn-build create`",
                file=sys.stderr,
            )
        return write(args.output, text)
    status = write(args.output, compilation.json())
    return status or _write_parts(args.output, compilation)


def _write_parts(output: str | None, compilation: Any) -> int:
    """A split workflow's parts beside its definition: FILE.json -> FILE.part-N.json (and those of an
    earlier compile that this workflow no longer has removed)."""
    written = output is not None and output != "-" and Path(output).is_file()
    if written:
        _remove_stale_parts(Path(output), set(compilation.parts))
    if not compilation.parts:
        return EXIT_OK
    if not written:
        print(
            f"note: this workflow runs as {len(compilation.parts) + 1} state machines (its definition is over "
            "Step Functions' 1 MB); use -o FILE to write its parts too, as FILE.part-N.json",
            file=sys.stderr,
        )
        return EXIT_OK
    path = Path(output)
    for number in sorted(compilation.parts):
        part = _part_path(path, number)
        status = write(str(part), compilation.part_json(number))
        if status:
            return status
    return EXIT_OK


def _part_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.stem}.part-{number}{path.suffix or '.json'}")


def _remove_stale_parts(path: Path, numbers: set[int]) -> None:
    """Remove FILE.part-N.json beside FILE.json for each N the workflow no longer has."""
    pattern = re.compile(rf"{re.escape(path.stem)}\.part-([1-9][0-9]*){re.escape(path.suffix or '.json')}")
    try:
        beside = sorted(path.parent.iterdir())
    except OSError:
        return  # a folder that cannot be listed: nothing of ours to tidy
    for stale in beside:
        match = pattern.fullmatch(stale.name)
        if match and int(match.group(1)) not in numbers and stale.is_file():
            try:
                stale.unlink()
            except OSError as error:
                print(f"warning: could not remove {stale}, a part of an earlier compile: {error}", file=sys.stderr)
                continue
            print(f"removed {stale} (a part this workflow no longer has)", file=sys.stderr)


def graph(args: argparse.Namespace) -> int:
    output_format = args.format or Path(args.output).suffix.lstrip(".").lower()
    output_format = {"mmd": "mermaid", "gv": "dot"}.get(output_format, output_format)
    if output_format not in GRAPH_FORMATS:
        print(
            f"sfn-build graph: cannot tell the format of {args.output!r}; use a .svg, .png, .mmd or .dot file, "
            "or --format",
            file=sys.stderr,
        )
        return EXIT_USAGE
    compilation = compile_file(args.spec)
    if not compilation.ok:
        return EXIT_FAILED
    from ..picture import GraphvizMissing, render, steps_view

    analysis = compilation.analysis
    drawn = compilation.definition or {}
    if args.view == "steps":
        drawn = steps_view(analysis.workflow, analysis.graph, analysis.plan)
    try:
        content = render(drawn, output_format, title=analysis.workflow.name)
    except GraphvizMissing as error:
        print(f"sfn-build graph: {error}", file=sys.stderr)
        return EXIT_FAILED
    return write(args.output, content)
