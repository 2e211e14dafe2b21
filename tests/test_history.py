"""`sfn-build history`: an execution step by step, and its timeline picture (issue #10)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from test_resume import EXAMPLE

from sfn_builder.run_history import step_runs
from sfn_builder.timeline import timeline_svg


def test_history_of_a_run_with_a_parallel_block_a_retry_and_a_failure(private_cache, cli, tmp_path):
    spec = tmp_path / "churn.yaml"
    spec.write_text(EXAMPLE)
    assert cli("create", str(spec), "--local", "--yes")[0] == 0
    failing = "train=SageMaker.AmazonSageMakerException"
    assert cli("execute", str(spec), "--local", "--wait", "--fail", failing)[0] == 1
    picture = tmp_path / "run.svg"
    code, out, err = cli("history", str(spec), "--last", "--local", "-o", str(picture))
    assert code == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.startswith("  ") and line.split()}
    assert rows["clean_events"][1] == rows["clean_users"][1] == "succeeded"  # the two branches of parallel.1
    assert rows["train"][1] == "failed" and rows["train"][4] == "4"  # max_attempts 3: three retries
    assert rows["train"][5].startswith("churn-training--train-")
    assert rows["evaluate"][1:3] == ["not", "run"]
    assert "train failed: SageMaker.AmazonSageMakerException" in out
    assert "https://console.aws.amazon.com/sagemaker/home?region=us-east-1#/jobs/churn-training--train-" in out
    svg = picture.read_text()
    assert svg.startswith("<svg") and "train: failed" in svg and "4 attempts" in svg
    assert svg.count("<title>") == 4  # clean_events, clean_users, shard_features, train: the steps that ran


def _event(number, kind, when, **details):
    event = {"id": number, "previousEventId": number - 1, "type": kind, "timestamp": when}
    event.update(details)
    return event


def test_the_timeline_shows_parallel_steps_overlapping_and_each_attempt(write_spec):
    from conftest import analyze_text

    workflow = analyze_text(write_spec, EXAMPLE).workflow
    t0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    at = lambda minutes: t0 + timedelta(minutes=minutes)  # noqa: E731
    entered = lambda n, name, m: _event(n, "TaskStateEntered", at(m), stateEnteredEventDetails={"name": name})  # noqa: E731
    exited = lambda n, name, m: _event(n, "TaskStateExited", at(m), stateExitedEventDetails={"name": name})  # noqa: E731
    scheduled = lambda n, m, job: _event(  # noqa: E731
        n, "TaskScheduled", at(m), taskScheduledEventDetails={"resourceType": "sagemaker",
                                                             "parameters": f'{{"ProcessingJobName": "{job}"}}'}
    )
    events = [
        entered(1, "clean_events", 0), scheduled(2, 0, "a"), _event(3, "TaskSucceeded", at(30)),
        exited(4, "clean_events", 30),
        entered(5, "clean_users", 1), scheduled(6, 1, "b"), _event(7, "TaskFailed", at(5), taskFailedEventDetails={}),
        scheduled(8, 6, "b2"), _event(9, "TaskSucceeded", at(20)), exited(10, "clean_users", 20),
    ]
    runs = {run.step: run for run in step_runs(workflow, events, "eu-west-1")}
    assert runs["clean_users"].status == "succeeded" and len(runs["clean_users"].attempts) == 2
    assert runs["clean_events"].seconds == 1800
    svg = timeline_svg(list(runs.values()), "churn")
    bars = {
        m.group(3).split(":")[0]: (float(m.group(1)), float(m.group(1)) + float(m.group(2)))
        for m in re.finditer(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" [^>]*><title>([^<]*)</title>', svg)
    }
    events_bar, users_bar = bars["clean_events"], bars["clean_users"]
    assert users_bar[0] < events_bar[1] and events_bar[0] < users_bar[1]  # they overlap: they ran at once
    assert "clean_users: succeeded, 19m00s, 2 attempts" in svg


def test_a_step_failing_in_a_parallel_branch_is_named_as_the_failure_not_the_branch_end():
    from sfn_builder.deploy.executions import HistoryReader

    def entered(id_: int, previous: int, name: str) -> dict:
        return {"id": id_, "previousEventId": previous, "type": "TaskStateEntered",
                "stateEnteredEventDetails": {"name": name}}

    events = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 1, "type": "ParallelStateEntered", "stateEnteredEventDetails": {"name": "p"}},
        entered(3, 2, "train"),
        {"id": 4, "previousEventId": 3, "type": "TaskFailed",
         "taskFailedEventDetails": {"error": "States.TaskFailed", "cause": "out of memory"}},
        {"id": 5, "previousEventId": 4, "type": "FailStateEntered",
         "stateEnteredEventDetails": {"name": "train.failed"}},
        {"id": 6, "previousEventId": 5, "type": "ParallelStateFailed"},
        {"id": 7, "previousEventId": 6, "type": "ExecutionFailed",
         "executionFailedEventDetails": {"error": "train.Failed", "cause": "Step train failed."}},
    ]
    reader = HistoryReader()
    for event in events:
        reader.read(event)
    assert reader.failure == ("train", "States.TaskFailed", "out of memory")


def test_a_parallel_state_whose_catch_takes_a_branch_failure_is_shown_caught_not_succeeded():
    from sfn_builder.deploy.executions import HistoryReader

    events = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 1, "type": "ParallelStateEntered", "stateEnteredEventDetails": {"name": "p"}},
        {"id": 3, "previousEventId": 2, "type": "FailStateEntered", "stateEnteredEventDetails": {"name": "a.failed"}},
        {"id": 4, "previousEventId": 3, "type": "ParallelStateFailed"},
        {"id": 5, "previousEventId": 4, "type": "ParallelStateExited", "stateExitedEventDetails": {"name": "p"}},
        {"id": 6, "previousEventId": 5, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "p.alert"}},
        {"id": 7, "previousEventId": 6, "type": "TaskStateExited", "stateExitedEventDetails": {"name": "p.alert"}},
    ]
    reader = HistoryReader()
    shown = [(p.state, p.event) for p in map(reader.read, events) if p is not None]
    assert shown == [
        ("p", "entered"), ("a.failed", "entered"), ("p", "caught"), ("p.alert", "entered"), ("p.alert", "succeeded")
    ]


def test_a_succeed_step_that_ended_the_run_from_a_parallel_branch_shows_as_succeeded():
    from conftest import ROOT

    from sfn_builder.validate import analyze_file

    workflow = analyze_file(str(ROOT / "tests" / "specs" / "quiet-end.yaml")).workflow
    t0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    events = [  # inside a branch, `skip_rest` is a Fail state whose error ends the workflow (build's `succeed`)
        _event(1, "TaskStateEntered", t0, stateEnteredEventDetails={"name": "note_a"}),
        _event(2, "TaskStateExited", t0 + timedelta(minutes=1), stateExitedEventDetails={"name": "note_a"}),
        _event(3, "FailStateEntered", t0 + timedelta(minutes=1), stateEnteredEventDetails={"name": "skip_rest"}),
        _event(4, "ParallelStateFailed", t0 + timedelta(minutes=1)),  # read as the state entered before it
    ]
    runs = {run.step: run for run in step_runs(workflow, events, "eu-west-1")}
    assert runs["skip_rest"].status == "succeeded" and runs["skip_rest"].seconds == 0
    assert runs["join"].status == "not run"


def test_history_of_a_distributed_step_counts_its_items_and_says_why_it_failed(private_cache, cli, tmp_path):
    regions = ", ".join(f"r{n}" for n in range(50))  # more than an inline Map runs at once: distributed
    spec = tmp_path / "fan.yaml"
    spec.write_text(
        "version: 1\nname: fan-history\nsteps:\n  score:\n    type: lambda\n    function: score\n"
        f"    payload: {{region: \"${{item}}\"}}\n    for_each: {{items: [{regions}]}}\n"
    )
    assert cli("create", str(spec), "--local", "--yes")[0] == 0
    code, out, _ = cli("execute", str(spec), "--local", "--wait", "--fail", "score")
    assert code == 1 and "score: items (50 of 50 done, 50 failed)" in out
    code, out, err = cli("history", str(spec), "--last", "--local")
    assert code == 0, err
    assert "  score: items 50 of 50 done, 50 failed" in out
    assert "score failed: States.ExceedToleratedFailureThreshold" in out
