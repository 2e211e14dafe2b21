"""The embedded local AWS: the README's main command on a machine with no account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

EXAMPLE = str(ROOT / "workflows" / "churn-training.yaml")


def test_create_local_starts_the_emulator_publishes_and_keeps_it(private_cache, cli):
    assert cli("local", "status")[0] == 1
    code, out, err = cli("create", EXAMPLE, "--local", "--yes")
    assert code == 0, err
    assert "using the local AWS emulator at http://127.0.0.1:" in err
    assert "created state machine churn-training" in out
    assert "created EventBridge Scheduler schedule churn-training-schedule" in out
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:churn-training"
    assert f"State machine: {machine} (live routes to version 1)" in out
    code, out, _ = cli("local", "status")
    assert code == 0 and "local AWS emulator running at" in out
    code, out, _ = cli("plan", EXAMPLE, "--local")
    assert code == 0 and "No changes: churn-training is up to date." in out
    code, out, _ = cli("local", "stop")
    assert code == 0 and out.startswith("stopped")
    assert cli("local", "status")[0] == 1


def test_execute_local_runs_the_published_workflow_with_simulated_jobs(private_cache, cli):
    assert cli("create", EXAMPLE, "--local", "--yes")[0] == 0
    code, out, err = cli("execute", EXAMPLE, "--local", "--wait")
    assert code == 0, err
    assert "jobs are not run" in err
    lines = out.strip().splitlines()
    for step in ("clean_events", "train", "evaluate", "quality_gate", "register"):
        assert f"{step}: succeeded" in lines
    assert lines[-1] == "Execution SUCCEEDED"


def test_execute_local_with_a_failing_job_retries_alerts_and_fails(private_cache, cli):
    assert cli("create", EXAMPLE, "--local", "--yes")[0] == 0
    code, out, _ = cli("execute", EXAMPLE, "--local", "--wait", "--fail", "train=SageMaker.AmazonSageMakerException")
    assert code == 1
    lines = out.strip().splitlines()
    assert "train: retrying" in lines  # the spec retries train once
    failure_path = lines[lines.index("train: caught (the error goes on to its catch)") + 1 :]
    assert failure_path[:4] == [
        "train.failed: entered", "any step.alert: entered", "any step.alert: succeeded", "any step.failed: entered"
    ]
    assert "register: entered" not in lines
    assert lines[-1] == "Failed in train: SageMaker.AmazonSageMakerException: simulated failure of train"
    code, out, _ = cli("status", EXAMPLE, "--local")
    header, *rows = out.strip().splitlines()
    assert header.endswith(": live routes to version 1")
    assert [line.split()[2] for line in rows] == ["FAILED"]


def test_an_input_list_too_long_for_an_inline_maps_history_is_refused_before_anything_starts(
    private_cache, cli, write_spec
):
    fanout = str(ROOT / "workflows" / "batch-fanout.yaml")
    shards = json.dumps({"shards": [f"{n:05}" for n in range(3_600)]})  # 8 events a job item at least: 28,800
    code, _, err = cli("execute", fanout, "--local", "--input", shards)
    assert code == 1
    assert "'shards' holds 3,600 items: copy_shard runs them in an inline Map" in err and "s3://" in err
    # as a Distributed Map (max_concurrency over 40) the items run in executions of their own
    text = (ROOT / "workflows" / "batch-fanout.yaml").read_text()
    wide = write_spec(text.replace("max_concurrency: 4", "max_concurrency: 50"))
    code, _, err = cli("execute", wide, "--local", "--input", shards)
    assert "inline Map" not in err and "does not exist here: run `sfn-build create` first" in err  # went on
    # two lists, each short enough alone, fill one history together
    again = 'again:\n    type: batch\n    for_each: {items: "${input.more}"}\n    job_queue: ml-cpu\n'
    again += "    job_definition: s3-copy:7\n\n  featurise:"
    more = "more: {type: array, default: []}\n  shards:"
    twice = write_spec(text.replace("featurise:\n", again + "\n", 1).replace("shards:", more, 1))
    halves = json.dumps({"shards": [f"{n:05}" for n in range(1_600)], "more": list(range(1_600))})
    code, _, err = cli("execute", twice, "--local", "--input", halves)
    assert code == 1
    assert "'shards' holds 1,600 items: copy_shard runs them; 'more' holds 1,600 items: again runs them" in err
    # 8 events an item of a Batch job (7 for a lambda's), and the workflow's other steps' 48
    assert "with the other steps of the workflow's execution, 25,648 or more history events" in err


def test_an_input_past_what_step_functions_takes_is_refused_before_anything_starts(cli, tmp_path):
    given = tmp_path / "input.json"
    given.write_text(json.dumps({"run_date": "x" * 270_000}))
    for command in ("execute", "simulate"):
        code, _, err = cli(command, EXAMPLE, "--input", f"@{given}")
        assert code == 1, err
        assert "--input is 270,016 bytes; Step Functions takes at most 262,144" in err and "s3://" in err


def test_job_outcomes_need_the_local_emulator(cli):
    code, _, err = cli("execute", EXAMPLE, "--fail", "train")
    assert code == 2
    assert "add --local" in err


def test_an_input_that_does_not_fit_the_declarations_is_refused_before_anything_starts(cli):
    given = '{"min_auc": "high", "run_dat": "2026-11-21"}'
    for command in ("execute", "simulate"):
        code, _, err = cli(command, EXAMPLE, "--input", given)
        assert code == 2, err
        assert "'min_auc' is declared number, but the input gives text: 'high'" in err
        assert "'run_dat' is not a declared input (did you mean 'run_date'?)" in err
        assert "hint: the spec declares: run_date (string), min_auc (number)" in err


def test_execute_warns_when_the_deployed_machine_is_not_the_spec_and_ctrl_c_says_it_keeps_running(
    private_cache, cli, tmp_path, monkeypatch
):
    spec = tmp_path / "churn.yaml"
    spec.write_text(Path(EXAMPLE).read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("create", str(spec), "--local", "--yes")[0] == 0
    code, _, err = cli("execute", str(spec), "--local")
    assert code == 0 and "differs" not in err
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("default: 0.8}", "default: 0.9}"), encoding="utf-8")
    assert spec.read_text(encoding="utf-8") != text
    from sfn_builder.deploy import executions

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(executions, "follow", interrupted)
    code, out, err = cli("execute", str(spec), "--local", "--wait")
    assert code == 1
    assert f"the state machine churn-training deployed here differs from {spec}" in err
    assert f"run `sfn-build create {spec}`" in err
    name = out.split("execution:churn-training:", 1)[1].split()[0]
    assert f"Stopped following {name}: the execution keeps running." in err
    assert f"sfn-build stop {spec} {name} --local stops it." in err


def test_stop_names_what_runs_when_the_execution_is_not_running(private_cache, cli):
    assert cli("create", EXAMPLE, "--local", "--yes")[0] == 0
    code, out, _ = cli("stop", EXAMPLE, "--local", "--yes")
    assert code == 0 and "churn-training has no running executions." in out
    code, _, err = cli("stop", EXAMPLE, "nightly-1", "--local")
    assert code == 1
    assert "nightly-1 is not a running execution of churn-training" in err and "running now: none" in err


def test_the_emulator_pages_an_execution_history_as_aws_does_and_clients_read_it_back_unchanged():
    """GetExecutionHistory's events written as JSON at once (moto's serialiser took 3 s for a large part),
    a page at a time, oldest or newest first, timestamps as seconds: botocore parses them back to the
    events moto holds, to the millisecond."""
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    import botocore.session
    from botocore.parsers import JSONParser
    from moto.stepfunctions.exceptions import InvalidToken
    from moto.stepfunctions.responses import StepFunctionResponse

    from sfn_builder.deploy import emulator

    started = {"input": '{"a": "é"}', "inputDetails": {"truncated": False}, "roleArn": "arn:aws:iam::1:role/r"}
    first = datetime(2026, 11, 23, 0, 53, 23, 274000, tzinfo=UTC)
    events = [
        {"timestamp": first, "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
         "executionStartedEventDetails": started},
        *({"timestamp": (first + timedelta(seconds=n)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
           "type": "PassStateEntered", "id": n, "previousEventId": n - 1,
           "stateEnteredEventDetails": {"name": f"a.b{n}", "input": "{}"}} for n in range(2, 251)),
    ]
    model = botocore.session.get_session().get_service_model("stepfunctions")
    shape = model.operation_model("GetExecutionHistory").output_shape
    original = StepFunctionResponse.get_execution_history

    def pages(**asked):
        """Every page botocore reads, following the tokens."""
        read = []
        while True:
            backend = SimpleNamespace(get_execution_history=lambda arn: {"events": events})
            handler = SimpleNamespace(stepfunction_backend=backend, _get_param={"executionArn": "arn:x", **asked}.get)
            body = StepFunctionResponse.get_execution_history(handler)
            read.append(JSONParser().parse({"body": body.encode(), "headers": {}, "status_code": 200}, shape))
            if "nextToken" not in read[-1]:
                return read
            asked["nextToken"] = read[-1]["nextToken"]

    try:
        emulator._history_as_json()
        oldest_first = pages()
        newest_first = pages(reverseOrder=True, maxResults=1000)
        with pytest.raises(InvalidToken):
            pages(nextToken="not one")
    finally:
        StepFunctionResponse.get_execution_history = original
    assert [len(page["events"]) for page in oldest_first] == [100, 100, 50]
    read = [event for page in oldest_first for event in page["events"]]
    assert read[0] == events[0] and read[-1]["timestamp"] == first + timedelta(seconds=250)
    assert [event["id"] for event in read] == list(range(1, 251))
    assert [event["id"] for event in newest_first[0]["events"]] == list(range(250, 0, -1))
    assert len(newest_first) == 1
