"""The `pipeline` step: a SageMaker Pipelines execution, started and polled to its end."""

from __future__ import annotations

import json

import pytest
from conftest import compile_text, history_line_after_a_run, refused_at_its_line

from sfn_builder.asl import walk_states
from sfn_builder.deploy.alert_formatter import format_alert
from sfn_builder.deploy.alerts import alert_rules, matching_messages
from sfn_builder.deploy.iam import execution_policy
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import Attempts, success_case
from sfn_builder.steps.base import Arns

SPEC = """
version: 1
name: scoring
input:
  run_date: {type: string, default: latest}
steps:
  score:
    type: pipeline
    pipeline: Churn-Scoring
    parameters: {RunDate: "${input.run_date}", MinAuc: 0.8}
    timeout: 1h
    poll: 5m
  announce:
    type: sns
    needs: [score]
    topic: arn:aws:sns:us-east-1:123456789012:scores
    message: "scored by ${steps.score.PipelineExecutionArn}"
notifications:
  topic: {name: scoring-alerts}
  on_jobs: [Failed, Stopped]
"""
EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-scoring/execution/0123456789ab"


def compiled(write_spec, text: str = SPEC):
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation


def run(write_spec, text: str = SPEC, **states: list[Attempts]):
    compilation = compiled(write_spec, text)
    definition = compilation.whole()
    case = success_case(definition, {"run_date": "latest"})
    case.update({name.replace("__", "."): attempts for name, attempts in states.items()})
    return engine.run(definition, compilation.analysis.workflow.name, {}, case)


def status(value: str) -> Attempts:
    return Attempts(0, 0, {"PipelineExecutionArn": EXECUTION, "PipelineExecutionStatus": value})


def statuses(*values: str) -> list[Attempts]:
    """What the status check answers at each poll."""
    return [
        Attempts(n, n, {"PipelineExecutionArn": EXECUTION, "PipelineExecutionStatus": value})
        for n, value in enumerate(values)
    ]


def test_the_step_starts_the_execution_and_polls_it_in_a_parallel_named_after_it(write_spec):
    definition = compiled(write_spec).definition
    score = definition["States"]["score"]
    assert score["Type"] == "Parallel"
    assert score["ResultSelector"] == {
        "PipelineExecutionArn.$": "$[0].PipelineExecutionArn",
        "PipelineExecutionStatus.$": "$[0].PipelineExecutionStatus",
    }
    (branch,) = score["Branches"]
    states = branch["States"]
    start = states["score.start"]
    assert start["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution"
    assert start["Parameters"]["PipelineName"] == "Churn-Scoring"
    assert start["Parameters"]["PipelineParameters"] == [
        {"Name": "RunDate", "Value.$": "$.input.run_date"},
        {"Name": "MinAuc", "Value": "0.8"},
    ]
    assert start["Parameters"]["ClientRequestToken.$"] == "$.poll.token"  # one per run of the step
    assert states["score.begin"]["Parameters"]["token.$"] == "States.UUID()"
    assert states["score.wait"]["Seconds"] == 300
    out_of_polls = next(c for c in states["score.status"]["Choices"] if "NumericGreaterThanEquals" in c)
    assert out_of_polls["NumericGreaterThanEquals"] == 12 and out_of_polls["Next"] == "score.stop"  # 1h / 5m
    errors = {states[name]["Error"] for name in states if states[name]["Type"] == "Fail"}
    assert errors == {
        "SageMaker.PipelineExecutionFailed",
        "SageMaker.PipelineExecutionStopped",
        "SageMaker.PipelineExecutionTimedOut",
    }


def test_it_waits_while_the_execution_runs_and_keeps_what_later_steps_read(write_spec):
    result = run(write_spec, score__check=statuses("Executing", "Executing", "Succeeded"))
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [v.state for v in result.path].count("score.wait") == 3
    assert result.waited_seconds == 900
    published = [
        e
        for e in result.events
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == "publish"
    ]
    assert f"scored by {EXECUTION}" in published[0]["taskScheduledEventDetails"]["parameters"]


@pytest.mark.parametrize(
    ("final", "error"),
    [("Failed", "SageMaker.PipelineExecutionFailed"), ("Stopped", "SageMaker.PipelineExecutionStopped")],
)
def test_an_execution_that_ends_badly_fails_the_step_with_one_alert(write_spec, final, error):
    result = run(write_spec, score__check=statuses("Executing", final))
    assert result.status == "FAILED" and result.error == "score.Failed"
    assert error in result.cause
    (alert,) = result.alerts
    assert alert.subject.endswith(": score failed") and error in alert.message
    assert "announce" not in {v.state for v in result.path}


def test_an_execution_past_the_timeout_is_stopped_and_the_step_times_out(write_spec):
    result = run(write_spec, score__check=statuses("Executing"))  # at every poll: the last response repeats
    assert result.status == "FAILED"
    assert "SageMaker.PipelineExecutionTimedOut" in result.cause
    ran = [v.state for v in result.path]
    assert ran.count("score.check") == 13 and "score.stop" in ran  # the first check and 12 more polls
    stop = next(
        json.loads(e["taskScheduledEventDetails"]["parameters"])
        for e in result.events
        if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"].endswith("stopPipelineExecution")
    )
    assert set(stop) == {"PipelineExecutionArn", "ClientRequestToken"}


def test_a_retry_starts_a_new_execution_and_a_catch_takes_the_step_s_own_error(write_spec):
    retried = SPEC.replace(
        "    poll: 5m\n",
        "    poll: 5m\n    retry: [{errors: [SageMaker.PipelineExecutionFailed], max_attempts: 1, interval: 1m}]\n",
    )
    result = run(write_spec, retried, score__check=statuses("Failed", "Succeeded"))
    assert result.status == "SUCCEEDED"
    tokens = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["ClientRequestToken"]
        for e in result.events
        if e["type"] == "TaskScheduled"
        and e["taskScheduledEventDetails"]["resource"].endswith("startPipelineExecution")
    ]
    assert len(tokens) == 2 and len(set(tokens)) == 2  # a second execution, not the first one's answer again

    caught = (
        SPEC.replace(
            "    poll: 5m\n",
            "    poll: 5m\n    catch: [{errors: [SageMaker.PipelineExecutionFailed], next: fallback, "
            "then: continue}]\n",
        )
        .replace("  announce:", "  fallback: {type: wait, seconds: 1}\n  announce:")
        .replace("scored by ${steps.score.PipelineExecutionArn}", "done")
    )
    result = run(write_spec, caught, score__check=statuses("Failed"))
    assert result.status == "SUCCEEDED" and "fallback" in {v.state for v in result.path}


