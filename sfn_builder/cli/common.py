"""What the commands share: exit codes, problem reports, compiling a spec, reading input, writing output."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..files import write_atomically
from ..problems import Problem

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_INPUT_BYTES = 256 * 1024  # an execution's input, as StartExecution sends it


def report(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(problem.render(), file=sys.stderr)


def compile_file(spec: str) -> Any:
    """The spec compiled, its problems reported."""
    from ..compiler import compile_analysis
    from ..validate import analyze_file

    compilation = compile_analysis(analyze_file(spec))
    report(compilation.problems)
    return compilation


def valid_workflow(spec: str) -> Any:
    """The spec's model when it is valid (its problems reported), else None."""
    from ..validate import analyze_file

    analysis = analyze_file(spec)
    report(analysis.problems)
    return analysis.workflow if analysis.ok else None


def json_object(text: str | None, command: str, option: str = "--input") -> dict[str, Any] | None:
    """A JSON object given inline or as @FILE; None (after saying why) when it is not one."""
    if text is None:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            print(f"sfn-build {command}: cannot read {text[1:]}: {error.strerror}", file=sys.stderr)
            return None
    try:
        value = json.loads(text)
    except ValueError as error:
        print(f"sfn-build {command}: {option} is not JSON: {error}", file=sys.stderr)
        return None
    if not isinstance(value, dict):
        print(f"sfn-build {command}: {option} must be a JSON object", file=sys.stderr)
        return None
    return value


def checked_input(workflow: Any, given: dict[str, Any], command: str) -> bool:
    """Whether `--input` fits the spec's `input:` declarations (after saying what does not)."""
    from ..execution_input import declared_inputs, input_problems

    problems = input_problems(workflow, given)
    for problem in problems:
        print(f"sfn-build {command}: --input: {problem}", file=sys.stderr)
    if problems:
        print(f"  hint: the spec declares: {declared_inputs(workflow)}", file=sys.stderr)
    return not problems


def input_bytes(execution_input: dict[str, Any]) -> int:
    """The size of an execution's input as StartExecution sends it (and Step Functions counts it)."""
    return len(json.dumps(execution_input).encode())


def fits_an_input(given: dict[str, Any], command: str) -> bool:
    """Whether `--input` is within what Step Functions takes as an execution's input (after saying
    when it is not: the emulator would take it, AWS refuses it)."""
    size = input_bytes(given)
    if size > MAX_INPUT_BYTES:
        print(
            f"sfn-build {command}: --input is {size:,} bytes; Step Functions takes at most {MAX_INPUT_BYTES:,} as an "
            "execution's input\n  hint: put large lists or documents in S3 and pass their s3:// URI (a for_each "
            "reads its items from S3 itself: for_each.items: s3://...)",
            file=sys.stderr,
        )
    return size <= MAX_INPUT_BYTES


def write(output: str | None, content: str | bytes) -> int:
    """Write to a file (or standard output for None or '-')."""
    if output is None or output == "-":
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return EXIT_OK
    path = Path(output)
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    try:
        if path.exists() and not path.is_file():  # /dev/null, a pipe: written as they are
            with path.open("wb") as handle:
                handle.write(data)
        else:
            write_atomically(path, data)  # never a half-written file
    except OSError as error:
        print(f"sfn-build: cannot write {output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {output}", file=sys.stderr)
    return EXIT_OK
