"""The states of completion markers (module `markers` says how they work)."""

from __future__ import annotations

import itertools
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
    SETS_PER_UPDATE,
    SIGNAL_RESOURCE,
    WAIT_RESOURCE,
    WAIT_RETRYABLE,
    WAITER,
    marker_key,
)
from .naming import aux_state
from .parent_execution import PARENT_EXECUTION, from_parent_execution, parent_selector


def _retried(state: Any, errors: list[str]) -> Any:
    state.add_retry(sdk.Retry(error_equals=errors, max_attempts=6))  # every 1, 2, 4... seconds
    return state


def _payloads(received: list[str], item: str) -> dict[str, str]:
    """A ResultSelector: the results (by result key) that needs put in the marker item at `item`."""
    return {f"{key}.$": f"States.StringToJson({item}.{PAYLOAD_PREFIX}{key}.S)" for key in received}


def wait_state(step: str, needs: int, table: str, received: list[str]) -> Any:
    """`<step>.after-needs`: register this task's token on the step's marker and wait until all of its
    `needs` (a count) have arrived. `received`: the result keys of the results its needs send it
    (kept at MARKER_STATE, for a `got` state)."""
    options: dict[str, Any] = {"result_path": None}
    if received:
        options = {"result_selector": _payloads(received, "$"), "result_path": MARKER_STATE}
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


def read_state(step: str, table: str, received: list[str]) -> Any:
    """`<step>.read-needs`: the results in a marker whose needs had all arrived before the step waited."""
    return _retried(
        sdk.Task(
            aux_state(step, "read-needs"),
            resource=READ_RESOURCE,
            parameters={"TableName": table, "Key": marker_key(step), "ConsistentRead": True},
            result_selector=_payloads(received, "$.Item"),
            result_path=MARKER_STATE,
        ),
        [CATCH_ALL],
    )


def got_state(step: str, have: dict[str, str], received: list[str]) -> Any:
    """`<step>.got-needs`: `$.steps` with the results received (`have`: key -> kept result path;
    `received`: the result keys its needs sent)."""
    steps = {f"{key}.$": path for key, path in have.items()}
    steps.update({f"{key}.$": f"{MARKER_STATE}.{key}" for key in received})
    return sdk.Pass(aux_state(step, "got-needs"), parameters=steps, result_path="$.steps")


class Signal(NamedTuple):
    """A step's signal: its states in the branch (the first one first), those whose failure the caller
    catches, the Choice whose default goes on (None for a Map), and the state that goes on."""

    states: list[Any]
    catchable: list[Any]
    choice: Any
    last: Any


def signal_states(
    step: str, table: str, waiting: dict[str, int], sends: list[str], *, from_children: bool = False
) -> Signal:
    """After `step`, tell each waiting step (name -> how many needs it has) that it arrived, with the
    results (by result key) that they read of its branch: `sends`. `from_children`: several waiting steps
    are told by a Distributed Map's child executions (module `history_budget`)."""
    if len(waiting) == 1:
        [(name, needs)] = waiting.items()
        sent = {key: f"States.JsonToString($.steps.{key})" for key in sends}
        *updates, choice, notify = _signal_one(aux_state(step, "signal"), step, table, marker_key(name), needs, sent)
        return Signal([*updates, choice, notify], [*updates, notify], choice, notify)
    listed = sdk.Pass(
        aux_state(step, "signal"),
        result=[{"step": name, "needs": needs} for name, needs in waiting.items()],
        result_path=MARKER_STATE,
    )
    marker = {KEY_ATTRIBUTE: {"S.$": "States.Format('{}#{}', $$.Execution.Id, $.step)"}}
    sent = {key: f"$.sent.{key}" for key in sends}
    inner = [*_signal_one(aux_state(step, "signal-one"), step, table, marker, "$.needs", sent)]
    signalled = sdk.Succeed(aux_state(step, "signalled"))
    inner[-2].default_choice(signalled)
    inner.append(signalled)
    selector: dict[str, Any] = {"step.$": "$$.Map.Item.Value.step", "needs.$": "$$.Map.Item.Value.needs"}
    if sends:
        selector["sent"] = {f"{key}.$": f"States.JsonToString($.steps.{key})" for key in sends}
    if from_children:  # each child execution keys the markers by the workflow's execution id
        selector[PARENT_EXECUTION] = parent_selector(("Id",))

    def emit() -> dict[str, Any]:
        states = {"StartAt": inner[0].state_id, "States": {s.state_id: sdk.state_dict(s) for s in inner}}
        return from_parent_execution(states, child_of_map=True) if from_children else states

    each = sdk.Map(
        aux_state(step, "notify"),
        emit,
        distributed={} if from_children else None,
        items_path=MARKER_STATE,
        parameters=selector,
        result_path=None,
    )
    listed.next(each)
    return Signal([listed, each], [each], None, each)


def _signal_one(
    name: str, step: str, table: str, key: dict[str, Any], needs: int | str, sent: dict[str, str]
) -> list[Any]:
    """The update of one waiting step's marker (`needs`: its count, or the path to it) that also sets the
    `sent` results (result key -> the path or intrinsic of its JSON text), after the updates that set the
    results beyond SETS_PER_UPDATE (`<name>` with `sent-` for `signal`: `<step>.sent-N`, `<step>.sent-one-N`);
    then the Choice whether it was the last to arrive at a waiting step, and the SendTaskSuccess that
    releases it."""
    items = list(sent.items())
    batches = [dict(items[i : i + SETS_PER_UPDATE]) for i in range(0, len(items), SETS_PER_UPDATE)] or [{}]
    role = name.rpartition(".")[2].replace("signal", "sent")
    earlier = [
        _update(aux_state(step, f"{role}-{n}"), table, key, batch, None)
        for n, batch in enumerate(batches[:-1], start=1)
    ]
    update = _update(name, table, key, batches[-1], step)
    for before, after in itertools.pairwise([*earlier, update]):
        before.next(after)
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
    return [*earlier, update, choice, notify]


def _update(name: str, table: str, key: dict[str, Any], sent: dict[str, str], arrived: str | None) -> Any:
    """An UpdateItem of a marker that sets the `sent` results and, with `arrived` (the step), adds the step
    to those that arrived and answers with the item (the signal's count)."""
    clauses = [f"ADD {ARRIVED} :s"] if arrived is not None else []
    values: dict[str, Any] = {":s": {"SS": [arrived]}} if arrived is not None else {}
    parameters: dict[str, Any] = {"TableName": table, "Key": key}
    if sent:
        clauses.append("SET " + ", ".join(f"#p{n} = :p{n}" for n in range(len(sent))))
        values.update({f":p{n}": {"S.$": text} for n, text in enumerate(sent.values())})
        parameters["ExpressionAttributeNames"] = {f"#p{n}": PAYLOAD_PREFIX + key for n, key in enumerate(sent)}
    parameters.update(UpdateExpression=" ".join(clauses), ExpressionAttributeValues=values)
    if arrived is None:
        return _retried(sdk.Task(name, resource=SIGNAL_RESOURCE, parameters=parameters, result_path=None), [CATCH_ALL])
    parameters["ReturnValues"] = "ALL_NEW"
    return _retried(
        sdk.Task(
            name,
            resource=SIGNAL_RESOURCE,
            parameters=parameters,
            result_selector={"count.$": f"States.ArrayLength($.Attributes.{ARRIVED}.SS)", "item.$": "$.Attributes"},
            result_path=MARKER_STATE,
        ),
        [CATCH_ALL],
    )


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