def test_a_whole_result_read_is_taken_out_of_the_parallel_s_list(write_spec):
    whole = SPEC.replace("${steps.score.PipelineExecutionArn}", "${steps.score.FailureReason}")
    definition = compiled(write_spec, whole).definition
    assert "ResultSelector" not in definition["States"]["score"]
    unwrap = definition["States"]["score.result"]
    assert unwrap == {
        "Type": "Pass",
        "InputPath": "$.steps.score[0]",
        "ResultPath": "$.steps.score",
        "Next": "announce.resume",
    }
    result = run(
        write_spec,
        whole,
        score__check=[
            Attempts(
                0,
                0,
                {"PipelineExecutionArn": EXECUTION, "PipelineExecutionStatus": "Succeeded", "FailureReason": "none"},
            )
        ],
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["steps"]["score"]["FailureReason"] == "none"


def test_the_role_starts_that_pipeline_and_reads_and_stops_its_executions_only(write_spec):
    workflow = compiled(write_spec).analysis.workflow
    policy = execution_policy(workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    pipeline = "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/churn-scoring"
    found = {tuple(s["Action"]): s["Resource"] for s in policy["Statement"] if "sagemaker" in s["Action"][0]}
    assert found == {
        ("sagemaker:StartPipelineExecution",): [pipeline],
        ("sagemaker:DescribePipelineExecution", "sagemaker:StopPipelineExecution"): [f"{pipeline}/execution/*"],
    }


def test_its_failed_executions_alert_by_their_display_name(write_spec):
    compilation = compiled(write_spec)
    workflow = compilation.analysis.workflow
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:scoring"
    rules = alert_rules(workflow, machine, compilation.definition, [])
    event = {
        "version": "0",
        "id": "1",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-11-22T02:00:00Z",
        "region": "eu-west-1",
        "resources": [EXECUTION],
        "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "detail": {
            "pipelineExecutionDisplayName": "scoring--score-e93975cf9205",
            "pipelineExecutionArn": EXECUTION,
            "currentPipelineExecutionStatus": "Failed",
            "previousPipelineExecutionStatus": "Executing",
            "pipelineArn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-scoring",
        },
    }
    ((rule, message),) = matching_messages(rules, event)
    assert rule.suffix == "sagemaker-pipeline-execution-alerts"
    assert "the SageMaker pipeline execution scoring--score-e93975cf9205 of workflow scoring ended Failed" in message
    someone_else = {**event, "detail": {**event["detail"], "pipelineExecutionDisplayName": "studio-run-1"}}
    assert matching_messages(rules, someone_else) == []
    subject, detailed = format_alert(event, "scoring", lambda kind, name: {"FailureReason": "step Train failed"})
    assert subject == "sfn-build: scoring: pipeline execution Failed"
    assert "Failure reason: step Train failed" in detailed and EXECUTION in detailed


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        ("pipeline: Churn-Scoring", "pipeline: churn_scoring", "is not a SageMaker pipeline's name or ARN"),
        ("pipeline: Churn-Scoring", 'pipeline: "p-${input.run_date}"', "named in the spec, not by a template"),
        ("poll: 5m", "poll: 5s", "the status is checked every 10s at most"),
        ("timeout: 1h", "timeout: 30d", "a run polls 1,000 times at most"),
        ("{RunDate:", "{Run.Date:", "is not a pipeline parameter's name"),
        ("    poll: 5m\n", "    poll: 5m\n    request: {ClientRequestToken: abc}\n", "once per run of the step"),
        (
            "    poll: 5m\n",
            "    poll: 5m\n    request: {ParallelismConfiguration: {MaxParallel: 2}}\n",
            "MaxParallelExecutionSteps",
        ),
    ],
)
def test_pipeline_mistakes_are_reported_at_their_line(cli, write_spec, written, instead, message):
    assert written in SPEC
    refused_at_its_line(cli, write_spec, SPEC.replace(written, instead, 1), message)


