"""Alert rules, input transformers and the alert formatter against AWS's own sample events.

The samples (tests/aws/events, sources in SOURCES.md) are used as AWS published
them, and as failure variants derived from them here: our state machine's ARN,
our job names, failure texts with quotes, backslashes, newlines and braces.
Patterns are matched by moto's implementation of EventBridge's matching.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import compile_text
from moto.events.models import EventPattern

from sfn_builder.deploy.alert_formatter import format_alert
from sfn_builder.deploy.alerts import AlertRule, alert_rules, transform
from sfn_builder.naming import job_prefix
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import failure, success_case

EVENTS = Path(__file__).parent / "aws" / "events"
MACHINE = "arn:aws:states:us-east-1:012345678912:stateMachine:ml-nightly"
NASTY = [
    'ClientError: "loss" is NaN',
    "C:\\data\\train\\{epoch}.csv not found",
    "line one\nline two\ttabbed",
    '{"FailureReason": "AlgorithmError: exit 1", "nested": {"a": [1, 2]}}',
    "<reason> and <job> and ${input.x}",
    "naïve façade ✓ 数据",
]
SPEC = """
version: 1
name: ml-nightly
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/ml
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml:1
    instance_type: ml.m5.xlarge
steps:
  prepare:
    type: processing
    entrypoint: [python3, prep.py]
  train:
    type: training
    needs: [prepare]
    output: s3://ml-data/models/
  package:
    type: model
    needs: [train]
    model_data: "${steps.train.ModelArtifacts.S3ModelArtifacts}"
  score:
    type: transform
    needs: [package]
    model: package
    input: s3://ml-data/score/in/
    output: s3://ml-data/score/out/
  export:
    type: batch
    needs: [score]
    job_queue: ml-cpu
    job_definition: export:3
  gate:
    type: lambda
    needs: [export]
    function: gate
    payload: {model: "${steps.train.ModelArtifacts.S3ModelArtifacts}"}
notifications:
  topic: arn:aws:sns:us-east-1:012345678912:ml-alerts
  on_jobs: [Failed, Stopped, Completed]
