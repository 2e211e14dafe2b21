"""Validate, second half: what the spec means, beyond its shape.

Runs on the model of a spec that passed the schema. Each check yields
problems with document paths; the caller places them in the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .allow_lists import MAX_VALUES, RESOURCE_FIELDS, possible_values
from .aws_rules import aws_problems
from .execution_input import declared_inputs, described, history_problems, input_findings, matches_type
from .graph import Jump, StepGraph
from .kept_results import RESULTS_HINT, input_results_problems
from .model import (
    INLINE_MAP_CONCURRENCY,
    INLINE_MAP_ITEMS,
    TASK_TYPES,
    TERMINAL_TARGETS,
    Deployment,
    ForEach,
    InputField,
    Step,
    Workflow,
    parse_airflow,
    stands_in_for,
)
from .naming import RESERVED_INPUT_PREFIX, RESUME_INPUT
from .problems import Path, Problem, Severity, did_you_mean
from .references import IDENTIFIER, has_result, resolve
from .request_overrides import request_problems
from .request_size import STATE_LIMIT
from .schedule import check_expression
from .secret_checks import secret_problems
from .steps import KINDS
from .steps.base import check_arn, check_role, check_s3_uri
from .steps.flow import COMBINATORS
from .subscription_checks import subscription_problems
from .templates import Reference, TemplateError, parse_path, parse_template

if TYPE_CHECKING:
    from .history_budget import Histories

_NAME = re.compile(r"^[A-Za-z0-9_\-]+\Z")
_SYNC_TYPES = ("processing", "training", "tuning", "transform", "batch", "workflow")


def semantic_problems(workflow: Workflow, data: dict[str, Any]) -> tuple[list[Problem], StepGraph | None]:
    """Every meaning problem; the step graph when it is sound enough to plan."""
    problems = [*_names(workflow), *_edges(workflow, data)]
    graph = StepGraph(workflow)
    cycle = graph.find_cycle()
    if cycle:
        problems.append(
            Problem(
                "the steps depend on each other in a cycle: " + " -> ".join(cycle),
                ("steps", cycle[0]),
                hint="remove one of these dependencies (needs, dependencies or a choice/catch next)",
            )
        )
    for step in workflow.steps.values():
        problems.extend(KINDS[step.type].checks(step, workflow))
        problems.extend(request_problems(step, KINDS[step.type]))
        problems.extend(_after_terminal(step, workflow))
        problems.extend(_catch_then(step, workflow, data["steps"][step.name]))
    if not cycle:
        problems.extend(_never_run(workflow))
        problems.extend(_templates(workflow, graph))
        problems.extend(_choices(workflow, graph))
    problems.extend(_workflow_level(workflow, schedules_listed=isinstance(data.get("schedule"), list)))
    problems.extend(aws_problems(workflow, data))
    problems.extend(_resource_fields(workflow))
    problems.extend(secret_problems(workflow))
    problems.extend(_cache_checks(workflow, data))
    graph_ok = not cycle and not any(p.path[:1] == ("dependencies",) or p.path[2:3] == ("needs",) for p in problems)
    return problems, graph if graph_ok else None


def _names(workflow: Workflow) -> Iterator[Problem]:
    if not _NAME.match(workflow.name) or len(workflow.name) > 80:
        yield Problem(
            f"the name {workflow.name!r} is not a valid state machine name",
            ("name",),
            hint="use 1-80 letters, digits, '-' or '_'",
        )
    for name in workflow.steps:
        path = ("steps", name)
        if not _NAME.match(name) or len(name) > 60:
            yield Problem(
                f"the step name {name!r} is not valid",
                path,
                hint="use 1-60 letters, digits, '-' or '_'",
                on_key=True,
            )
        elif name in TERMINAL_TARGETS:
            yield Problem(
                f"'{name}' cannot be a step name: `next: {name}` already means the end of the flow",
                path,
                hint=f"rename the step, e.g. '{name}_step'",
                on_key=True,
            )
    yield from _job_name_twins(workflow)
    for field in workflow.inputs:
        if not IDENTIFIER.match(field.name):
            yield Problem(
                f"the input name {field.name!r} is not valid",
                ("input", field.name),
                hint="use letters, digits and '_', not starting with a digit",
                on_key=True,
            )
        elif field.name.startswith(RESERVED_INPUT_PREFIX):
            yield Problem(
                f"input names starting with '{RESERVED_INPUT_PREFIX}' are sfn-build's (`resume` passes "
                f"'{RESUME_INPUT}')",
                ("input", field.name),
                hint="choose another name",
                on_key=True,
            )
        if field.has_default and not matches_type(field.default, field.type):
            yield Problem(  # null is warned: a spec may mean "none unless the execution gives one"
                f"'{field.name}' is declared {field.type}, but its default is {described(field.default)}",
                ("input", field.name, "default"),
                hint=f"write a default of type {field.type} (text in quotes), or change the input's type",
                severity=Severity.WARNING if field.default is None else Severity.ERROR,
            )
        if field.allowed is not None:
            yield from _allowed_values(field)


def _job_name_twins(workflow: Workflow) -> Iterator[Problem]:
    """Steps whose jobs are named alike (`prep_a` and `prep-a` both start `<workflow>--prep-a-`): the
    console, alerts and job tags could not tell which step ran a job."""
    first: dict[str, str] = {}
    for step in workflow.steps.values():
        kind = KINDS[step.type]
        if not kind.runs_job:
            continue
        prefix = kind.job_prefix(workflow, step)
        if prefix not in first:
            first[prefix] = step.name
            continue
        yield Problem(
            f"steps '{first[prefix]}' and '{step.name}' both name their jobs {prefix}-...: the console, alerts and "
            "job tags cannot tell which step ran a job",
            ("steps", step.name),
            hint="rename one of them (job names keep letters and digits, lowercased, and turn the rest into '-')",
            severity=Severity.WARNING,
            on_key=True,
        )


def _allowed_values(field: InputField) -> Iterator[Problem]:
    """An input's `enum` holds values of its type, and its default is one of them."""
    for index, value in enumerate(field.allowed or ()):
        if not matches_type(value, field.type):
            yield Problem(
                f"the allowed value {value!r} is not of the input's type ({field.type})",
                ("input", field.name, "enum", index),
                hint=f"list only {field.type} values, or change the input's type",
            )
    if field.has_default and field.default not in (field.allowed or ()):
        yield Problem(
            f"the default {field.default!r} is not one of the allowed values",
            ("input", field.name, "default"),
            hint="add it to enum, or choose one of " + ", ".join(repr(v) for v in field.allowed or ()),
        )


