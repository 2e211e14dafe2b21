"""Which step results the state keeps, and which of their members.

A step's result is kept under `$.steps.<key>` only when something reads it
(a template, a choice, a report); then a ResultSelector keeps the members
that are read plus a summary (name, ARN, status), as long as every member on
the way is one the API always returns. This keeps the state small (Step
Functions allows 256 KiB) however many steps a workflow has.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .model import Step, Workflow
from .references import present_inside, resolve_item
from .steps import KINDS
from .steps.flow import COMBINATORS
from .templates import Reference, TemplateError, parse_path, parse_template


@dataclass(frozen=True)
class ResultSpec:
    """How a kept result is stored: `selector` is None to keep all of it."""

    selector: dict[str, Any] | None


def references(workflow: Workflow) -> Iterator[Reference]:
    """Every reference the workflow's steps make."""
    for step in workflow.steps.values():
        yield from step.references


def step_references(step: Step, with_items: bool = True) -> Iterator[Reference]:
    """The references one step makes (in its fields, its for_each items and its choices)."""
    texts: list[str] = []
    stack: list[Any] = [v for k, v in step.config.items() if not (step.type == "choice" and k == "choices")]
    if with_items and step.for_each is not None and isinstance(step.for_each.items, str):
        stack.append(step.for_each.items)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    for text in texts:
        try:
            yield from parse_template(text).references
        except TemplateError:
            continue
    if step.type == "choice":
        yield from _condition_references(step.config.get("choices", []))


def results_read(step: Step) -> list[str]:
    """The steps whose results one step reads, in the order it reads them: those it references, and the
    fallback whose result a catch copies to the step's own key."""
    read = dict.fromkeys(str(ref.parts[0]) for ref in step.references if ref.namespace == "steps")
    read.update(dict.fromkeys(catch.fallback for catch in step.catch if catch.fallback))
    return list(read)


def _condition_references(rules: list[dict[str, Any]]) -> Iterator[Reference]:
    for rule in rules:
        for combinator in COMBINATORS:
            if combinator in rule:
                inner = rule[combinator]
                yield from _condition_references(inner if isinstance(inner, list) else [inner])
        if "when" in rule:
            yield parse_path(rule["when"])
        for value in rule.values():
            if isinstance(value, str) and "${" in value:
                yield from parse_template(value).references


def member_reads(workflow: Workflow) -> dict[str, list[tuple[str, ...]]]:
    """Per step, the distinct member paths read of its result (cut before any `[N]`)."""
    read: dict[str, list[tuple[str, ...]]] = {}
    for ref in references(workflow):
        if ref.namespace == "steps" and len(ref.parts) > 1:
            paths = read.setdefault(str(ref.parts[0]), [])
            path = _until_index(ref.parts[1:])
            if path and path not in paths:
                paths.append(path)
    return read


def result_specs(workflow: Workflow, requests: Mapping[str, dict[str, Any]] | None = None) -> dict[str, ResultSpec]:
    """The kept steps and how each keeps its result (`requests`: the task steps' requests, if built)."""
    read: dict[str, list[tuple[str | int, ...]]] = {}
    for ref in references(workflow):
        if ref.namespace == "steps":
            read.setdefault(str(ref.parts[0]), []).append(ref.parts[1:])
    for step in workflow.steps.values():
        if step.type == "processing" and step.config.get("report"):
            read.setdefault(step.name, [])
    _add_fallback_reads(workflow, read)
    specs: dict[str, ResultSpec] = {}
    for name, paths in read.items():
        step = workflow.steps[name]
        kind = KINDS[step.type]
        if step.type == "processing":
            paths = [p for p in paths if p[:1] != ("report",)]
        if step.type == "model":
            paths = [p for p in paths if p != ("ModelName",)]
            if not paths:
                continue
        if kind.result_root:
            specs[name] = ResultSpec({f"{m}.$": f"$.{m}" for m in kind.result_root})
            continue
        if not all(_selectable(step, workflow, _until_index(p), requests) for p in paths):
            specs[name] = ResultSpec(None)
            continue
        selected = [(m,) for m in kind.summary] + [_until_index(p) for p in paths]
        specs[name] = ResultSpec(_selector(selected))
    return specs


def _selectable(
    step: Step, workflow: Workflow, path: tuple[str, ...], requests: Mapping[str, dict[str, Any]] | None
) -> bool:
    """Whether a ResultSelector may pick `path` (up to any list index, where selection stops) of the
    step's result: every member on the way is always there, because the API always returns it or
    because the job's describe response repeats a member the step's request sets (as a structure or
    list written out, which the simulator's results repeat too)."""
    if not path:
        return False  # the whole result is read
    if resolve_item(Reference("steps", (step.name, *path), ""), workflow).always_present:
        return True
    if not KINDS[step.type].echoes_request:
        return False
    request = requests.get(step.name) if requests is not None else None
    if request is None:
        from .step_requests import step_request

        request = step_request(step, workflow)[0]
    sent = request.get(path[0])
    return isinstance(sent, dict | list) and present_inside(step.type, path)


def _add_fallback_reads(workflow: Workflow, read: dict[str, list[tuple[str | int, ...]]]) -> None:
    """A fallback keeps what is read of the step it stands in for (and passes it on to its own fallback)."""
    pending = [step for step in workflow.steps.values() if any(c.fallback for c in step.catch)]
    changed = True
    while changed:
        changed = False
        for step in pending:
            for fallback in (c.fallback for c in step.catch if c.fallback and step.name in read):
                have = read.setdefault(fallback, [])
                new = [p for p in read[step.name] if p not in have]
                have.extend(new)
                changed = changed or bool(new)


def _until_index(path: tuple[str | int, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            break
        out.append(part)
    return tuple(out)


def _selector(paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """A nested ResultSelector that picks each path (a shorter path wins)."""
    tree: dict[str, Any] = {}
    for path in sorted(dict.fromkeys(paths), key=len):  # stable: summary first, then spec order
        node = tree
        for depth, part in enumerate(path):
            if node.get(part) is True:
                break
            if depth == len(path) - 1:
                node[part] = True
            else:
                node = node.setdefault(part, {})

    def render(node: dict[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, child in node.items():
            if child is True:
                out[f"{key}.$"] = f"{prefix}.{key}"
            else:
                out[key] = render(child, f"{prefix}.{key}")
        return out

    return render(tree, "$")
