"""The states of completion markers (module `markers` says how they work)."""

from __future__ import annotations

from typing import Any, NamedTuple

from . import sdk
from .aws_rules import CATCH_ALL
from .markers import (
    ARRIVED,
    BATCH_LIMIT,
    CLEAR_RESOURCE,
    KEY_ATTRIBUTE,
    MARKER_STATE,
    NOTIFY_RESOURCE,
    PAYLOAD_PREFIX,
    READ_RESOURCE,
    SIGNAL_RESOURCE,
    WAIT_RESOURCE,
    WAIT_RETRYABLE,
    WAITER,
    marker_key,
)
from .naming import aux_state


def _retried(state: Any, errors: list[str]) -> Any:
    state.add_retry(sdk.Retry(error_equals=errors, max_attempts=6))  # every 1, 2, 4... seconds
    return state


def _payloads(senders: list[str], item: str) -> dict[str, str]:
    """A ResultSelector: the results each sender (by result key) put in the marker item at `item`."""
    return {f"{key}.$": f"States.StringToJson({item}.{PAYLOAD_PREFIX}{key}.S)" for key in senders}


def wait_state(step: str, needs: int, table: str, senders: list[str]) -> Any:
    """`<step>.after-needs`: register this task's token on the step's marker and wait until all of its
    `needs` (a count) have arrived. `senders`: the result keys of the needs whose results it keeps
    (at MARKER_STATE, for a `got` state)."""
    options: dict[str, Any] = {"result_path": None}
    if senders:
        options = {"result_selector": _payloads(senders, "$"), "result_path": MARKER_STATE}
    return _retried(
        sdk.Task(
            aux_state(step, "after-needs"),
            resource=WAIT_RESOURCE,
            parameters={
                "TableName": table,
                "Key": marker_key(step),
                "UpdateExpression": f"SET {WAITER} = :t",
                "ConditionExpression": f"attribute_not_exists({ARRIVED}) OR size({ARRIVED}) < :n",
                "ExpressionAttributeValues": {":t": {"S.$": "$$.Task.Token"}, ":n": {"N": str(needs)}},
            },
            **options,
        ),
        WAIT_RETRYABLE,
    )


def read_state(step: str, table: str, senders: list[str]) -> Any:
    """`<step>.read-needs`: the results in a marker whose needs had all arrived before the step waited."""
    return _retried(
        sdk.Task(
            aux_state(step, "read-needs"),
            resource=READ_RESOURCE,
            parameters={"TableName": table, "Key": marker_key(step), "ConsistentRead": True},
            result_selector=_payloads(senders, "$.Item"),
            result_path=MARKER_STATE,
        ),
        [CATCH_ALL],
    )


def got_state(step: str, have: dict[str, str], received: dict[str, str]) -> Any:
    """`<step>.got-needs`: `$.steps` with the results received (`have`: key -> kept result path;
    `received`: key -> the result key of the need that sent it)."""
    steps = {f"{key}.$": path for key, path in have.items()}
    steps.update({f"{key}.$": f"{MARKER_STATE}.{sender}.{key}" for key, sender in received.items()})
    return sdk.Pass(aux_state(step, "got-needs"), parameters=steps, result_path="$.steps")


class Signal(NamedTuple):
    """A step's signal: its states in the branch (the first one first), those whose failure the caller
    catches, the Choice whose default goes on (None for a Map), and the state that goes on."""

    states: list[Any]
    catchable: list[Any]
    choice: Any
    last: Any