"""


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def ours(event: dict[str, Any], **detail: Any) -> dict[str, Any]:
    """A sample as our workflow would see it: our state machine, and the detail given."""
    derived = copy.deepcopy(event)
    if derived["source"] == "aws.states":
        derived["detail"]["stateMachineArn"] = MACHINE
    derived["detail"].update(detail)
    return derived


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spec")

    def write(text: str, name: str = "spec.yaml") -> str:
        path = folder / name
        path.write_text(text.lstrip("\n"), encoding="utf-8")
        return str(path)

    compilation = compile_text(write, SPEC)
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation


@pytest.fixture(scope="module")
def rules(compiled) -> list[AlertRule]:
    return alert_rules(compiled.analysis.workflow, MACHINE, compiled.definition)


def matching(rules: list[AlertRule], event: dict[str, Any]) -> list[AlertRule]:
    return [rule for rule in rules if EventPattern.load(json.dumps(rule.pattern)).matches_event(event)]


def job_name(step: str) -> str:
    return f"{job_prefix('ml-nightly', step)}-0123456789ab"


# -- execution status changes -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "alerts"),
    [
        ("states-execution-started.json", False),
        ("states-execution-succeeded.json", False),
        ("states-execution-failed.json", True),  # AWS's sample carries no error: it is alerted
        ("states-execution-timed-out.json", True),
        ("states-execution-aborted.json", True),
    ],
)
def test_the_execution_rule_alerts_once_for_each_bad_ending(rules, name, alerts):
    event = ours(sample(name))
    assert [r.suffix for r in matching(rules, event)] == (["execution-alerts"] if alerts else [])
    assert matching(rules, sample(name)) == []  # another state machine's executions never alert here


@pytest.mark.parametrize(
    ("error", "alerts"),
    [
        ("prepare.Failed", False),  # the workflow alerted for its step already
        ("gate.Failed", False),
        ("States.Runtime", True),  # no Catch sees these: the rule is the only alert
        ("States.DataLimitExceeded", True),
        ("InputMissing", True),
    ],
)
def test_a_failed_execution_is_alerted_by_the_rule_only_when_the_workflow_could_not(rules, error, alerts):
    event = ours(sample("states-execution-failed.json"), error=error, cause="...")
    assert bool(matching(rules, event)) is alerts


def test_every_way_an_execution_fails_sends_exactly_one_message(compiled):
    """The workflow's own alerts plus the rule's, for a caught failure and an uncatchable one."""
    workflow, definition = compiled.analysis.workflow, compiled.definition
    case = success_case(definition, {})
    case["train"] = failure(definition, "train")
    caught = engine.run(definition, workflow.name, {}, case)
    assert (
        caught.status == "FAILED" and len(caught.alerts) == 1 and engine.rule_alerts(workflow, definition, caught) == []
    )
    case = success_case(definition, {})
    case["train"][0] = type(case["train"][0])(0, 0, {"TrainingJobName": "x"})  # no ModelArtifacts: States.Runtime
    uncaught = engine.run(definition, workflow.name, {}, case)
    assert uncaught.error == "States.Runtime"
    assert uncaught.alerts == [] and len(engine.rule_alerts(workflow, definition, uncaught)) == 1


def test_a_large_workflow_s_execution_rule_fits_eventbridge_and_still_alerts_only_what_the_workflow_did_not(
    write_spec,
):
    """Two hundred steps' `<step>.Failed` names pass the 2,048 characters EventBridge takes."""
    steps = "".join(
        f"  s{n}: {{type: lambda, function: f, payload: {{n: {n}}}{f', needs: [s{n - 1}]' if n else ''}}}\n"
        for n in range(200)
    )
    stop = "  stop: {type: fail, needs: [s199], error: ModelRejected, cause: the model was rejected}\n"
    text = f"version: 1\nname: big\nsteps:\n{steps}{stop}notifications:\n  topic: {{name: big-alerts}}\n"
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    rules = alert_rules(compilation.analysis.workflow, MACHINE, compilation.definition)
    (rule,) = [r for r in rules if r.suffix == "execution-alerts"]
    assert len(json.dumps(rule.pattern, separators=(",", ":"))) <= 2048
    failed = sample("states-execution-failed.json")
    for error, cause, alerts in [
        ("s7.Failed", "Step s7 failed. States.TaskFailed: boom", False),  # alerted by the workflow
        ("ModelRejected", "the model was rejected", False),  # the fail step alerted
        ("States.Runtime", "An error occurred while executing the state", True),
        ("workflow.part-1.Failed", "workflow.part-1 failed. States.Timeout: ", True),  # nothing alerted it
    ]:
        assert bool(matching([rule], ours(failed, error=error, cause=cause))) is alerts, error
    assert matching([rule], ours(failed))  # no error in the event, as in AWS's sample


def test_a_large_workflow_s_job_rules_fit_eventbridge_and_match_only_its_own_jobs(write_spec):
    steps = "".join(f"  s{n}: {{type: batch, job_queue: q, job_definition: 'd:1'}}\n" for n in range(200))
    text = f"version: 1\nname: big\nsteps:\n{steps}notifications:\n  topic: {{name: t}}\n  on_jobs: [Failed]\n"
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    (rule,) = [r for r in alert_rules(compilation.analysis.workflow, MACHINE, compilation.definition)
               if r.suffix.startswith("batch")]
    assert len(json.dumps(rule.pattern, separators=(",", ":"))) <= 2048
    event = sample("batch-job-state-change.json")
    for name, alerts in [
        (f"{job_prefix('big', 's57')}-0123456789ab", True),
        (f"{job_prefix('bigger', 's57')}-0123456789ab", False),  # another workflow's
        (f"{job_prefix('big-x', 's57')}-0123456789ab", False),
    ]:
        assert bool(matching([rule], ours(event, jobName=name, status="FAILED"))) is alerts, name


@pytest.mark.parametrize("name", ["rerun(2024-01-01)", "it's-back!", "naïve-数据"])
def test_the_execution_message_is_json_for_any_legal_execution_name(rules, name):
    event = ours(sample("states-execution-timed-out.json"), name=name, executionArn=f"{MACHINE}:{name}")
    (rule,) = matching(rules, event)
    message = json.loads(transform(event, rule.transformer))
    assert f"the execution {name} of workflow ml-nightly ended TIMED_OUT" in message["alert"]
    assert message["execution"].endswith(f"#/v2/executions/details/{MACHINE}:{name}")


