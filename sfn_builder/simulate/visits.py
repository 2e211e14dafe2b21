"""The path a simulated execution took, read from its event history.

The interpreter runs branches and items one after another (see `interpreter`),
so the history is nested in order: a Map iteration's events lie between its
`MapIterationStarted` and its end, a Parallel's between its entry and its end.
A branch or item that had not started when another failed is reported as
cancelled: Step Functions stops it when the Parallel or Map state fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..asl import ENDED_ERROR, runs_children
from ..history import entry_of
from ..markers import ALREADY_DONE
from ..naming import PART_STATE_PREFIX, REUSE_ROLES, gate_role, marker_role, part_role


@dataclass(frozen=True)
class Visit:
    """One time a state ran: its name and what happened."""

    state: str
    outcome: str  # "succeeded", "failed", "running", "cancelled", "reused", "cached"
    attempts: int = 1
    error: str | None = None
    cause: str | None = None
    retried: tuple[str, ...] = ()  # errors of the attempts that failed and were retried
    item: int | None = None  # the Map item (from 0) the state ran for
    note: str | None = None


@dataclass
class _Open:
    """A state entered and not yet left, as it is being read."""

    state: str
    item: int | None
    outcome: str = "running"
    attempts: int = 0
    error: str | None = None
    cause: str | None = None
    retried: list[str] = field(default_factory=list)
    note: str | None = None
    branches: set[int] = field(default_factory=set)  # a Parallel's branches that started
    items: int = 0  # a Map's item count
    started: int = 0  # a Map's iterations that started

    def visit(self) -> Visit:
        attempts = max(self.attempts, 1)
        retried = tuple(self.retried)
        return Visit(self.state, self.outcome, attempts, self.error, self.cause, retried, self.item, self.note)


def visits(
    events: list[dict[str, Any]], definition: dict[str, Any], parts: Iterable[dict[str, Any]] = ()
) -> list[Visit]:
    """Each state entry in order, with how it ended, its attempts and its Map item; `parts`: the
    definitions of a split workflow's parts, whose events the history holds where they ran."""
    states = _state_bodies(definition)
    for part in parts:
        states.update(_state_bodies(part))
    by_id = {event["id"]: event for event in events}
    entries: dict[int, _Open] = {}
    rows: list[_Open] = []
    items: list[int] = []  # the Map items being run, innermost last
    ending = False  # a succeed step inside a Parallel branch is ending the run (build's `succeed`)
    blocks: list[_Open] = []  # the Parallel and Map states being run, innermost last
    for event in events:
        kind = str(event["type"]).removeprefix("HistoryEventType.")
        entered = event.get("stateEnteredEventDetails")
        if entered:
            row = _Open(entered["name"], items[-1] if items else None)
            if kind == "FailStateEntered":
                ending = states.get(row.state, {}).get("Error") == ENDED_ERROR  # a succeed step ended the run
                row.outcome = "succeeded" if ending else "failed"
            if blocks and "Branches" in states.get(blocks[-1].state, {}):
                row_branch = _branch_of(states[blocks[-1].state], row.state)
                if row_branch is not None:
                    blocks[-1].branches.add(row_branch)
            if kind in ("ParallelStateEntered", "MapStateEntered"):
                blocks.append(row)
            entries[event["id"]] = row
            rows.append(row)
        elif kind == "MapStateStarted":
            blocks[-1].items = event.get("mapStateStartedEventDetails", {}).get("length", 0)
        elif kind == "MapIterationStarted":
            items.append(event["mapIterationStartedEventDetails"]["index"])
            if blocks:
                blocks[-1].started += 1
        elif kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            if items:
                items.pop()
        elif kind in ("ParallelStateFailed", "MapStateFailed") and blocks:
            block = blocks.pop()
            block.outcome = "succeeded" if ending else "failed"
            rows.extend(_cancelled(block, states.get(block.state, {})))
        elif event.get("stateExitedEventDetails"):
            name = event["stateExitedEventDetails"]["name"]
            if blocks and blocks[-1].state == name and kind in ("ParallelStateExited", "MapStateExited"):
                blocks.pop().outcome = "succeeded"
                continue
            owner = entries.get(entry_of(event, by_id) or -1)
            if owner is not None and owner.outcome == "running":
                owner.outcome = "succeeded"
        else:
            _task_event(kind, event, entries.get(entry_of(event, by_id) or -1))
    return _steps_only([row.visit() for row in rows])


