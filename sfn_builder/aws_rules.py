"""Validate, meaning: what AWS itself accepts, beyond the schema's shape.

Each rule here is a class of spec that would otherwise validate and compile
but be refused by AWS at deploy or run time, or never do what it says: tags that tag APIs refuse,
error names no retry or catch can ever match,
durations above Amazon States Language's bounds, timestamps Wait states
cannot read, error names Step Functions reserves, catch-alls that are not
last, keys that Step Functions would read as paths, and alerts and durations that
Express workflows can never reach.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from .asl import FAILED_ERROR_SUFFIX
from .durations import format_duration, parse_duration
from .error_names import name_problem
from .model import JOB_TYPES, TASK_TYPES, Step, Workflow
from .naming import RESERVED_TAG_PREFIXES
from .problems import Path, Problem, Severity
from .steps import KINDS

MAX_SECONDS = 99_999_999  # TimeoutSeconds, IntervalSeconds, Wait Seconds
MAX_DELAY_SECONDS = 31_622_400  # a Retrier's MaxDelaySeconds
EXPRESS_SECONDS = 300  # AWS ends an Express execution after five minutes
MAX_SPEC_TAGS = 47  # SageMaker, Batch and Step Functions take 50 tags; sfn-build adds up to three to a job
CATCH_ALL = "States.ALL"
# The characters SageMaker, Batch and Step Functions all accept in tag keys and values.
_TAG_SYMBOLS = frozenset("_.:/=+-@")


def _tag_text(text: str) -> bool:
    """Whether AWS takes `text` in a tag: `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*` (letters, separators and
    numbers of any script, and those symbols), read by Unicode category."""
    return all(char in _TAG_SYMBOLS or unicodedata.category(char)[0] in "LZN" for char in text)


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")


def aws_problems(workflow: Workflow, data: Mapping[str, Any]) -> list[Problem]:
    """Every problem of this kind in a spec whose shape is right."""
    problems = [*_tags(workflow), *_express_alerts(workflow, data), *_express_durations(workflow, data)]
    for step in workflow.steps.values():
        raw = data["steps"][step.name]
        problems += _durations(step, raw)
        problems += _error_lists(step, raw)
        if step.for_each is not None and step.for_each.distributed:
            problems += item_errors_caught(step)
        problems += _path_keys(step)
        if step.type == "wait":
            problems += _timestamp(step)
        if step.type == "fail":
            problems += _fail_error(step, workflow)
    return problems


def _tags(workflow: Workflow) -> Iterator[Problem]:
    if not workflow.tags:
        return
    if len(workflow.tags) > MAX_SPEC_TAGS:
        yield Problem(
            f"{len(workflow.tags)} tags: AWS takes 50 per resource and sfn-build adds up to 3 to a job",
            ("tags",),
            hint=f"keep at most {MAX_SPEC_TAGS} tags",
        )
    for key, value in workflow.tags.items():
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            yield Problem(
                f"the tag key {key!r} is reserved: 'aws:' is AWS's, 'sfn-build:' marks what sfn-build owns",
                ("tags", key),
                hint="choose a key without that prefix",
                on_key=True,
            )
        elif not _tag_text(key):
            yield Problem(
                f"the tag key {key!r} has characters AWS tag keys refuse",
                ("tags", key),
                hint="use letters, digits, spaces and _ . : / = + - @",
                on_key=True,
            )
        if "${" in value:
            yield Problem(
                f"tag values are literal text, but {value!r} holds a ${{...}} template",
                ("tags", key),
                hint="tags are set when the workflow is published, not per execution: write the value itself",
            )
        elif not _tag_text(value):
            yield Problem(
                f"the tag value {value!r} has characters AWS tag values refuse",
                ("tags", key),
                hint="use letters, digits, spaces and _ . : / = + - @",
            )


def _express_alerts(workflow: Workflow, data: Mapping[str, Any]) -> Iterator[Problem]:
    notifications = data.get("notifications") or {}
    if workflow.type == "express" and notifications.get("on_execution"):
        yield Problem(
            "express workflows send no Execution Status Change events, so on_execution would never alert",
            ("notifications", "on_execution"),
            hint="remove on_execution: a failed step of an express workflow alerts the topic itself",
        )


def _express_durations(workflow: Workflow, data: Mapping[str, Any]) -> Iterator[Problem]:
    """Waits longer than an Express execution may run: a timeout the spec gives a step (or its defaults
    do), a step that polls work for longer (a pipeline, an endpoint), a wait step's seconds. AWS ends the
    execution at five minutes, and no catch or alert runs."""
    if workflow.type != "express":
        return
    inherited = "timeout" in data.get("defaults", {})
    for step in workflow.steps.values():
        raw = data["steps"][step.name]
        shorter = "give the step a timeout of 5m or less"
        if step.type == "wait" and "seconds" in raw:
            waits, where, shorter = parse_duration(raw["seconds"]), ("steps", step.name, "seconds"), "wait 5m or less"
        elif step.timeout is None or not (
            "timeout" in raw or (inherited and step.type in JOB_TYPES) or KINDS[step.type].polling
        ):
            continue
        else:
            waits = step.timeout
            where = ("steps", step.name, "timeout") if "timeout" in raw else ("steps", step.name)
        if waits > EXPRESS_SECONDS:
            yield Problem(
                f"the step may wait {format_duration(waits)}, but AWS ends an Express execution after 5 minutes, "
                "and then no catch or alert runs",
                where,
                hint=f"use type: standard for work that may take longer, or {shorter}",
                severity=Severity.WARNING,
            )


def _durations(step: Step, raw: Mapping[str, Any]) -> Iterator[Problem]:
    if step.timeout is not None and step.timeout > MAX_SECONDS:
        where: Path = ("steps", step.name, "timeout") if "timeout" in raw else ("steps", step.name)
        yield Problem(
            f"the step's timeout is {step.timeout:,} seconds; Step Functions accepts at most {MAX_SECONDS:,}",
            where,
            hint="a timeout of at most 1157d (about 3 years)",
        )
    if "seconds" in step.config and step.type == "wait" and parse_duration(step.config["seconds"]) > MAX_SECONDS:
        yield Problem(f"a Wait state waits at most {MAX_SECONDS:,} seconds", ("steps", step.name, "seconds"))
    base = _own_or_default(step, raw, "retry")
    for n, policy in enumerate(step.retry):
        if policy.interval is not None and policy.interval > MAX_SECONDS:
            yield Problem(f"a retry interval is at most {MAX_SECONDS:,} seconds", (*base, n, "interval"))
        if policy.max_delay is not None and policy.max_delay > MAX_DELAY_SECONDS:
            yield Problem(f"max_delay is at most {MAX_DELAY_SECONDS:,} seconds (366 days)", (*base, n, "max_delay"))


def item_errors_caught(step: Step) -> Iterator[Problem]:
    """A Distributed Map's items fail in child executions: what its catch sees is the Map run's failure,
    so a catch entry naming an item's own error never matches."""
    for n, caught in enumerate(step.catch):
        for i, name in enumerate(caught.errors):
            if name.startswith("States.") or name_problem(name, frozenset({step.type})) is not None:
                continue
            yield Problem(
                f"{name} is an error of {step.name}'s items, which run as a Distributed Map (each item a child "
                "execution): an item's failure reaches the step's catch as States.ExceedToleratedFailureThreshold, "
                "so this entry never matches",
                ("steps", step.name, "catch", n, "errors", i),
                hint="catch States.ExceedToleratedFailureThreshold (or States.ALL), and let `retry` retry the "
                "items' own errors",
                severity=Severity.WARNING,
            )


