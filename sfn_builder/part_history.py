"""A split workflow's history: its parts' events where they ran (module `split`).

A part runs as an execution of its own, started by a `workflow.part-N` task of
the workflow's execution. Read together, the events of both tell the story of
one run, as the history of a workflow of one state machine does: the part's
state events go after the task's TaskSubmitted event, with ids of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .history import state_of
from .naming import part_role

Event = dict[str, Any]
PART_TASK_RESOURCE = "startExecution.sync:2"
EXECUTION_EVENTS = (
    "ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"
)


def part_execution(event: Event, by_id: dict[int, Event]) -> str | None:
    """The execution of a part that `event` says was started (its TaskSubmitted event), else None."""
    details = event.get("taskSubmittedEventDetails")
    if not details or details.get("resource") != PART_TASK_RESOURCE or not part_role(state_of(event, by_id)):
        return None
    try:
        output = json.loads(details.get("output") or "{}")
    except ValueError:
        return None
    arn = output.get("ExecutionArn") or output.get("executionArn") if isinstance(output, dict) else None
    return arn if isinstance(arn, str) else None


def spliced(events: list[Event], part_events: Callable[[str], list[Event]]) -> list[Event]:
    """`events` with each part execution's state events (`part_events(arn)`) after the event that
    started it, numbered anew; a part's own execution events are left out."""
    result: list[Event] = []

    def place(events: list[Event], anchor: int) -> None:
        ids = {0: anchor}
        by_id: dict[int, Event] = {}
        for event in events:
            by_id[event["id"]] = event
            previous = ids.get(event.get("previousEventId", 0), anchor)
            if anchor and event["type"] in EXECUTION_EVENTS:
                ids[event["id"]] = previous
                continue
            ids[event["id"]] = len(result) + 1
            result.append({**event, "id": ids[event["id"]], "previousEventId": previous})
            child = part_execution(event, by_id)
            if child is not None:
                place(part_events(child), ids[event["id"]])

    place(events, 0)
    return result