def _steps_only(path: list[Visit]) -> list[Visit]:
    """The path without the steps' gates (resume, cache lookup) and completion markers (a marker's
    "already done" is how waiting for a finished step ends): a step whose earlier result was reused
    is one `reused` or `cached` visit; a step not started (its gate not started) is named itself. A
    split workflow's part states show only when the part failed before any of its steps did."""
    shown = []
    step_failed = any(v.outcome == "failed" and not part_role(v.state) for v in path)
    for visit in path:
        if part_role(visit.state):  # a part of a split workflow: its steps are in the path
            started_it = "." not in visit.state.removeprefix(PART_STATE_PREFIX)
            if started_it and visit.outcome == "failed" and not step_failed:
                shown.append(visit)  # it failed before any of its steps did (it could not start, say)
            continue
        role = gate_role(visit.state)
        step = visit.state.rpartition(".")[0]
        if marker_role(visit.state):
            if visit.outcome == "cancelled":  # a branch that would have waited first: its step never started
                shown.append(replace(visit, state=step))
            elif visit.outcome == "failed" and visit.error not in ALREADY_DONE:
                shown.append(visit)  # the markers table failed it: the step's failure path follows
            continue
        if role in REUSE_ROLES:
            shown.append(replace(visit, state=step, outcome=REUSE_ROLES[role]))
        elif role is None:
            shown.append(visit)
        elif visit.outcome in ("cancelled", "failed"):
            shown.append(replace(visit, state=step) if visit.outcome == "cancelled" else visit)
    return shown


def _task_event(kind: str, event: dict[str, Any], row: _Open | None) -> None:
    if row is None:
        return
    if "taskScheduledEventDetails" in event:
        if row.outcome == "failed":  # scheduled again: the failure was retried
            row.retried.append(row.error or "")
            row.outcome, row.error, row.cause = "running", None, None
        row.attempts += 1
    elif kind.endswith(("Failed", "TimedOut")) and kind != "ExecutionFailed":
        failure = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        row.outcome, row.error, row.cause = "failed", failure.get("error"), failure.get("cause")


def _cancelled(block: _Open, body: dict[str, Any]) -> list[_Open]:
    """What a failed Parallel or Map state stopped before it started."""
    if "Branches" in body:
        return [
            _Open(branch["StartAt"], block.item, "cancelled", note=f"branch {index + 1} of {block.state}")
            for index, branch in enumerate(body["Branches"])
            if index not in block.branches
        ]
    if runs_children(body):
        return []  # its items ran as child executions: this history does not say which started
    left = block.items - block.started
    if left <= 0:
        return []
    first, last = block.started, block.items - 1
    which = f"item {first}" if left == 1 else f"items {first}-{last}"
    return [_Open(block.state, block.item, "cancelled", note=f"{which} not started")]


def _branch_of(parallel: dict[str, Any], state: str) -> int | None:
    return next((i for i, branch in enumerate(parallel["Branches"]) if state in branch["States"]), None)


def _state_bodies(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of the definition by name (names are unique across the whole definition)."""
    found: dict[str, dict[str, Any]] = {}
    stack = [definition]
    while stack:
        block = stack.pop()
        for name, body in block.get("States", {}).items():
            found[name] = body
            stack.extend(body.get("Branches", []))
            if "Iterator" in body or "ItemProcessor" in body:
                stack.append(body.get("Iterator") or body["ItemProcessor"])
    return found
