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
"""

from __future__ import annotations

from typing import Any

from . import sdk
from .asl import walk_states
from .aws_rules import CATCH_ALL
from .naming import aux_state

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


def _retried(state: Any, errors: list[str]) -> Any:
    state.add_retry(sdk.Retry(error_equals=errors, max_attempts=6))  # every 1, 2, 4... seconds
    return state


def wait_state(step: str, need: str, need_key: str, table: str, *, receives: bool) -> Any:
    """`<step>.after-<need>`: register this task's token on the need's marker and wait for its signal.
    `receives`: the payload is kept (at MARKER_STATE) for a `got` state."""
    options: dict[str, Any] = {"result_path": None}
    if receives:
        options = {"result_selector": {"value.$": "$"}, "result_path": MARKER_STATE}
    return _retried(
        sdk.Task(
            aux_state(step, f"after-{need}"),
            resource=WAIT_RESOURCE,
            parameters={
                "TableName": table,
                "Key": marker_key(need_key),
                "UpdateExpression": "ADD waiters :t",
                "ConditionExpression": "attribute_not_exists(done)",
                "ExpressionAttributeValues": {":t": {"SS.$": "States.Array($$.Task.Token)"}},
            },
            **options,
        ),
        WAIT_RETRYABLE,
    )


def read_state(step: str, need: str, need_key: str, table: str) -> Any:
    """`<step>.read-<need>`: the payload of a marker that was done before this branch waited."""
    return _retried(
        sdk.Task(
            aux_state(step, f"read-{need}"),
            resource=READ_RESOURCE,
            parameters={"TableName": table, "Key": marker_key(need_key), "ConsistentRead": True},
            result_selector={"value.$": "States.StringToJson($.Item.payload.S)"},
            result_path=MARKER_STATE,
        ),
        [CATCH_ALL],
    )


def got_state(step: str, need: str, have: dict[str, str], received: list[str]) -> Any:
    """`<step>.got-<need>`: `$.steps` with the results received (`have`: key -> kept result path)."""
    steps = {f"{key}.$": path for key, path in have.items()}
    steps.update({f"{key}.$": f"{MARKER_STATE}.value.{key}" for key in received})
    return sdk.Pass(aux_state(step, f"got-{need}"), parameters=steps, result_path="$.steps")


def signal_states(step: str, step_key: str, table: str, *, sends_results: bool) -> tuple[Any, Any, Any]:
    """`<step>.signal`, `<step>.waiters`, `<step>.notify`: mark the branch done and signal every
    waiter. The Choice's default and the Map's Next are left to the caller."""
    payload = {"S.$": "States.JsonToString($.steps)"} if sends_results else {"S": "{}"}
    done = _retried(
        sdk.Task(
            aux_state(step, "signal"),
            resource=SIGNAL_RESOURCE,
            parameters={
                "TableName": table,
                "Key": marker_key(step_key),
                "UpdateExpression": "SET done = :d, payload = :p",
                "ExpressionAttributeValues": {":d": {"BOOL": True}, ":p": payload},
                "ReturnValues": "ALL_OLD",
            },
            result_path=MARKER_STATE,
        ),
        [CATCH_ALL],
    )
    waiters = sdk.Choice(aux_state(step, "waiters"))
    notify_one = _retried(
        sdk.Task(
            aux_state(step, "notify-one"),
            resource=NOTIFY_RESOURCE,
            parameters={"TaskToken.$": "$.token", "Output.$": "$.output"},
            result_path=None,
        ),
        ["Sfn.ThrottlingException"],
    )
    output = "States.JsonToString($.steps)" if sends_results else None
    selector: dict[str, Any] = {"token.$": "$$.Map.Item.Value"}
    if output:
        selector["output.$"] = output
    else:
        selector["output"] = "{}"
    notify = sdk.Map(
        aux_state(step, "notify"),
        lambda: {"StartAt": notify_one.state_id, "States": {notify_one.state_id: _typed_first(notify_one)}},
        items_path=f"{MARKER_STATE}.Attributes.waiters.SS",
        parameters=selector,
        result_path=None,
    )
    waiters.add_choice(sdk.ChoiceRule.IsPresent(variable=f"{MARKER_STATE}.Attributes.waiters", value=True), notify)
    done.next(waiters)
    return done, waiters, notify


def _typed_first(state: Any) -> dict[str, Any]:
    body = state.to_dict()
    return {"Type": body.pop("Type"), **body}


def clear_states(name: str, step_keys: list[str], table: str) -> list[Any]:
    """`<name>.markers-cleared[-n]`: delete this execution's markers once the network succeeded
    (a failure leaves them, for a redrive); a failure to delete does not fail the workflow."""
    states = []
    batches = [step_keys[i : i + BATCH_LIMIT] for i in range(0, len(step_keys), BATCH_LIMIT)]
    for number, batch in enumerate(batches, start=1):
        suffix = "markers-cleared" if len(batches) == 1 else f"markers-cleared-{number}"
        requests = [{"DeleteRequest": {"Key": marker_key(key)}} for key in batch]
        state = _retried(
            sdk.Task(
                aux_state(name, suffix),
                resource=CLEAR_RESOURCE,
                parameters={"RequestItems": {table: requests}},
                result_path=None,
                comment="Deletes this execution's completion markers." if number == 1 else None,
            ),
            WAIT_RETRYABLE,
        )
        states.append(state)
    return states


def uses_markers(definition: dict[str, Any]) -> bool:
    """Whether a definition waits for or signals completion markers (it needs the markers table)."""
    return any(body.get("Resource") in (WAIT_RESOURCE, SIGNAL_RESOURCE) for _, body in walk_states(definition))
