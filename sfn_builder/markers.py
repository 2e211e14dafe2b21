"""Completion markers: how a step of a Network waits for exactly the steps it needs.

A `Network` (see `plan`) runs as one Parallel state with a branch per chain of
steps. Branches cannot see each other, so they meet in the workflow's markers
table (DynamoDB, made by `create`), one item per execution and signalling branch:

- a branch that others need ends with `<step>.signal`: one UpdateItem sets `done`
  and its `payload` (the kept results others read) and returns the task tokens
  registered before (ALL_OLD); `<step>.waiters` and `<step>.notify` then send
  each of them SendTaskSuccess with the payload;
- a branch that needs one starts with `<step>.after-<need>`: an UpdateItem with
  `.waitForTaskToken` that adds its own task token, on condition that `done` is
  not set yet. It waits until the signal arrives; when the need was done
  already, the condition fails at once and `<step>.read-<need>` reads the
  payload. `<step>.got-<need>` puts the results read into `$.steps`.

Both updates are atomic on one item, so a signal is never missed: either the
token is in the item before `done` is set (and the signal sends to it) or the
registration fails (and the payload is read). The delay a dependency adds is
one DynamoDB update and one SendTaskSuccess call. A redriven execution keeps its
markers (same execution ARN): a step that ran before is not waited for again.
After the Parallel succeeds, `<parallel>.markers-cleared` deletes the markers.

The states themselves are built in `marker_states`; this module holds what the
simulator, the publisher and the pictures need to know about them.
"""

from __future__ import annotations

from typing import Any

from .asl import walk_states

WAIT_RESOURCE = "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken"
SIGNAL_RESOURCE = "arn:aws:states:::dynamodb:updateItem"
READ_RESOURCE = "arn:aws:states:::dynamodb:getItem"
CLEAR_RESOURCE = "arn:aws:states:::aws-sdk:dynamodb:batchWriteItem"
NOTIFY_RESOURCE = "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess"
KEY_ATTRIBUTE = "marker"
ALREADY_DONE = ["DynamoDb.ConditionalCheckFailedException"]  # the AWS SDK integration's error name
# Throttling and service faults of the AWS SDK integration (the optimised one's names start "DynamoDB.").
WAIT_RETRYABLE = ["DynamoDb.ProvisionedThroughputExceededException", "DynamoDb.ThrottlingException"]
MARKER_STATE = "$.marker"  # where marker calls leave their answer in a branch's state
BATCH_LIMIT = 25  # BatchWriteItem's most requests per call


def marker_key(step_key: str) -> dict[str, Any]:
    """The item of one execution's marker for a branch (named by its last step's result key)."""
    return {KEY_ATTRIBUTE: {"S.$": f"States.Format('{{}}#{step_key}', $$.Execution.Id)"}}


def uses_markers(definition: dict[str, Any]) -> bool:
    """Whether a definition waits for or signals completion markers (it needs the markers table)."""
    return any(body.get("Resource") in (WAIT_RESOURCE, SIGNAL_RESOURCE) for _, body in walk_states(definition))