def _cache_checks(workflow: Workflow, data: dict[str, Any]) -> Iterator[Problem]:
    """`cache:` where it can work: not on for_each steps (yet), and a warning where it can never hit."""
    for step in workflow.steps.values():
        if step.cache is None:
            continue
        path: Path = ("steps", step.name, "cache") if "cache" in data["steps"][step.name] else ("defaults", "cache")
        if step.for_each is not None:
            yield Problem(
                f"step '{step.name}' runs for_each: its jobs cannot be cached yet (defaults.cache skips such steps)",
                path,
                hint="remove `cache` from this step",
            )
        elif "${execution." in json.dumps(dict(step.config)):
            yield Problem(
                f"step '{step.name}' is cached, but its request reads ${{execution...}}, which differs in every "
                "execution: its cache key does too, so it never hits",
                path,
                hint="take the value from an input instead, or remove `cache`",
                severity=Severity.WARNING,
            )


def _resource_fields(workflow: Workflow) -> Iterator[Problem]:
    """Templated fields that name a resource (module `allow_lists`): bounded by `enum` inputs, and each value
    they can take passes the check the field's literal text gets."""
    reported: set[Path] = set()
    for step in workflow.steps.values():
        kind = KINDS[step.type]
        for field, what in RESOURCE_FIELDS.get(step.type, ()):
            value = step.config.get(field)
            path = kind.field_path(step, field)
            if not isinstance(value, str) or "${" not in value or path in reported:
                continue
            reported.add(path)
            values = possible_values(value, workflow)
            if values is None:
                yield Problem(
                    f"{field} is templated ({value!r}), so the policy would have to allow every {what} in the "
                    "account to whoever can start an execution",
                    path,
                    hint=f"take it from an input declared with `enum:` listing the allowed {what}s (at most "
                    f"{MAX_VALUES} combinations; the policy grants exactly those), or write the value itself",
                )
                continue
            for candidate in values:
                as_written = replace(step, config=MappingProxyType({**step.config, field: candidate}))
                for problem in kind.checks(as_written, workflow):
                    if problem.path == path:
                        yield replace(problem, message=f"{value!r} can be {candidate!r}: {problem.message}")


def _edges(workflow: Workflow, data: dict[str, Any]) -> Iterator[Problem]:
    names = list(workflow.steps)
    for name, raw in data["steps"].items():
        for n, need in enumerate(raw.get("needs", [])):
            if need == name:
                yield Problem(f"step '{name}' needs itself", ("steps", name, "needs", n))
            elif need not in workflow.steps:
                yield _unknown_step(need, ("steps", name, "needs", n), names)
        step = workflow.steps[name]
        for n, catch in enumerate(step.catch):
            if catch.next not in workflow.steps and catch.next not in TERMINAL_TARGETS:
                yield _unknown_step(catch.next, ("steps", name, "catch", n, "next"), names)
        if step.type == "choice":
            for n, rule in enumerate(step.config.get("choices", [])):
                if rule["next"] not in workflow.steps and rule["next"] not in TERMINAL_TARGETS:
                    yield _unknown_step(rule["next"], ("steps", name, "choices", n, "next"), names)
            default = step.config.get("default")
            if default is not None and default not in workflow.steps and default not in TERMINAL_TARGETS:
                yield _unknown_step(default, ("steps", name, "default"), names)
    for n, line in enumerate(data.get("dependencies", [])):
        edges = parse_airflow(line)
        if edges is None:
            yield Problem(
                f"cannot read the dependency {line!r}",
                ("dependencies", n),
                hint='write "a >> b", "[a, b] >> c" or "a >> [b, c]"',
            )
            continue
        for before, after in edges:
            for side in (before, after):
                if side not in workflow.steps:
                    yield _unknown_step(side, ("dependencies", n), names)
            if before == after:
                yield Problem(f"step '{before}' cannot run after itself", ("dependencies", n))


def _unknown_step(name: str, path: Path, names: list[str]) -> Problem:
    return Problem(
        f"there is no step '{name}'",
        path,
        hint=did_you_mean(name, [*names, *TERMINAL_TARGETS]) or "steps are the keys under `steps:`",
    )


def _after_terminal(step: Step, workflow: Workflow) -> Iterator[Problem]:
    for n, need in enumerate(step.needs):
        needed = workflow.steps.get(need)
        if needed is not None and needed.type in ("succeed", "fail"):
            yield Problem(
                f"step '{step.name}' needs '{need}', a {needed.type} step, after which nothing runs",
                ("steps", step.name, "needs", n) if need in step.needs else ("steps", step.name),
            )


