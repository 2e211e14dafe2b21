"""A part, or a Distributed Map's child execution, reads the workflow's execution from its input.

Each is an execution of its own, so its `$$.Execution` is not the workflow's: job tags, alert
links, completion markers and `${execution.*}` read the workflow's id, name and start time from
what its parent passed it instead.
"""

from __future__ import annotations

import re
from typing import Any

PARENT_EXECUTION = "sfn_build_parent"  # in a part's or a Distributed Map item's input: the workflow's execution
EXECUTION_FIELDS = ("Id", "Name", "StartTime")
_CONTEXT = re.compile(r"\$\$\.Execution\.(Id|Name|StartTime)\b")


def parent_selector(fields: tuple[str, ...] = EXECUTION_FIELDS) -> dict[str, str]:
    """What a parent passes its children at PARENT_EXECUTION: its execution's id, name and start time, or
    only the `fields` they read."""
    return {f"{field}.$": f"$$.Execution.{field}" for field in fields}


def from_parent_execution(definition: dict[str, Any], *, child_of_map: bool = False) -> dict[str, Any]:
    """A part's definition (just emitted: rewritten in place) reading the execution's id, name and
    start time from its parent's; `child_of_map`: a Distributed Map's item processor, whose child
    executions get them in their input (`PARENT_EXECUTION` in the item selector).

    Job tags, alert links, completion markers and `${execution.*}` then name the workflow's
    execution, as they do in a workflow of one state machine.
    """
    places = {
        field: f"$$.Execution.Input.{PARENT_EXECUTION}.{field}" for field in EXECUTION_FIELDS
    } | ({} if child_of_map else {"Id": "$$.Execution.Input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"})
    stack: list[Any] = [definition]
    while stack:  # every value of a definition of megabytes: cheapest tests first
        node = stack.pop()
        for key, value in node.items() if type(node) is dict else enumerate(node):
            kind = type(value)
            if kind is str:
                if (
                    "$$.Execution." in value
                    and type(key) is str
                    and key.endswith(".$")
                    and key != "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$"
                ):
                    node[key] = _CONTEXT.sub(lambda match: places[match.group(1)], value)
            elif kind is dict or kind is list:
                stack.append(value)
    return definition