def _own_or_default(step: Step, raw: Mapping[str, Any], field: str) -> Path:
    """Where a step's retry policies were written: on the step, or in `defaults`."""
    return ("steps", step.name, field) if field in raw else ("defaults", field)


def _error_lists(step: Step, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Error names that can match (see `error_names`); `States.ALL` alone and last (ASL's rule)."""
    if step.type not in TASK_TYPES:
        return
    lists = (
        ("retry", _own_or_default(step, raw, "retry"), [p.errors for p in step.retry]),
        ("catch", ("steps", step.name, "catch"), [c.errors for c in step.catch]),
    )
    for field, base, entries in lists:
        for n, errors in enumerate(entries):
            for i, name in enumerate(errors):
                found = name_problem(name, frozenset({step.type}))
                if found is not None:
                    is_error, message, hint = found
                    severity = Severity.ERROR if is_error else Severity.WARNING
                    yield Problem(message, (*base, n, "errors", i), hint=hint, severity=severity)
                elif field == "retry" and name == "States.Runtime":
                    yield Problem(
                        "States.Runtime is never retried: Step Functions ends the execution on it (a path its "
                        "input lacks, an intrinsic that fails), whatever retry says",
                        (*base, n, "errors", i),
                        hint="remove it: the error comes from the definition or its input, which a retry does not "
                        "change (simulate shows where)",
                        severity=Severity.WARNING,
                    )
            if CATCH_ALL not in errors:
                continue
            if len(errors) > 1:
                yield Problem(
                    f"{CATCH_ALL} matches every error, so it stands alone in its list",
                    (*base, n, "errors"),
                    hint=f"give {CATCH_ALL} an entry of its own, after the others",
                )
            elif n != len(entries) - 1:
                yield Problem(
                    f"the {field} entry for {CATCH_ALL} must be the last: the ones after it would never apply",
                    (*base, n, "errors"),
                    hint=f"move the {CATCH_ALL} entry to the end of {field}",
                )


def _path_keys(step: Step) -> Iterator[Problem]:
    """A key ending in `.$` is a path to Step Functions; a literal value under it is refused."""
    stack: list[tuple[Any, Path]] = [(value, ("steps", step.name, key)) for key, value in step.config.items()]
    while stack:
        value, path = stack.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str) and key.endswith(".$"):
                    yield Problem(
                        f"the key {key!r} ends in '.$', which Step Functions reads as 'the value is a path'",
                        (*path, key),
                        hint="rename the key; to pass a value from the state, write ${...} as the value",
                        on_key=True,
                    )
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, n)) for n, item in enumerate(value))