def test_create_and_an_execution_on_the_emulator(emulator, write_spec, cli, aws_env):
    line = history_line_after_a_run(cli, write_spec(SPEC), emulator, "score")
    assert "succeeded" in line and "scoring--score-" in line


def checks(compilation, step: str) -> tuple[int, int]:
    """The seconds between a step's status checks, and how many it makes at most, as compiled."""
    states = dict(walk_states(compilation.whole()))
    (rule,) = [c for c in states[f"{step}.status"]["Choices"] if "NumericGreaterThanEquals" in c]
    return states[f"{step}.wait"]["Seconds"], rule["NumericGreaterThanEquals"]


ITEMS = "  score:\n    type: pipeline\n    pipeline: Churn-Scoring\n    for_each: {items: [eu, us, ap]}\n"
RETRIED = ITEMS.replace("for_each: {items: [eu, us, ap]}", "retry: [{errors: [States.ALL], max_attempts: 2}]")


@pytest.mark.parametrize(
    ("step", "interval"),
    [
        ("  score:\n    type: pipeline\n    pipeline: Churn-Scoring\n", 87),  # a day in 994 checks
        (ITEMS, 128),  # 3 items of a day each: 3 x 675 checks
        (ITEMS + "    timeout: 8h\n", 60),  # 3 x 480 checks at the default minute fit
        (ITEMS.replace("[eu, us, ap]}", "[eu, us, ap], mode: distributed}"), 87),  # each an execution of its own
        (RETRIED, 127),  # a retry runs the loop again: 3 runs of a day
    ],
)
def test_status_checks_are_spaced_so_that_work_until_its_timeout_fits_the_history(write_spec, step, interval):
    """A step that polls adds 11 events a status check: work that runs until its timeout would pass the 25,000
    events AWS allows an execution, which then fails with no catch or alert running. Without a `poll` of the
    spec's, the checks are spaced to leave the history room (2,500 events kept for retries)."""
    compilation = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{step}")
    assert not [p for p in compilation.problems if "status checks" in p.message]
    seconds, most = checks(compilation, "score")
    assert seconds == interval
    loops = 3 if "[eu, us, ap]}" in step or step == RETRIED else 1
    timeout = 8 * 3_600 if "8h" in step else 86_400
    assert loops * most * 11 <= 22_500 and (most - 1) * seconds < timeout <= most * seconds


def test_a_timeout_shorter_than_a_minute_is_checked_at_the_timeout_not_after_it(write_spec):
    step = "  score:\n    type: pipeline\n    pipeline: Churn-Scoring\n    timeout: 30s\n"
    compilation = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{step}")
    assert checks(compilation, "score") == (30, 1)
    begin = dict(walk_states(compilation.whole()))["score.begin"]
    assert begin["Comment"].endswith("then polls it every 30s, once.")


def test_the_status_checks_of_the_steps_of_one_execution_share_its_history(write_spec):
    pipelines = "".join(f"  {name}:\n    type: pipeline\n    pipeline: {name}\n" for name in ("prep", "train", "rate"))
    two = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{pipelines.split('  rate:')[0]}")
    assert [checks(two, name) for name in ("prep", "train")] == [(87, 994)] * 2  # 21,868 events at most
    three = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{pipelines}")
    assert not three.problems
    assert [checks(three, name) for name in ("prep", "train", "rate")] == [(128, 675)] * 3
    with_own = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{pipelines}{ITEMS}    poll: 10m\n")
    assert checks(with_own, "score") == (600, 144)  # the spec's interval, its 3 x 144 checks taken first
    assert [checks(with_own, name) for name in ("prep", "train", "rate")] == [(162, 534)] * 3  # 22,374 events in all