def _catch_then(step: Step, workflow: Workflow, raw: dict[str, Any]) -> Iterator[Problem]:
    """`then` follows a handler step; a fallback handler must have a result to stand in with."""
    for n, (catch, raw_catch) in enumerate(zip(step.catch, raw.get("catch", []), strict=True)):
        path = ("steps", step.name, "catch", n, "then")
        if "then" in raw_catch and catch.next in TERMINAL_TARGETS:
            yield Problem(
                f"`then` says what follows a handler step, and `next: {catch.next}` runs none",
                path,
                hint="remove `then`, or name a handler step in `next`",
            )
        handler = workflow.steps.get(catch.fallback or "")
        if handler is not None and not stands_in_for(handler, step):
            yield Problem(
                f"with `then: fallback`, the result of '{handler.name}' stands in for that of '{step.name}', "
                f"but a {handler.type} step{' with for_each' if handler.for_each else ''} cannot give the result "
                f"of a {step.type} step{' with for_each' if step.for_each else ''}",
                path,
                hint=f"make '{handler.name}' a {step.type} step like '{step.name}'"
                + (" (with for_each)" if step.for_each else ", or a lambda that returns the members read")
                + "; or use `then: continue`",
            )


def _never_run(workflow: Workflow) -> Iterator[Problem]:
    """Steps that need a step which never lets the flow go on: a choice whose every route ends in
    `fail`, or a step that itself can never run (a need on a `fail` step is `_after_terminal`'s)."""
    dead: dict[str, str] = {}  # step -> why nothing after it runs
    changed = True
    while changed:
        changed = False
        for step in workflow.steps.values():
            if step.name in dead:
                continue
            if step.type == "choice":
                routes = [rule["next"] for rule in step.config.get("choices", [])]
                routes.append(step.config.get("default", "fail"))
                if all(route == "fail" or route in dead for route in routes):
                    dead[step.name] = f"'{step.name}', whose every route ends in fail"
                    changed = True
                    continue
            blocked = next((need for need in step.needs if need in dead), None)
            if blocked is not None:
                dead[step.name] = f"'{step.name}', which can never run"
                changed = True
                yield Problem(
                    f"step '{step.name}' can never run: it needs {dead[blocked]}",
                    ("steps", step.name, "needs", step.needs.index(blocked)),
                    hint=f"remove '{blocked}' from its needs, or give '{blocked}' a route that goes on",
                )