def _timestamp(step: Step) -> Iterator[Problem]:
    until = step.config.get("until")
    if isinstance(until, str) and "${" not in until and not _is_a_time(until):
        yield Problem(
            f"{until!r} is not a timestamp a Wait state reads",
            ("steps", step.name, "until"),
            hint="write an RFC 3339 time in UTC or with an offset, e.g. 2026-01-31T03:00:00Z",
        )


def _is_a_time(text: str) -> bool:
    """RFC 3339 as a Wait state reads it, and a time that exists (no 13th month, no 31 June)."""
    if not _TIMESTAMP.match(text):
        return False
    from datetime import datetime

    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _failed_step(error: str) -> str:
    return error[: -len(FAILED_ERROR_SUFFIX)]


def _fail_error(step: Step, workflow: Workflow) -> Iterator[Problem]:
    error = step.config.get("error")
    if isinstance(error, str) and error.startswith("States."):
        yield Problem(
            f"error names starting with 'States.' are Step Functions' own: {error!r}",
            ("steps", step.name, "error"),
            hint="name the error after what went wrong, e.g. ModelRejected",
        )
    elif isinstance(error, str) and error.endswith(FAILED_ERROR_SUFFIX) and _failed_step(error) in workflow.steps:
        failed = _failed_step(error)
        yield Problem(
            f"{error!r} is the error sfn-build fails the workflow with when step {failed} fails (it alerts "
            "for that step, and would alert for this one twice)",
            ("steps", step.name, "error"),
            hint="name the error after what went wrong, e.g. ModelRejected",
        )
