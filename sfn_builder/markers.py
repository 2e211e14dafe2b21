"""Completion markers: how a step of a Network waits for exactly the steps it needs.

A `Network` (see `plan`) runs as one Parallel state with a branch per chain of
steps; a step may need steps of other chains. Branches cannot see each other, so
they meet in the workflow's markers table (DynamoDB, made by `create`): one item
per execution and waiting step, keyed `<execution id>#<step>`, that holds the
set of its needs done so far (`arrived`), the results it reads of their branches
(`p_<result key>`, each sent by the need of its chain) and the task token of the
waiting step (`waiter`).

- a step that others need is followed by its signal (`<step>.signal`, or a Map
  `<step>.notify` over the steps waiting for it when several do, a Distributed Map
  when many do: module `history_budget`): an UpdateItem
  on each waiting step's item adds this step to `arrived` (and sets the results
  that the steps waiting for it read of its branch, and only those)
  and returns the item (ALL_NEW); when that was the last need to arrive and the
  step waits, `<step>.notify-one` sends its token SendTaskSuccess with the item;
- a step that needs others starts with `<step>.after-needs`: an UpdateItem with
  `.waitForTaskToken` that sets `waiter` to its task token, on condition that
  fewer than all of its needs have arrived. It waits until the last of them
  signals; when all had arrived, the condition fails at once and
  `<step>.read-needs` reads the item. `<step>.got-needs` puts the results
  received into `$.steps`.

Both updates are atomic on one item, so the last signal is never missed: either
the token is in the item before the last need arrives (and that signal sends to
it) or the registration fails (and the item is read). A step waits once, for all
its needs; the delay a dependency adds is one DynamoDB update and, for the last
need, one SendTaskSuccess call. `arrived` is a set, so a signal that a redrive
repeats counts once, and a redriven execution keeps its markers (same execution
ARN): a step that ran before is not waited for again. After the Parallel
succeeds, `<parallel>.markers-cleared` deletes the markers.

The states themselves are built in `marker_states`; this module holds what the
simulator, the publisher and the pictures need to know about them.
"""

from __future__ import annotations

import re
from typing import Any

from .asl import runs_children, walk_states

WAIT_RESOURCE = "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken"
SIGNAL_RESOURCE = "arn:aws:states:::dynamodb:updateItem"
READ_RESOURCE = "arn:aws:states:::dynamodb:getItem"
CLEAR_RESOURCE = "arn:aws:states:::aws-sdk:dynamodb:batchWriteItem"
NOTIFY_RESOURCE = "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess"
KEY_ATTRIBUTE = "marker"
ARRIVED = "arrived"  # the set of needs done
WAITER = "waiter"  # the waiting step's task token
PAYLOAD_PREFIX = "p_"  # + a result key: a result sent to the waiting step, as JSON text
ALREADY_DONE = ["DynamoDb.ConditionalCheckFailedException"]  # the AWS SDK integration's error name
# Throttling and service faults of the AWS SDK integration (the optimised one's names start "DynamoDB.").
WAIT_RETRYABLE = ["DynamoDb.ProvisionedThroughputExceededException", "DynamoDb.ThrottlingException"]
MARKER_STATE = "$.marker"  # where marker calls leave their answer in a branch's state
BATCH_LIMIT = 25  # BatchWriteItem's most requests per call
# An update sets at most this many results (`SET #p0 = :p0, ...`, about 15 bytes each): DynamoDB refuses an
# expression over 4 KB, or of more than 300 operators (200 stays under it should each `=` count).
SETS_PER_UPDATE = 200
# A step that more steps wait for signals them from a Distributed Map's child executions (module
# `history_budget`, which also chooses others when an execution's history would be too long).
INLINE_NOTIFY_LIMIT = 200
_KEY_FORMAT = "States.Format('{{}}#{step}', $$.Execution.Id)"
_KEYED_STEP = re.compile(r"#([A-Za-z0-9_-]+)'")


def marker_key(step: str) -> dict[str, Any]:
    """The item of one execution's marker for a waiting step."""
    return {KEY_ATTRIBUTE: {"S.$": _KEY_FORMAT.format(step=step)}}


def keyed_step(key: dict[str, Any]) -> str | None:
    """The waiting step a marker key written by `marker_key` names (None for a key read from a path)."""
    match = _KEYED_STEP.search(key[KEY_ATTRIBUTE].get("S.$", ""))
    return match.group(1) if match else None


def signalled_steps(body: dict[str, Any]) -> list[str]:
    """The steps a `<step>.signal` state signals: its one update's, or its list's for a Map."""
    if body["Type"] == "Pass":
        return [waiting["step"] for waiting in body["Result"]]
    return [step] if (step := keyed_step(body["Parameters"]["Key"])) else []


def marker_waits(branches: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The steps of a Parallel state's branches that wait for completion markers -> the steps they wait
    for (each of these has a `<step>.signal` state naming them)."""
    waits: dict[str, list[str]] = {}
    for branch in branches:
        for name, body in branch["States"].items():
            if name.endswith(".signal"):
                for step in signalled_steps(body):
                    waits.setdefault(step, []).append(name.removesuffix(".signal"))
    return waits


def notifies_from_children(definition: dict[str, Any]) -> bool:
    """Whether a definition signals waiting steps from a Distributed Map's child executions."""
    return any(
        runs_children(body) and name.endswith(".notify")
        for name, body in walk_states(definition)
    )


def uses_markers(definition: dict[str, Any]) -> bool:
    """Whether a definition waits for or signals completion markers (it needs the markers table)."""
    return any(body.get("Resource") in (WAIT_RESOURCE, SIGNAL_RESOURCE) for _, body in walk_states(definition))