def _strings(value: Any, path: Path) -> Iterator[tuple[str, Path]]:
    """Every string in a value, with its path; and every key that holds `${`, which becomes a value where
    a request names things by the spec's keys (a metric's name)."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            yield current, where
        elif isinstance(current, dict):
            stack.extend((v, (*where, k)) for k, v in current.items())
            yield from ((k, (*where, k)) for k in current if isinstance(k, str) and "${" in k)
        elif isinstance(current, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(current))


def _templates(workflow: Workflow, graph: StepGraph) -> Iterator[Problem]:
    for step in workflow.steps.values():
        base = ("steps", step.name)
        config = {k: v for k, v in step.config.items() if not (step.type == "choice" and k == "choices")}
        for text, path in _strings(config, base):
            yield from _template(text, path, step, workflow, graph, item_allowed=step.for_each is not None)
        if step.for_each is not None and step.for_each.source is not None:
            yield from _item_source(step, workflow, graph)
            continue
        if step.for_each is not None:
            yield from _list_mode(step, workflow)
            if step.for_each.format is not None:
                yield Problem(
                    "for_each.format says how a file of items in S3 is written: these items are a list",
                    (*base, "for_each", "format"),
                    hint="remove it, or read the items from S3: items: s3://bucket/items.json",
                )
        if step.for_each is not None and isinstance(step.for_each.items, str):
            path = (*base, "for_each", "items")
            items = step.for_each.items
            try:
                ref = parse_template(items).single_reference
            except TemplateError as exc:
                yield Problem(str(exc), path)
                continue
            if ref is None:
                yield Problem(
                    f"for_each items {items!r} must be a list or a single ${{...}} reference to one",
                    path,
                    hint="write items: [a, b] or items: ${input.regions}",
                )
                continue
            yield from _reference(ref, path, step, workflow, graph, item_allowed=False)
            target = resolve(ref, workflow)
            if target.per_item:
                whole = len(ref.parts) == 1  # a lambda's results: the Payload of every item
                yield Problem(
                    f"{ref.text} gathers {'the Payload' if whole else 'a member'} from every item of a for_each "
                    "step, which a Map state cannot take its items from",
                    path,
                    hint="return the list from a lambda step without for_each, or write the items to S3 "
                    "(items: s3://bucket/items.json)"
                    if whole
                    else f"iterate over the whole results, ${{steps.{ref.parts[0]}}}, and read ${{item.PATH}}",
                )
            elif target.json_type not in (None, "array"):
                yield Problem(f"{ref.text} is a {target.json_type}, not a list to iterate over", path)


def _list_mode(step: Step, workflow: Workflow) -> Iterator[Problem]:
    """A list's `mode` and what only a Distributed Map takes: a mode the workflow can run, a tolerance
    and results written to S3 only where the spec says the items run distributed (sfn-build's own
    choice may change with the list)."""
    assert step.for_each is not None
    base = ("steps", step.name, "for_each")
    if step.for_each.mode == "distributed" and workflow.type != "standard":
        yield Problem(
            "mode: distributed runs the items as a Distributed Map, which Express workflows cannot run",
            (*base, "mode"),
            hint="use type: standard, or remove mode (an Express workflow runs the items inline)",
        )
    if step.for_each.mode == "inline":
        yield from _inline_limits(step.for_each, base)
    for field in ("tolerated_failure_percentage", "results"):
        if getattr(step.for_each, field) is not None and step.for_each.mode != "distributed":
            yield Problem(
                f"for_each.{field} applies to a Distributed Map only: items in S3, or mode: distributed",
                (*base, field),
                hint="add mode: distributed (each item then runs as an execution of its own), or remove it",
            )
    if step.for_each.results is not None:
        yield from check_s3_uri(step.for_each.results, (*base, "results"))


def _inline_limits(each: ForEach, base: Path) -> Iterator[Problem]:
    """What `mode: inline` cannot do as the spec asks: more than 40 at once, a history for every item."""
    if each.max_concurrency is not None and each.max_concurrency > INLINE_MAP_CONCURRENCY:
        yield Problem(
            f"an inline Map runs at most {INLINE_MAP_CONCURRENCY} items at once, not {each.max_concurrency}",
            (*base, "max_concurrency"),
            hint="remove mode: inline to run the items as a Distributed Map, or lower max_concurrency",
            severity=Severity.WARNING,
        )
    if isinstance(each.items, tuple) and len(each.items) > INLINE_MAP_ITEMS:
        yield Problem(
            f"{len(each.items):,} items inline write about {8 * len(each.items):,} events into the execution's "
            "history, which Step Functions ends at 25,000",
            (*base, "items"),
            hint="remove mode: inline to run the items as a Distributed Map, or put them in S3",
            severity=Severity.WARNING,
        )


# How many item outputs of `{}` a Distributed Map gathers in 256 KiB ("{}," each, in a list).
_GATHERED_ITEMS_LIMIT = STATE_LIMIT // 3 // 1000 * 1000


def _item_source(step: Step, workflow: Workflow, graph: StepGraph) -> Iterator[Problem]:
    """Items in S3 (a Distributed Map): a format sfn-build can tell, a key templated from inputs only,
    a Standard workflow."""
    assert step.for_each is not None and step.for_each.source is not None
    path = ("steps", step.name, "for_each", "items")
    source = step.for_each.source
    yield from check_s3_uri(step.for_each.items, path)
    if step.for_each.results is not None:
        yield from check_s3_uri(step.for_each.results, ("steps", step.name, "for_each", "results"))
    else:
        yield Problem(
            "without for_each.results, the Distributed Map gathers every item's output into the state (an "
            f"empty one each): about {_GATHERED_ITEMS_LIMIT:,} items fill its 256 KiB, and more end the execution "
            "with States.DataLimitExceeded, which no catch handles",
            ("steps", step.name, "for_each"),
            hint="add results: s3://bucket/prefix/ (Step Functions then writes the items' results there)",
            severity=Severity.WARNING,
        )
    if "${" in source.bucket:
        yield Problem("the bucket of a step's items cannot be templated", path, hint="write the bucket name")
    if source.format == "objects" and step.for_each.format is not None:
        yield Problem(
            f"{step.for_each.items!r} is a prefix: its items are the objects under it, so for_each.format "
            "does not apply",
            ("steps", step.name, "for_each", "format"),
            hint="name one file of items instead (s3://bucket/items.json), or remove format",
        )
    if source.format is None:
        yield Problem(
            f"cannot tell how the items in {step.for_each.items!r} are written",
            path,
            hint="name the file .json, .jsonl or .csv, end the URI with '/' for every object under a prefix, "
            "or add for_each.format: json | jsonl | csv | manifest",
        )
    try:
        references = parse_template(source.key).references
    except TemplateError as exc:
        yield Problem(str(exc), path)
        references = ()
    for ref in references:
        if ref.namespace != "input":
            yield Problem(
                f"{ref.text}: the S3 key of a step's items may only use ${{input.NAME}}",
                path,
                hint="pass the key (or its varying part) as an input",
            )
        else:
            yield from _reference(ref, path, step, workflow, graph, item_allowed=False)
    if workflow.type != "standard":
        yield Problem(
            "items in S3 run as a Distributed Map, which Express workflows cannot run",
            path,
            hint="use type: standard, or list the items",
        )
    if step.for_each.mode == "inline":
        yield Problem(
            "items in S3 always run as a Distributed Map (Step Functions reads them there)",
            ("steps", step.name, "for_each", "mode"),
            hint="remove mode: inline, or list the items in the spec or the input",
        )


def _template(
    text: str, path: Path, step: Step, workflow: Workflow, graph: StepGraph, item_allowed: bool
) -> Iterator[Problem]:
    try:
        template = parse_template(text)
    except TemplateError as exc:
        yield Problem(str(exc), path, hint="write ${input.NAME}, ${steps.STEP.PATH}, ${execution.name} or ${item}")
        return
    for ref in template.references:
        problems = list(_reference(ref, path, step, workflow, graph, item_allowed))
        yield from problems
        if not problems and resolve(ref, workflow).per_item:
            yield from _item_list(ref, path, step, template.single_reference is not None)


def _item_list(ref: Reference, path: Path, step: Step, whole: bool) -> Iterator[Problem]:
    """A member gathered across a for_each step's items is a list: a task's request may take it whole."""
    member = ref.parts[-1] if len(ref.parts) > 1 else "Payload"  # a lambda's whole results: its Payloads
    if not whole:
        yield Problem(
            f"{ref.text} is a list (one {member} per item of steps.{ref.parts[0]}), which cannot be "
            "part of a text",
            path,
            hint="pass the list as a value of its own, e.g. in a lambda payload",
        )
    elif step.type not in TASK_TYPES:
        yield Problem(
            f"{ref.text} is a list (one {member} per item of steps.{ref.parts[0]}); "
            f"a {step.type} step takes one value",
            path,
            hint="pass the list to a task (e.g. a lambda) that reduces it to one value",
        )


def _literal_items_have(ref: Reference, items: tuple[Any, ...], path: Path) -> Iterator[Problem]:
    """`${item.PATH}` over a literal list: every item has the path (a path an item lacks ends the
    execution with States.Runtime, which no catch handles). The first item without it is named."""
    for number, item in enumerate(items, start=1):
        lacking = _lacks(item, ref.parts)
        if lacking is not None:
            part, node = lacking
            names = sorted(node) if isinstance(node, dict) else []
            yield Problem(
                f"{ref.text}: item {number} of the list, {json.dumps(item)}, has no {part!r}"
                + ("" if isinstance(node, dict | list) else f" ({json.dumps(node)} is not an object)"),
                path,
                hint=did_you_mean(str(part), names) if names else "read ${item} itself, or list objects",
            )
            return


def _lacks(value: Any, parts: tuple[str | int, ...]) -> tuple[str | int, Any] | None:
    """The first part of a path that `value` does not hold, with the value it is missing from."""
    node = value
    for part in parts:
        if isinstance(part, int):
            found = type(node) is list and -len(node) <= part < len(node)
        else:
            found = isinstance(node, dict) and part in node
        if not found:
            return part, node
        node = node[part]
    return None


def _reference(
    ref: Reference,
    path: Path,
    step: Step,
    workflow: Workflow,
    graph: StepGraph,
    item_allowed: bool,
    may_be_missing: bool = False,
) -> Iterator[Problem]:
    """Problems of one reference; `may_be_missing` for a choice test of whether the value is there."""
    if ref.namespace == "item" and not item_allowed:
        yield Problem(
            f"{ref.text} is only defined in a step with for_each",
            path,
            hint="add for_each: {items: [...]} to the step, or remove the reference",
        )
        return
    bad = next((p for p in ref.parts[1:] if isinstance(p, str) and not IDENTIFIER.match(p)), None)
    if bad is not None:
        yield Problem(
            f"'{bad}' in {ref.text} is not a name a JSONPath can follow",
            path,
            hint="path segments are letters, digits and '_'",
        )
        return
    if ref.namespace == "item" and step.for_each is not None and isinstance(step.for_each.items, tuple):
        yield from _literal_items_have(ref, step.for_each.items, path)
        return
    if ref.namespace == "input":
        field = workflow.input_field(str(ref.parts[0]))
        if field is None:
            declared = [f.name for f in workflow.inputs]
            yield Problem(
                f"{ref.text} reads the input '{ref.parts[0]}', which is not declared",
                path,
                hint=did_you_mean(str(ref.parts[0]), declared)
                or f"declare it: input: {{{ref.parts[0]}: {{type: string}}}}",
            )
        elif field.has_default and len(ref.parts) > 1 and not may_be_missing:
            lacking = _lacks(field.default, ref.parts[1:])
            if lacking is not None:
                part, node = lacking
                names = sorted(node) if isinstance(node, dict) else []
                yield Problem(
                    f"{ref.text}: the default of '{field.name}', {json.dumps(field.default)}, has no {part!r}: an "
                    "execution whose input lacks it too ends with States.Runtime, which no catch handles",
                    path,
                    hint=did_you_mean(str(part), names) or f"add {part!r} to the default",
                    severity=Severity.WARNING,
                )
        return
    if ref.namespace == "error":
        if graph.error_source(step.name) is None:
            yield Problem(
                f"{ref.text} is only set on a catch's handler path, and '{step.name}' runs on none",
                path,
                hint="read it in the step a catch's `next` names, or in a step that needs that one",
            )
        return
    if ref.namespace != "steps":
        return
    source = str(ref.parts[0])
    if source not in workflow.steps:
        yield Problem(
            f"{ref.text} reads step '{source}', which does not exist",
            path,
            hint=did_you_mean(source, list(workflow.steps)),
        )
        return
    source_step = workflow.steps[source]
    if not has_result(source_step.type):
        yield Problem(f"{ref.text} reads step '{source}', but a {source_step.type} step has no result", path)
        return
    each = source_step.for_each
    if each is not None and (each.source is not None or each.results is not None):
        where = f"written to {each.results}, not kept in" if each.results else "not kept in"
        yield Problem(
            f"{ref.text} reads step '{source}', whose items' results are {where} the workflow's state (they "
            "may be far larger than the 256 KiB it holds)",
            path,
            hint=f"pass the prefix to a later step that reads them from S3 (a lambda, say): {each.results}"
            if each.results
            else f"give '{source}' for_each.results: s3://bucket/prefix/ and read the results there",
        )
        return
    if source == step.name:
        yield Problem(
            f"{ref.text} reads the result of '{step.name}' itself, which exists only once it has finished",
            path,
            hint="read another step's result, or an input",
        )
        return
    ordered = graph.runs_before(source, step.name)
    produced = graph.produced_before(source, step.name) or (ordered and _tested_present(source, step, graph))
    if not (ordered if may_be_missing else produced):
        yield _not_produced(ref, path, source_step, step, graph)
        return
    if source_step.type == "lambda" and ref.parts[1:2] == ("Payload",):
        meant = "${steps." + ".".join([source, *(str(part) for part in ref.parts[2:])]) + "}"
        yield Problem(
            f"{ref.text} reads a member Payload inside the lambda's payload: a lambda step's result is its "
            "Payload already, and a path its payload lacks ends the run with States.Runtime",
            path,
            hint=f"did you mean {meant}? (keep it if the function returns a Payload member)",
            severity=Severity.WARNING,
        )
    target = resolve(ref, workflow)
    if target.error:
        yield Problem(
            f"{ref.text}: {target.error} (a {source_step.type} step's result is the {_result_name(source_step)})",
            path,
            hint=did_you_mean(str(ref.parts[len(ref.parts) - 1]), target.suggestions) if target.suggestions else None,
        )
        return
    for fallback in dict.fromkeys(c.fallback for c in source_step.catch if c.fallback in workflow.steps):
        yield from _fallback_read(ref, path, target, source_step, workflow.steps[fallback], workflow)


def _tested_present(source: str, step: Step, graph: StepGraph) -> bool:
    """`step` runs only on a choice route whose every rule tests that `source`'s result is present."""
    scopes = graph.scopes
    region = scopes.region_of.get(step.name)
    while region is not None:
        jump = graph.jumps[region][0]
        choice = graph.workflow.steps[jump.source]
        if jump.kind == "choice" and choice.config.get("default") != region:
            rules = [rule for rule in choice.config.get("choices", []) if rule["next"] == region]
            if rules and all(_tests_present(rule, source) for rule in rules):
                return True
        region = scopes.parent[region]
    return False


