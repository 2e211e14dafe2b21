"""Desired versus actual: what `create` would add, change and remove, and doing it.

`plan_changes` only reads; `apply_changes` carries a plan out, creating and
updating in dependency order (roles first) and then removing in the reverse
order. Because a run always starts from what exists, a run that failed half
way is repaired by the next one.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..masking import masked
from ..model import Workflow
from .aws import Aws, AwsError
from .drivers import DRIVERS
from .resources import LABELS, ORDER, STATE_MACHINE, TAG_ALERT_TOPIC, TOPIC_STATEMENT, Resource

ADD, CHANGE, REMOVE = "add", "change", "remove"
SYMBOLS = {ADD: "+", CHANGE: "~", REMOVE: "-"}
MAX_DIFF_LINES = 60


@dataclass(frozen=True)
class Change:
    action: str
    kind: str
    name: str
    desired: Resource | None
    actual: dict[str, Any] | None

    @property
    def label(self) -> str:
        return f"{LABELS[self.kind]} {self.name}"

    def details(self) -> list[str]:
        """What differs, field by field (the definition as a unified diff), secrets masked (module `masking`)."""
        if self.desired is None or self.action not in (ADD, CHANGE):
            return []
        told = DRIVERS[self.kind].change_details(self.actual, self.desired.spec)
        if told is not None or self.actual is None:
            return told or []
        lines: list[str] = []
        for field, wanted in self.desired.spec.items():
            current = self.actual.get(field)
            if wanted == current:
                continue
            current, wanted = masked(current, parents=(field,)), masked(wanted, parents=(field,))
            if (
                isinstance(wanted, dict)
                and isinstance(current, dict)
                and field in ("definition", "policies", "trust", "policy", "pattern")
            ):
                lines.append(f"{field}:")
                lines.extend("  " + line for line in _json_diff(current, wanted))
            else:
                lines.append(f"{field}: {_short(current)} -> {_short(wanted)}")
        return lines


READERS = 8  # reads in flight at once: each waits for AWS (tens of milliseconds), not for the CPU


def plan_changes(aws: Aws, workflow: Workflow, desired: list[Resource]) -> list[Change]:
    """Every change that makes the account match `desired` (no AWS resource is modified). The reads
    are independent, so they are made several at once; the plan is the same as read one by one."""
    changes: list[Change] = []
    wanted = {resource.key for resource in desired}
    actual_machine: dict[str, Any] | None = None
    kinds = list(reversed(ORDER))
    with ThreadPoolExecutor(READERS, thread_name_prefix="sfn-build-read") as pool:
        actuals = pool.map(lambda resource: DRIVERS[resource.kind].read(aws, resource.name, workflow.name), desired)
        owned = pool.map(lambda kind: list(DRIVERS[kind].owned_names(aws, workflow.name)), kinds)
        for resource, actual in zip(desired, actuals, strict=True):
            if resource.key == (STATE_MACHINE, workflow.name):
                actual_machine = actual
            if actual is None:
                changes.append(Change(ADD, resource.kind, resource.name, resource, None))
            elif DRIVERS[resource.kind].differs(actual, resource.spec):
                changes.append(Change(CHANGE, resource.kind, resource.name, resource, actual))
        gone = [(kind, name) for kind, names in zip(kinds, owned, strict=True) for name in names
                if (kind, name) not in wanted]  # fmt: skip
        removed = pool.map(lambda key: DRIVERS[key[0]].read(aws, key[1], workflow.name), gone)
        changes += [Change(REMOVE, *key, None, actual) for key, actual in zip(gone, removed, strict=True)]
    if actual_machine is None and (STATE_MACHINE, workflow.name) not in wanted:
        actual_machine = DRIVERS[STATE_MACHINE].read(aws, workflow.name, workflow.name)
    old_topic = (actual_machine or {}).get("tags", {}).get(TAG_ALERT_TOPIC)
    if old_topic and (TOPIC_STATEMENT, old_topic) not in wanted:
        statement = DRIVERS[TOPIC_STATEMENT].read(aws, old_topic, workflow.name)
        if statement is not None:
            changes.append(Change(REMOVE, TOPIC_STATEMENT, old_topic, None, statement))
    return changes


def removal_changes(aws: Aws, workflow_name: str) -> list[Change]:
    """Everything the workflow owns, to be removed (what `delete` does)."""
    from ..model import Workflow as Model

    empty = Model(name=workflow_name, steps={})
    return [change for change in plan_changes(aws, empty, []) if change.action == REMOVE]


def apply_changes(aws: Aws, workflow_name: str, changes: list[Change], report: Callable[[Change], None]) -> None:
    """Carry out a plan: adds and changes in creation order, then removals in reverse."""
    rank = {kind: index for index, kind in enumerate(ORDER)}
    forward = sorted((c for c in changes if c.action != REMOVE), key=lambda c: rank[c.kind])
    backward = sorted((c for c in changes if c.action == REMOVE), key=lambda c: -rank[c.kind])
    for change in [*forward, *backward]:
        _apply(aws, workflow_name, change)
        report(change)


# What AWS answers when a call it already carried out is made again (its response was lost, and
# botocore retried): each service's own code for "already exists" and "does not exist".
ALREADY_EXISTS = (
    "EntityAlreadyExists",  # IAM
    "ResourceConflictException",  # Lambda
    "ResourceAlreadyExistsException",  # CloudWatch Logs
    "ConflictException",  # EventBridge Scheduler
    "StateMachineAlreadyExists",  # Step Functions
    "ResourceInUseException",  # DynamoDB
)
GONE = ("NoSuchEntity", "ResourceNotFoundException", "ResourceNotFound", "NotFound", "StateMachineDoesNotExist")


def _apply(aws: Aws, workflow_name: str, change: Change) -> None:
    """One change; a retried call that meets its own earlier work goes on from what is there."""
    driver = DRIVERS[change.kind]
    try:
        if change.action == ADD and change.desired is not None:
            driver.create(aws, change.desired)
        elif change.action == CHANGE and change.desired is not None and change.actual is not None:
            driver.update(aws, change.desired, change.actual)
        else:
            driver.delete(aws, change.name, workflow_name)
    except AwsError as error:
        # The resource is re-read by name; `read` refuses one that is not this workflow's.
        actual = driver.read(aws, change.name, workflow_name) if error.code in (*ALREADY_EXISTS, *GONE) else None
        if change.action == ADD and error.code in ALREADY_EXISTS and actual is not None and change.desired:
            if driver.differs(actual, change.desired.spec):
                driver.update(aws, change.desired, actual)  # finish what the first attempt started
        elif not (change.action == REMOVE and error.code in GONE and actual is None):
            raise


def summary(changes: list[Change]) -> str:
    if not changes:
        return "No changes."
    counts = {action: sum(1 for c in changes if c.action == action) for action in (ADD, CHANGE, REMOVE)}
    return f"{counts[ADD]} to add, {counts[CHANGE]} to change, {counts[REMOVE]} to remove."


def _json_diff(old: Any, new: Any) -> list[str]:
    before = json.dumps(old, indent=2, sort_keys=False).splitlines()
    after = json.dumps(new, indent=2, sort_keys=False).splitlines()
    lines = [line for line in difflib.unified_diff(before, after, "deployed", "spec", n=2, lineterm="")][2:]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 100 else text[:97] + "..."
