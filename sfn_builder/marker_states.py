"""The states of completion markers (module `markers` says how they work)."""

from __future__ import annotations

from typing import Any

from . import sdk
from .aws_rules import CATCH_ALL
from .markers import (
    BATCH_LIMIT,
    CLEAR_RESOURCE,
    MARKER_STATE,
    NOTIFY_RESOURCE,
    READ_RESOURCE,
    SIGNAL_RESOURCE,
    WAIT_RESOURCE,
    WAIT_RETRYABLE,
    marker_key,
)
from .naming import aux_state


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
        lambda: {"StartAt": notify_one.state_id, "States": {notify_one.state_id: sdk.state_dict(notify_one)}},
        items_path=f"{MARKER_STATE}.Attributes.waiters.SS",
        parameters=selector,
        result_path=None,
    )
    waiters.add_choice(sdk.ChoiceRule.IsPresent(variable=f"{MARKER_STATE}.Attributes.waiters", value=True), notify)
    done.next(waiters)
    return done, waiters, notify


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