def _tests_present(rule: dict[str, Any], source: str) -> bool:
    if any(_tests_present(inner, source) for inner in rule.get("all", [])):
        return True
    if rule.get("is_present") is not True:
        return False
    try:
        return parse_path(rule["when"]).step == source
    except (KeyError, TemplateError):
        return False


def _not_produced(ref: Reference, path: Path, source: Step, step: Step, graph: StepGraph) -> Problem:
    """Why a step's result may be missing where it is read, with the fix that fits the path taken."""
    failed = graph.error_source(step.name)
    while failed is not None and failed != source.name:
        failed = graph.error_source(failed)
    if failed is not None:
        return Problem(
            f"{ref.text} reads '{source.name}', but '{step.name}' runs when '{source.name}' has failed, "
            "so there is no result to read",
            path,
            hint="read ${error.Error} and ${error.Cause} to see what went wrong; to stand in for the result "
            f"of '{source.name}', give its catch `then: fallback`",
        )
    if graph.runs_before(source.name, step.name):
        how = next(f"next: {c.next}" if c.next == "succeed" else "then: continue" for c in source.catch if c.goes_on)
        return Problem(
            f"{ref.text} reads '{source.name}', whose catch ({how}) lets the flow go on without its result",
            path,
            hint="use `then: fallback` with a handler whose result stands in for it, "
            f"or test it first: a choice on steps.{source.name} with is_present",
        )
    opening = _opening_jump(source.name, graph)
    if opening is not None and opening[1].source not in _jump_chain(step.name, graph):
        target, jump = opening
        when = (
            f"step '{jump.source}' fails and its catch leads there"
            if jump.kind == "catch"
            else f"choice '{jump.source}' leads to '{target}'"
        )
        needs = f"make '{step.name}' need '{source.name}' so that it runs on that path too"
        hint = needs
        if jump.kind == "catch" and target == source.name:
            hint = f"to use its result in place of the result of '{jump.source}', give that catch `then: fallback`; "
            hint += f"or {needs}"
        return Problem(
            f"{ref.text} reads '{source.name}', which runs only when {when}",
            path,
            hint=hint,
        )
    return Problem(
        f"{ref.text} reads step '{source.name}', which does not finish before '{step.name}' starts",
        path,
        hint=f"add '{source.name}' to steps.{step.name}.needs",
    )


