"""Meaning checks on a spec whose shape is wrong somewhere else.

When the schema finds errors, the parts it found them in are set aside: a broken step
becomes a placeholder (a `wait` that keeps its valid `needs`), a broken top-level section
is left out. If what remains passes the schema, the meaning checks run on it, and their
problems are kept unless they are about what was set aside. So one `validate` reports a
misspelt field and a reference to a step that does not run first together.
"""

from __future__ import annotations

import re
from typing import Any

from .problems import Problem

_REQUIRED = ("version", "name", "steps")


def set_aside(data: dict[str, Any], errors: list[Problem]) -> tuple[dict[str, Any], set[str], set[str]] | None:
    """(the spec without its broken parts, the broken steps, the broken sections); None when
    the breakage is too central to check anything else (the top level, a required field, `steps`)."""
    broken_steps: set[str] = set()
    broken_sections: set[str] = set()
    for problem in errors:
        path = problem.path
        if not path or path[0] in _REQUIRED[:2] or path == ("steps",):
            return None
        if path[0] == "steps" and isinstance(path[1], str):
            broken_steps.add(path[1])
        elif path[0] != "steps":
            broken_sections.add(str(path[0]))
        else:
            return None
    cleaned = {key: value for key, value in data.items() if key not in broken_sections}
    steps = data.get("steps")
    if not isinstance(steps, dict):
        return None
    cleaned["steps"] = {
        name: _placeholder(step) if name in broken_steps else step for name, step in steps.items()
    }
    return cleaned, broken_steps, broken_sections


def _placeholder(step: Any) -> dict[str, Any]:
    needs = step.get("needs") if isinstance(step, dict) else None
    kept = [n for n in needs if isinstance(n, str)] if isinstance(needs, list) else []
    return {"type": "wait", "seconds": 1, "needs": kept}


def about_set_aside(problem: Problem, steps: set[str], sections: set[str]) -> bool:
    """A meaning problem that comes from the placeholders or the missing sections."""
    path = problem.path
    if path and (path[0] in sections or (path[0] == "steps" and len(path) > 1 and path[1] in steps)):
        return True
    named = set(re.findall(r"'([A-Za-z0-9_\-]+)'", problem.message)) | set(
        re.findall(r"steps\.([A-Za-z0-9_\-]+)", problem.message)
    )
    return bool(named & steps) or any(section in problem.message for section in sections)
