"""`execute --wait` follows an execution and the parts it starts as they run (module `deploy.executions`)."""

from __future__ import annotations

import json

import pytest

from sfn_builder.deploy import executions
from sfn_builder.deploy.executions import Progress, follow

MAIN, PART_1, PART_2 = "arn:main", "arn:part-1", "arn:part-2"


def _entered(number, previous, kind, name):
    return {"id": number, "previousEventId": previous, "type": kind, "stateEnteredEventDetails": {"name": name}}


def _exited(number, previous, kind, name):
    return {"id": number, "previousEventId": previous, "type": kind, "stateExitedEventDetails": {"name": name}}


def _event(number, previous, kind, **details):
    return {"id": number, "previousEventId": previous, "type": kind, **details}


def _submitted(number, previous, child):
    details = {"resource": "startExecution.sync:2", "output": json.dumps({"ExecutionArn": child})}
    return _event(number, previous, "TaskSubmitted", taskSubmittedEventDetails=details)


def _part_steps(steps):
    """A part's history: its steps one after another, each succeeding."""
    events, number = [_event(1, 0, "ExecutionStarted")], 1
    for step in steps:
        events += [
            _entered(number + 1, number, "TaskStateEntered", step),
            _event(number + 2, number + 1, "TaskSucceeded"),
            _exited(number + 3, number + 2, "TaskStateExited", step),
        ]
        number += 3
    return [*events, _event(number + 1, number, "ExecutionSucceeded")]


# The workflow's execution: a Parallel state runs two parts at once; part 1 takes longer.
MAIN_EVENTS = [
    _event(1, 0, "ExecutionStarted"),
    _entered(2, 1, "ParallelStateEntered", "parts"),
    _entered(3, 2, "TaskStateEntered", "workflow.part-1"),
    _submitted(4, 3, PART_1),
    _entered(5, 2, "TaskStateEntered", "workflow.part-2"),
    _submitted(6, 5, PART_2),
    _event(7, 6, "TaskSucceeded"),  # part 2 ended
    _exited(8, 7, "TaskStateExited", "workflow.part-2"),
    _event(9, 4, "TaskSucceeded"),  # part 1 ended
    _exited(10, 9, "TaskStateExited", "workflow.part-1"),
    _exited(11, 10, "ParallelStateExited", "parts"),
    _entered(12, 11, "TaskStateEntered", "report"),
    _event(13, 12, "TaskSucceeded"),
    _exited(14, 13, "TaskStateExited", "report"),
    _event(15, 14, "ExecutionSucceeded"),
]
PART_EVENTS = {PART_1: _part_steps(["a1", "a2", "a3"]), PART_2: _part_steps(["b1"])}
# How many of each history's events exist at each poll (the last poll: all of them).
TIMELINE = [
    {MAIN: 6, PART_1: 3, PART_2: 1},
    {MAIN: 6, PART_1: 5, PART_2: 6},
    {MAIN: 8, PART_1: 8, PART_2: 6},
    {MAIN: 15, PART_1: 11, PART_2: 6},
]


class _StepFunctions:
    """Step Functions as `follow` reads it: each DescribeExecution of the workflow's execution is a new poll."""

    def __init__(self, timeline, main_events) -> None:
        self.timeline, self.main_events = timeline, main_events
        self.poll = -1

    def describe_execution(self, executionArn):
        assert executionArn == MAIN
        self.poll = min(self.poll + 1, len(self.timeline) - 1)
        return {"status": "SUCCEEDED" if self.poll == len(self.timeline) - 1 else "RUNNING"}

    def get_execution_history(self, executionArn, maxResults, reverseOrder=False, nextToken=None):
        history = self.main_events if executionArn == MAIN else PART_EVENTS[executionArn]
        events = history[: self.timeline[self.poll][executionArn]]
        return {"events": list(reversed(events)) if reverseOrder else events}


class _Aws:
    local = True

    def __init__(self, timeline, main_events=MAIN_EVENTS) -> None:
        self.sfn = _StepFunctions(timeline, main_events)

    def client(self, service):
        return self.sfn


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(executions.time, "sleep", slept.append)
    return slept


def test_parts_running_at_once_are_followed_together_and_each_ended_part_shows_before_what_follows_it(sleeps):
    shown = [(p.state, p.event) for p in follow(_Aws(TIMELINE), MAIN)]
    # part 2's step shows while part 1 still runs (followed one after the other, b1 would come after a3)
    assert [state for state, event in shown if event == "entered"] == ["parts", "a1", "a2", "b1", "a3", "report"]
    # a part's last step shows before the workflow goes on past it; a part's own end is not the workflow's
    assert shown[-4:] == [("a3", "succeeded"), ("parts", "succeeded"), ("report", "entered"), ("report", "succeeded")]
    assert sleeps == [0.5, 0.5, 0.5]


def test_polls_quicken_while_events_arrive_and_slow_down_when_nothing_happens(sleeps):
    quiet = [{MAIN: 1}] * 5 + [TIMELINE[-1]]
    assert list(follow(_Aws(quiet), MAIN))[-1] == Progress("report", "succeeded")
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 5.0]


def test_on_aws_polls_stay_under_the_history_quota_whatever_the_parts_running(sleeps):
    aws = _Aws(TIMELINE)
    aws.local = False
    list(follow(aws, MAIN))
    # a poll reads the execution (2 calls) and each running part: at most 4 calls a second
    assert sleeps == [1.0, 1.0, 0.75]


RUN = "arn:aws:states:eu-west-1:1:mapRun:wf/label:1"
MAP_EVENTS = [
    _event(1, 0, "ExecutionStarted"),
    _entered(2, 1, "MapStateEntered", "score"),
    _event(3, 2, "MapStateStarted"),
    _event(4, 3, "MapRunStarted", mapRunStartedEventDetails={"mapRunArn": RUN}),
    _event(5, 4, "MapRunSucceeded"),
    _event(6, 5, "MapStateSucceeded"),
    _exited(7, 6, "MapStateExited", "score"),
    _event(8, 7, "ExecutionSucceeded"),
]


def test_a_distributed_maps_items_show_as_each_tenth_of_them_is_done_and_when_its_run_ends(sleeps):
    done = [0, 15, 18, 55, 100]  # items done at each poll, of 100 (two of them failed from the fourth poll)
    aws = _Aws([{MAIN: 4}] * 4 + [{MAIN: 8}], MAP_EVENTS)

    def describe_map_run(mapRunArn):
        assert mapRunArn == RUN
        failed = 2 if aws.sfn.poll > 2 else 0
        counts = {"succeeded": done[aws.sfn.poll] - failed, "failed": failed, "timedOut": 0, "aborted": 0}
        return {"itemCounts": {**counts, "running": 40, "total": 100}}

    aws.sfn.describe_map_run = describe_map_run
    shown = [(p.state, p.event, p.detail) for p in follow(aws, MAIN)]
    assert shown == [
        ("score", "entered", ""),
        ("score", "items", "15 of 100 done, 40 running"),
        ("score", "items", "55 of 100 done, 2 failed, 40 running"),
        ("score", "items", "100 of 100 done, 2 failed"),
        ("score", "succeeded", ""),
    ]


def test_without_leave_to_read_a_map_run_its_steps_still_show(sleeps):
    from botocore.exceptions import ClientError

    aws = _Aws([{MAIN: 4}, {MAIN: 8}], MAP_EVENTS)

    def describe_map_run(mapRunArn):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeMapRun")

    aws.sfn.describe_map_run = describe_map_run
    assert [(p.state, p.event) for p in follow(aws, MAIN)] == [("score", "entered"), ("score", "succeeded")]