def _opening_jump(name: str, graph: StepGraph) -> tuple[str, Jump] | None:
    """The choice or catch whose path `name` runs on (the innermost), as (its target, the jump)."""
    region = graph.scopes.region_of.get(name)
    return (region, graph.jumps[region][0]) if region is not None else None


def _jump_chain(name: str, graph: StepGraph) -> set[str]:
    """The steps whose choice or catch leads (maybe through others) to the path `name` runs on."""
    scopes = graph.scopes
    region = scopes.region_of.get(name)
    sources: set[str] = set()
    while region is not None:
        jump = graph.jumps[region][0]
        sources.add(jump.source)
        region = scopes.parent[region]
    return sources


def _fallback_read(ref: Reference, path: Path, target: Any, failed: Step, fallback: Step, workflow: Workflow):
    """A read of a step with `then: fallback` must also find its value in the fallback's result."""
    stand_in = resolve(Reference("steps", (fallback.name, *ref.parts[1:]), ref.text), workflow)
    where = f"when '{failed.name}' fails, its fallback '{fallback.name}' stands in"
    if len(ref.parts) == 1 and fallback.type != failed.type:
        yield Problem(
            f"{ref.text} reads the whole result, and {where}: a {fallback.type} step's result has another form",
            path,
            hint=f"read the members you need, e.g. ${{steps.{failed.name}.NAME}}",
        )
    elif stand_in.error:
        yield Problem(
            f"{ref.text}: {where}, and {stand_in.error} (a {fallback.type} step's result is the "
            f"{_result_name(fallback)})",
            path,
            hint=f"read a member both results have, or make '{fallback.name}' a {failed.type} step or a lambda",
        )
    elif target.json_type and stand_in.json_type and target.json_type != stand_in.json_type:
        yield Problem(
            f"{ref.text} is a {target.json_type}, but {where}, whose value there is a {stand_in.json_type}",
            path,
            hint=f"make '{fallback.name}' produce the same shape as '{failed.name}'",
        )