def signal_states(step: str, step_key: str, table: str, waiting: dict[str, int], *, sends: bool) -> Signal:
    """After `step`, tell each waiting step (name -> how many needs it has) that it arrived, with
    `sends`: its branch's results (`$.steps`)."""
    payload = "States.JsonToString($.steps)"
    if len(waiting) == 1:
        [(name, needs)] = waiting.items()
        update, choice, notify = _signal_one(
            aux_state(step, "signal"), step, step_key, table, marker_key(name), needs, payload if sends else None
        )
        return Signal([update, choice, notify], [update, notify], choice, notify)
    listed = sdk.Pass(
        aux_state(step, "signal"),
        result=[{"step": name, "needs": needs} for name, needs in waiting.items()],
        result_path=MARKER_STATE,
    )
    key = {KEY_ATTRIBUTE: {"S.$": "States.Format('{}#{}', $$.Execution.Id, $.step)"}}
    inner = _signal_one(
        aux_state(step, "signal-one"), step, step_key, table, key, "$.needs", "$.payload" if sends else None
    )
    signalled = sdk.Succeed(aux_state(step, "signalled"))
    inner[1].default_choice(signalled)
    inner = (*inner, signalled)
    selector = {"step.$": "$$.Map.Item.Value.step", "needs.$": "$$.Map.Item.Value.needs"}
    if sends:
        selector["payload.$"] = payload
    each = sdk.Map(
        aux_state(step, "notify"),
        lambda: {"StartAt": inner[0].state_id, "States": {s.state_id: sdk.state_dict(s) for s in inner}},
        items_path=MARKER_STATE,
        parameters=selector,
        result_path=None,
    )
    listed.next(each)
    return Signal([listed, each], [each], None, each)


def _signal_one(
    name: str, step: str, step_key: str, table: str, key: dict[str, Any], needs: int | str, payload: str | None
) -> tuple[Any, Any, Any]:
    """The update of one waiting step's marker (`needs`: its count, or the path to it), the Choice whether
    it was the last to arrive at a waiting step, and the SendTaskSuccess that releases it."""
    update_expression = f"ADD {ARRIVED} :s"
    values: dict[str, Any] = {":s": {"SS": [step]}}
    parameters: dict[str, Any] = {"TableName": table, "Key": key}
    if payload is not None:
        update_expression += " SET #p = :p"
        values[":p"] = {"S.$": payload}
        parameters["ExpressionAttributeNames"] = {"#p": PAYLOAD_PREFIX + step_key}
    parameters.update(UpdateExpression=update_expression, ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
    update = _retried(
        sdk.Task(
            name,
            resource=SIGNAL_RESOURCE,
            parameters=parameters,
            result_selector={"count.$": f"States.ArrayLength($.Attributes.{ARRIVED}.SS)", "item.$": "$.Attributes"},
            result_path=MARKER_STATE,
        ),
        [CATCH_ALL],
    )
    count = f"{MARKER_STATE}.count"
    last = (
        sdk.ChoiceRule.NumericEquals(variable=count, value=needs)
        if isinstance(needs, int)
        else sdk.ChoiceRule.NumericEqualsPath(variable=count, value=needs)
    )
    waits = sdk.ChoiceRule.IsPresent(variable=f"{MARKER_STATE}.item.{WAITER}", value=True)
    notify = _retried(
        sdk.Task(
            aux_state(step, "notify-one"),
            resource=NOTIFY_RESOURCE,
            parameters={
                "TaskToken.$": f"{MARKER_STATE}.item.{WAITER}.S",
                "Output.$": f"States.JsonToString({MARKER_STATE}.item)",
            },
            result_path=None,
        ),
        ["Sfn.ThrottlingException"],
    )
    choice = sdk.Choice(aux_state(step, "waiters"))
    choice.add_choice(sdk.ChoiceRule.And([waits, last]), notify)
    update.next(choice)
    return update, choice, notify


def clear_states(name: str, steps: list[str], table: str) -> list[Any]:
    """`<name>.markers-cleared[-n]`: delete this execution's markers (of the waiting `steps`) once the
    network succeeded (a failure leaves them, for a redrive); a failure to delete does not fail the workflow."""
    states = []
    batches = [steps[i : i + BATCH_LIMIT] for i in range(0, len(steps), BATCH_LIMIT)]
    for number, batch in enumerate(batches, start=1):
        suffix = "markers-cleared" if len(batches) == 1 else f"markers-cleared-{number}"
        requests = [{"DeleteRequest": {"Key": marker_key(step)}} for step in batch]
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
