"""Values YAML 1.1 reads as something other than their text, where a job receives text.

PyYAML reads YAML 1.1: an unquoted `NO`, `yes`, `on` or `off` is a boolean, `1.10` the
number 1.1, `12:30` the number 750 (minutes and seconds). In the fields whose values reach
a job as text (container arguments, environment, Batch parameters, hyperparameters, commands)
that changes what the job gets without a word: `--country NO` becomes `--country false`.
Each such value draws a warning at its line with the quoted form as the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .loader import Document, SpecList, SpecMapping, as_text
from .problems import Path, Problem, Severity

TEXT_FIELDS = ("arguments", "env", "parameters", "hyperparameters", "command", "entrypoint")


def reread_problems(document: Document) -> list[Problem]:
    """A warning for each value in a text field that YAML read as something else."""
    if not document.reread and not any(unit.reread for unit in document.included):
        return []
    data = document.data
    roots: list[tuple[Any, Path]] = []
    steps = data.get("steps")
    if isinstance(steps, SpecMapping):
        for name, step in steps.items():
            if isinstance(step, SpecMapping):
                roots += [(step, ("steps", name, field)) for field in TEXT_FIELDS if field in step]
    defaults = data.get("defaults")
    if isinstance(defaults, SpecMapping) and isinstance(defaults.get("sagemaker"), SpecMapping):
        sagemaker = defaults["sagemaker"]
        roots += [(sagemaker, ("defaults", "sagemaker", field)) for field in TEXT_FIELDS if field in sagemaker]
    return [
        _warning(value, text, where)
        for parent, path in roots
        for value, where in _scalars(parent, path)
        if (text := document.reread_text(where)) is not None
    ]


def _scalars(parent: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """(value, path) of each scalar at or below `parent[path[-1]]`."""
    stack: list[tuple[Any, Path]] = [(parent[path[-1]], path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, SpecMapping):
            stack.extend((item, (*where, key)) for key, item in value.items())
        elif isinstance(value, SpecList):
            stack.extend((item, (*where, index)) for index, item in enumerate(value))
        else:
            yield value, where


def _warning(value: Any, text: str, path: Path) -> Problem:
    if isinstance(value, bool) or value is None:
        meaning = {True: "the boolean true", False: "the boolean false", None: "null"}[value]
    else:
        meaning = f"the number {as_text(value)}"
    return Problem(
        f"{text} is read by YAML as {meaning}, so the job receives {as_text(value)!r}",
        path,
        hint=f"quote it to keep the text: '{text}'",
        severity=Severity.WARNING,
    )