def _result_name(step: Step) -> str:
    return {
        "processing": "DescribeProcessingJob response",
        "training": "DescribeTrainingJob response",
        "tuning": "DescribeHyperParameterTuningJob response",
        "transform": "DescribeTransformJob response",
        "model": "CreateModel response (ModelArn) and ModelName",
        "register": "CreateModelPackage response (ModelPackageArn)",
        "pipeline": "DescribePipelineExecution response",
        "endpoint": "DescribeEndpoint response",
        "batch": "DescribeJobs entry of the job, in PascalCase",
        "sns": "Publish response",
        "workflow": "DescribeExecution response, with Output as JSON",
    }.get(step.type, "function's payload")


_TEXT_TESTS = {"matches"}
_ORDER_TESTS = {"greater_than", "greater_than_or_equal", "less_than", "less_than_or_equal"}


MAX_DEPLOYMENT_MINUTES = 2100  # CloudFormation's StateMachineAlias DeploymentPreference Interval


def _schedule_input(workflow: Workflow, given: dict[str, Any], path: Path) -> Iterator[Problem]:
    """A schedule's input as `execute` checks `--input`: a missing or mistyped field fails every run it
    starts (or a list too long for inline Maps, part way); an undeclared one is passed on unread, which
    is warned (a misspelt name, most likely)."""
    for name, message in input_findings(workflow, given):
        where = (*path, name) if name is not None else path
        unknown = name is not None and workflow.input_field(name) is None  # pointed at by its name
        hint = f"the spec declares: {declared_inputs(workflow)}"
        severity = Severity.WARNING if unknown else Severity.ERROR
        yield Problem(f"the schedule's input: {message}", where, hint=hint, on_key=unknown, severity=severity)
    yield from _history(history_problems(workflow, given), path)
    for message in input_results_problems(workflow, given):
        yield Problem(f"the schedule's input: {message}", path, hint=RESULTS_HINT)


def schedule_history_problems(workflow: Workflow, histories: Histories | None, data: dict[str, Any]) -> list[Problem]:
    """The schedules' input lists against the compiled workflow's histories (`history_problems`): each
    list with the other steps of its execution, which validate, knowing neither the parts nor which of
    the spec's lists run distributed, cannot count."""
    listed = isinstance(data.get("schedule"), list)
    problems = []
    for n, schedule in enumerate(workflow.schedules):
        if schedule.input is not None:
            path: Path = ("schedule", n, "input") if listed else ("schedule", "input")
            problems += _history(history_problems(workflow, dict(schedule.input), histories), path)
    return problems


def _history(messages: list[str], path: Path) -> Iterator[Problem]:
    hint = "give the step's for_each mode: distributed, or put the items in S3 (for_each.items: s3://...)"
    for message in messages:
        yield Problem(f"the schedule's input: {message}", path, hint=hint)


def _deployment(deployment: Deployment) -> Iterator[Problem]:
    """A gradual deployment's interval is whole minutes (as AWS takes it); all_at_once has no steps."""
    base: Path = ("rollout", "deployment")
    if deployment.type == "all_at_once":
        for field in ("percent", "interval"):
            if getattr(deployment, field) is not None:
                yield Problem(
                    f"'{field}' has no meaning for an all_at_once deployment",
                    (*base, field),
                    hint="use type: canary or linear to move the alias in steps, or remove it",
                )
        if deployment.alarms:
            yield Problem(
                "alarms are watched while a canary or linear deployment runs: an all_at_once one has nothing to "
                "roll back from",
                (*base, "alarms"),
                hint="use type: canary or linear, or remove alarms",
            )
        return
    interval = deployment.interval or 0
    if interval % 60 or not 60 <= interval <= MAX_DEPLOYMENT_MINUTES * 60:
        yield Problem(
            f"a deployment interval of {interval} seconds is not a whole number of minutes from 1 to "
            f"{MAX_DEPLOYMENT_MINUTES}",
            (*base, "interval"),
            hint="write it in minutes, such as 10m",
        )


def _choices(workflow: Workflow, graph: StepGraph) -> Iterator[Problem]:
    for step in workflow.steps.values():
        if step.type != "choice":
            continue
        for n, rule in enumerate(step.config.get("choices", [])):
            yield from _condition(rule, ("steps", step.name, "choices", n), step, workflow, graph)