# -- job state changes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "detail", "suffix"),
    [
        ("sagemaker-processing-job-failed.json", {"ProcessingJobName": job_name("prepare")}, "processing-job"),
        (
            "sagemaker-training-job-state-change.json",
            {"TrainingJobName": job_name("train"), "TrainingJobStatus": "Stopped"},
            "training-job-stopped-completed",
        ),
        (
            "sagemaker-transform-job-state-change.json",
            {"TransformJobName": job_name("score"), "TransformJobStatus": "Failed"},
            "transform-job",
        ),
        ("batch-job-state-change.json", {"jobName": job_name("export"), "status": "FAILED"}, "batch-job"),
    ],
)
def test_job_rules_match_our_jobs_only(rules, name, detail, suffix):
    event = ours(sample(name), **detail)
    expected = f"{suffix}-alerts" if suffix.startswith("batch") else f"sagemaker-{suffix}-alerts"
    assert [r.suffix for r in matching(rules, event)] == [expected]
    assert matching(rules, sample(name)) == []  # AWS's own job names are not this workflow's


def test_a_batch_job_that_is_not_done_yet_does_not_alert(rules):
    assert matching(rules, ours(sample("batch-job-state-change.json"), jobName=job_name("export"))) == []


@pytest.mark.parametrize("reason", NASTY)
def test_failure_reasons_arrive_intact_in_valid_json(rules, reason):
    event = ours(
        sample("sagemaker-processing-job-failed.json"), ProcessingJobName=job_name("prepare"), FailureReason=reason
    )
    (rule,) = matching(rules, event)
    message = json.loads(transform(event, rule.transformer))
    assert message["reason"] == reason
    assert message["job"] == (
        f"https://console.aws.amazon.com/sagemaker/home?region=us-east-1#/processing-jobs/{job_name('prepare')}"
    )


@pytest.mark.parametrize("reason", NASTY)
def test_a_stopped_or_batch_job_message_is_valid_json_whatever_its_event_holds(rules, reason):
    events = [
        ours(
            sample("sagemaker-training-job-state-change.json"),
            TrainingJobName=job_name("train"),
            TrainingJobStatus="Stopped",
        ),
        ours(sample("batch-job-state-change.json"), jobName=job_name("export"), status="FAILED", statusReason=reason),
    ]
    for event in events:
        (rule,) = matching(rules, event)
        message = json.loads(transform(event, rule.transformer))
        assert "<" not in message["alert"] and message["job"].startswith("https://console.aws.amazon.com/")


def test_console_links_name_each_kind_of_job_s_own_page(rules):
    pages = {
        "SageMaker Processing Job State Change": "#/processing-jobs/",
        "SageMaker Training Job State Change": "#/jobs/",
        "SageMaker Transform Job State Change": "#/transform-jobs/",
        "Batch Job State Change": "#jobs/detail/",
    }
    for rule in rules:
        kind = rule.pattern["detail-type"][0]
        if kind in pages:
            assert pages[kind] in rule.transformer["InputTemplate"], rule.suffix


# -- the detailed format's formatter ------------------------------------------------


def no_describe(kind: str, name: str) -> dict[str, Any]:
    raise AssertionError("not called for execution events")


@pytest.mark.parametrize(
    ("name", "ending"),
    [("states-execution-timed-out.json", "timeout"), ("states-execution-aborted.json", "stopped")],
)
def test_the_formatter_says_what_a_timeout_or_abort_means_without_empty_fields(name, ending):
    _, message = format_alert(ours(sample(name)), "ml-nightly", no_describe, lambda arn: {})
    assert ending in message
    assert "Error: -" not in message and "Error: ." not in message and "Cause: -" not in message


def test_the_formatter_reads_the_error_of_a_failed_execution_whose_event_has_none():
    described = {"error": "train.Failed", "cause": 'Step train failed. States.TaskFailed: {"FailureReason": "OOM"}'}
    event = ours(sample("states-execution-failed.json"))
    subject, message = format_alert(event, "ml-nightly", no_describe, lambda arn: described)
    assert "Step: train" in message and "Error: train.Failed" in message
    assert subject == "sfn-build: ml-nightly: execution FAILED"


@pytest.mark.parametrize("reason", NASTY)
def test_the_formatter_keeps_any_failure_text(reason):
    event = ours(sample("sagemaker-processing-job-failed.json"), FailureReason=reason)
    subject, message = format_alert(event, "ml-nightly", lambda kind, job: {"FailureReason": reason})
    assert reason in message and len(subject) <= 100
    training = ours(sample("sagemaker-training-job-state-change.json"), TrainingJobStatus="Failed")
    _, message = format_alert(training, "ml-nightly", lambda kind, job: {"FailureReason": reason})
    assert "#/jobs/89c96cc8-dded-4739-afcc-6f1dc936701d" in message