def test_status_checks_are_spaced_an_hour_apart_at_most_and_compile_warns_past_that(write_spec):
    """Four pipelines that may run a month each would need checks over an hour apart: they get one an hour,
    and the warning."""
    names = ("prep", "train", "rate", "ship")
    pipelines = "".join(f"  {name}:\n    type: pipeline\n    pipeline: {name}\n    timeout: 30d\n" for name in names)
    compilation = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{pipelines}")
    assert [checks(compilation, name) for name in names] == [(3_600, 720)] * 4
    (warning,) = [p for p in compilation.problems if "status checks" in p.message]
    assert "ran until their timeouts" in warning.message and "to 31,7" in warning.message


@pytest.mark.parametrize(("poll", "warned"), [("87s", True), ("10m", False)])
def test_status_checks_at_the_spec_s_own_interval_that_could_fill_the_history_are_warned_of(
    write_spec, poll, warned
):
    """The spec's `poll` is kept: when work running until its timeout would then pass the history, compile
    says so, at the step that checks most, with the ways out."""
    pipelines = "".join(
        f"  {name}:\n    type: pipeline\n    pipeline: {name}\n    poll: {poll}\n" for name in ("prep", "train", "rate")
    )
    compilation = compiled(write_spec, f"version: 1\nname: scoring\nsteps:\n{pipelines}")
    found = [p for p in compilation.problems if "status checks" in p.message]
    assert len(found) == warned
    if warned:
        (warning,) = found
        assert not warning.is_error and warning.path == ("steps", "prep") and warning.position.line == 4
        assert "if the work of prep, train and rate ran until their timeouts" in warning.message
        assert "the workflow's execution to 32,8" in warning.message and "poll: 10m" in warning.hint
        express = compiled(write_spec, f"version: 1\nname: scoring\ntype: express\nsteps:\n{pipelines}")
        assert not [p for p in express.problems if "status checks" in p.message]  # no history to fill


DECLARED = "version: 1\nname: scoring-lists\ninput:\n  regions: {type: array, default: [eu, us, ap]}\n"
RUN_TIME = ITEMS.replace("[eu, us, ap]}", '"${input.regions}"}')


def test_a_list_given_at_run_time_is_spaced_as_the_longest_its_default_or_a_schedule_gives(write_spec):
    """An execution input's list is known only when it runs: the checks are spaced for the longest list known
    when compiling, the field's default or a schedule's input (at least one item)."""
    assert checks(compiled(write_spec, f"{DECLARED}steps:\n{RUN_TIME}"), "score") == (127, 681)  # 3 items
    empty = DECLARED.replace("[eu, us, ap]", "[]")
    assert checks(compiled(write_spec, f"{empty}steps:\n{RUN_TIME}"), "score") == (87, 994)  # as one
    required = DECLARED.replace(", default: [eu, us, ap]}", "}")
    assert checks(compiled(write_spec, f"{required}steps:\n{RUN_TIME}"), "score") == (87, 994)  # unknown: as one
    regions = ", ".join(f"r{n}" for n in range(26))
    scheduled = f'{empty}schedule: {{expression: "rate(1 day)", input: {{regions: [{regions}]}}}}\n'
    assert checks(compiled(write_spec, f"{scheduled}steps:\n{RUN_TIME}"), "score") == (1_114, 78)
    many = scheduled.replace(regions, ", ".join(f"r{n}" for n in range(200)))
    (warning,) = [p for p in compiled(write_spec, f"{many}steps:\n{RUN_TIME}").problems if "status checks" in p.message]
    assert warning.message.startswith("in a schedule's input, 'regions' holds 200 items for score: if the work of")
    defaulted = DECLARED.replace("[eu, us, ap]", "[" + ", ".join(f"r{n}" for n in range(100)) + "]")
    (warning,) = [p for p in compiled(write_spec, f"{defaulted}steps:\n{RUN_TIME}").problems if "checks" in p.message]
    assert warning.message.startswith("by default, 'regions' holds 100 items for score: if the work of score ran")


def test_execute_warns_of_an_input_list_whose_status_checks_could_pass_the_history(emulator, write_spec, cli, aws_env):
    """A longer list than compile counted could fill the history with status checks: `execute` says so, with
    the list, and starts the execution (the work may well end before its timeout)."""
    path = write_spec(f"{DECLARED}steps:\n{RUN_TIME}")
    code, _, err = cli("execute", path, "--endpoint-url", emulator, "--input", json.dumps({"regions": ["eu"] * 5}))
    assert "warning: 'regions' holds 5 items for score: if the work of score ran until its timeout" in err
    assert "to 37,467 history events" in err and "hint: poll less often" in err
    assert code == 1 and "does not exist here: run `sfn-build create` first" in err  # it went on
    code, _, err = cli("execute", path, "--endpoint-url", emulator, "--input", json.dumps({"regions": ["eu"] * 3}))
    assert "warning" not in err and "does not exist here" in err  # compile counted three