def _condition(rule: dict, path: Path, step: Step, workflow: Workflow, graph: StepGraph) -> Iterator[Problem]:
    for combinator in COMBINATORS:
        if combinator in rule:
            inner = rule[combinator]
            for n, sub in enumerate(inner if isinstance(inner, list) else [inner]):
                sub_path = (*path, combinator, n) if isinstance(inner, list) else (*path, combinator)
                yield from _condition(sub, sub_path, step, workflow, graph)
            return
    if "when" not in rule:
        return
    try:
        subject = parse_path(rule["when"])
    except TemplateError as exc:
        yield Problem(str(exc), (*path, "when"), hint="write a path such as steps.evaluate.ProcessingJobStatus")
        return
    if subject.namespace not in ("steps", "input", "error") or subject.parts == ("step",):
        yield Problem(
            "'when' is a steps.STEP.PATH, input.NAME, error.Error or error.Cause path",
            (*path, "when"),
            hint="error.step is known when compiling: it names the step whose failure is handled"
            if subject.namespace == "error"
            else None,
        )
        return
    presence = "is_present" in rule  # the one test Step Functions evaluates on a path that is not there
    problems = list(_reference(subject, (*path, "when"), step, workflow, graph, False, may_be_missing=presence))
    yield from problems
    if problems:
        return
    subject_target = resolve(subject, workflow)
    if subject_target.per_item:
        yield from _choice_of_list(subject, (*path, "when"))
        return
    subject_type = subject_target.json_type
    for test in ("equals", "not_equals", *_ORDER_TESTS, *_TEXT_TESTS):
        if test not in rule:
            continue
        value = rule[test]
        value_type = _value_type(value)
        if isinstance(value, str) and "${" in value:
            try:
                ref = parse_template(value).single_reference
            except TemplateError as exc:
                yield Problem(str(exc), (*path, test))
                continue
            if ref is None:
                yield Problem("a test's value is a literal or a single ${...} reference", (*path, test))
                continue
            refs = list(_reference(ref, (*path, test), step, workflow, graph, item_allowed=False))
            yield from refs
            if refs:
                continue
            target = resolve(ref, workflow)
            if target.per_item:
                yield from _choice_of_list(ref, (*path, test))
                continue
            value_type = target.json_type
            if value_type is None and subject_type is None:
                yield Problem(
                    f"cannot tell whether to compare {rule['when']} and {ref.text} as text or as numbers",
                    (*path, test),
                    hint="compare with a literal, or with an input whose type is declared",
                )
                continue
        if test in _ORDER_TESTS and value_type not in ("number", "string", None):
            yield Problem(f"'{test}' compares numbers or text, not {value_type}", (*path, test))
        if test in _TEXT_TESTS and value_type != "string":
            yield Problem("'matches' takes a text pattern", (*path, test))
        if subject_type and value_type and subject_type != value_type:
            yield Problem(
                f"{rule['when']} is a {subject_type}, but it is compared with a {value_type}",
                (*path, test),
                hint=f"compare it with a {subject_type} value",
            )


def _choice_of_list(ref: Reference, path: Path) -> Iterator[Problem]:
    yield Problem(
        f"{ref.text} is a list (one {ref.parts[-1]} per item of steps.{ref.parts[0]}); a choice tests one value",
        path,
        hint="reduce the list to one value in a task (e.g. a lambda) and test its result",
    )


def _value_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else None


def _workflow_level(workflow: Workflow, *, schedules_listed: bool) -> Iterator[Problem]:
    if workflow.execution_role is not None:
        yield from check_role(workflow.execution_role, ("execution_role",), "execution role")
    if workflow.type == "express":
        for step in workflow.steps.values():
            if step.type in _SYNC_TYPES:
                yield Problem(
                    f"an express workflow cannot wait for jobs, but step '{step.name}' is a {step.type} step",
                    ("type",),
                    hint="use type: standard (express state machines cannot run .sync tasks)",
                )
                break
    notifications = workflow.notifications
    if notifications is not None and notifications.topic_arn is not None:
        yield from check_arn(
            notifications.topic_arn,
            ("notifications", "topic"),
            "sns",
            "an SNS topic ARN",
            "arn:aws:sns:eu-west-1:111122223333:churn-alerts",
        )
        if notifications.topic_arn.endswith(".fifo"):
            yield Problem(
                "a FIFO topic takes only messages with a message group id, which neither EventBridge rules nor "
                "the workflow's alert states send: every alert would be refused, and none would arrive",
                ("notifications", "topic"),
                hint="use a standard topic (or let sfn-build make one: notifications.topic: {name: ...})",
            )
    topic_name = notifications.topic_name if notifications is not None else None
    if topic_name is not None and not re.fullmatch(r"[A-Za-z0-9_\-]{1,256}", topic_name):
        yield Problem(
            f"{topic_name!r} is not a valid SNS topic name",
            ("notifications", "topic", "name"),
            hint="use 1-256 letters, digits, '-' or '_'",
        )
    yield from subscription_problems(notifications)
    for n, schedule in enumerate(workflow.schedules):
        base: Path = ("schedule", n) if schedules_listed else ("schedule",)
        error = check_expression(schedule.expression, timezone=schedule.timezone is not None)
        if error:
            yield Problem(error[0], (*base, "expression"), hint=error[1])
        if schedule.input is not None:
            yield from _schedule_input(workflow, dict(schedule.input), (*base, "input"))
        if schedule.timezone is not None:
            import zoneinfo  # 5% of `validate`'s start: only for a spec with a time zone

            try:
                zoneinfo.ZoneInfo(schedule.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                yield Problem(
                    f"{schedule.timezone!r} is not a time zone",
                    (*base, "timezone"),
                    hint=did_you_mean(schedule.timezone, sorted(zoneinfo.available_timezones()))
                    or "use an IANA name such as Europe/Amsterdam or UTC",
                )
    yield from _deployment(workflow.rollout.deployment)
    for step in workflow.steps.values():
        for field in ("retry", "catch"):
            if step.type not in TASK_TYPES and getattr(step, field):
                yield Problem(
                    f"'{field}' has no effect on a {step.type} step: only tasks fail and retry",
                    ("steps", step.name, field),
                    severity=Severity.WARNING,
                )
        if step.type not in TASK_TYPES and step.for_each is not None:
            yield Problem(f"a {step.type} step cannot use for_each", ("steps", step.name, "for_each"))
