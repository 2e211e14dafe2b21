"""Reading Amazon States Language definitions: walking states, and the alerts a definition sends."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

ALERT_RESOURCE = "arn:aws:states:::sns:publish"
ALERT_SUFFIX = ".alert"
# Where a step's `<step>.failed` Pass puts its name for the failure path its block shares (an alert
# naming it, then a Fail that fails with `<step>.Failed`).
FAILED_STEP = "$.failed_step"
FAILED_ERROR_SUFFIX = ".Failed"
DEFAULT_MAX_ATTEMPTS = 3  # a retrier's MaxAttempts when it gives none
ENDED_ERROR = "Workflow.Ended"  # a succeed step inside a Parallel branch or a part ended the workflow


def compact(definition: dict[str, Any]) -> str:
    """A definition as `create` sends it (and its size limits count it). Raises ValueError for infinity
    or NaN, which JSON (and so Step Functions) cannot hold."""
    return json.dumps(definition, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def walk_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of a definition, nested ones included (name, body)."""
    stack = [definition]
    while stack:
        block = stack.pop()
        for name, body in block["States"].items():
            yield name, body
            stack.extend(body.get("Branches", []))
            if "Iterator" in body:
                stack.append(body["Iterator"])
            if "ItemProcessor" in body:
                stack.append(body["ItemProcessor"])


def runs_children(body: dict[str, Any]) -> bool:
    """Whether a state is a Distributed Map: its items run as child executions of its state machine."""
    return body.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"


def joined(definition: dict[str, Any], parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A split workflow's definition with its parts' states beside its own (state names are unique across
    them): what reads states by name sees every state. Not a definition to run."""
    states = dict(definition.get("States", {}))
    for part in parts:
        states.update(part["States"])
    return {**definition, "States": states}


def inner_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The States blocks inside a state: a Parallel's branches, a Map's iterator or item processor."""
    return [*body.get("Branches", []), *(body[key] for key in ("Iterator", "ItemProcessor") if key in body)]


def alerted_errors(definition: dict[str, Any]) -> list[str]:
    """The errors an execution fails with after the workflow itself alerted the topic.

    A failure path is an alert task (`<step>.alert`) followed by a Fail state; the
    execution-status rule leaves executions that failed with these errors alone,
    so that every failed execution sends one message. A block's shared failure path
    fails with `<step>.Failed` for each step whose `<step>.failed` Pass leads to it, and a
    Parallel state's with each error its catcher takes there.
    """
    errors = set()
    for _, block in _blocks(definition):
        states = block["States"]
        alerted = set()
        for name, body in states.items():
            if body.get("Resource") == ALERT_RESOURCE and name.endswith(ALERT_SUFFIX):
                fail = states.get(body.get("Next", ""), {})
                if fail.get("Type") == "Fail" and "Error" in fail:
                    errors.add(fail["Error"])
                elif fail.get("Type") == "Fail":
                    alerted.add(name)
        for body in states.values():
            if body.get("ResultPath") == FAILED_STEP and body.get("Next") in alerted:
                errors.add(body["Result"] + FAILED_ERROR_SUFFIX)
            for catcher in body.get("Catch", []):  # a Parallel state's, for its branches' lone steps
                if catcher["Next"] in alerted:
                    errors.update(name for name in catcher["ErrorEquals"] if name != "States.ALL")
    return sorted(errors)


def fail_causes(definition: dict[str, Any], errors: Iterable[str]) -> list[str]:
    """The literal causes of the Fail states that fail with one of `errors` (a `fail` step's)."""
    wanted = set(errors)
    return [body["Cause"] for _, body in walk_states(definition)
            if body.get("Type") == "Fail" and body.get("Error") in wanted and "Cause" in body]


def _blocks(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The definition and every States block inside it (branches, iterators)."""
    yield "", definition
    for name, body in walk_states(definition):
        for branch in body.get("Branches", []):
            yield name, branch
        for key in ("Iterator", "ItemProcessor"):
            if key in body:
                yield name, body[key]
