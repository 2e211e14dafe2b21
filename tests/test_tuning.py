"""The `tuning` step: a SageMaker hyperparameter tuning job, its checks, IAM, alerts and simulated result."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, compile_text
from hypothesis import given
from hypothesis import strategies as st

from sfn_builder.asl import walk_states
from sfn_builder.deploy.alert_formatter import format_alert
from sfn_builder.deploy.alerts import alert_rules, matching_messages
from sfn_builder.deploy.iam import execution_policy
from sfn_builder.naming import tuning_prefix
from sfn_builder.steps.base import Arns

EXAMPLE = ROOT / "workflows" / "tuned-churn.yaml"
SPEC = """
version: 1
name: {name}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/ml
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/xgb:1
    instance_type: ml.m5.xlarge
  timeout: 2h
steps:
  {step}:
    type: tuning
    inputs: {{train: "s3://ml-data/train/"}}
    output: s3://ml-data/tuning/
    max_runtime: 1h
    hyperparameters: {{num_round: 100}}
    metrics: {{"validation:auc": "validation-auc:([0-9.]+)"}}
    objective: {{metric: "validation:auc"}}
    ranges:
      eta: {{min: 0.01, max: 0.3, scaling: logarithmic}}
      max_depth: {{min: 3, max: 10, integer: true}}
      booster: {{values: [gbtree, dart]}}
    max_jobs: 12
    max_parallel_jobs: 3
"""


def tuning_spec(name: str = "tuned", step: str = "tune", extra: str = "") -> str:
    return SPEC.format(name=name, step=step) + extra


def compiled(write_spec, text: str):
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation


def test_the_request_is_a_tuning_job_of_the_training_fields(write_spec):
    compilation = compiled(write_spec, tuning_spec())
    state = compilation.definition["States"]["tune"]
    assert state["Resource"] == "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"
    request = state["Parameters"]
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian" and config["TrainingJobEarlyStoppingType"] == "Off"
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 12, "MaxParallelTrainingJobs": 3}
    assert config["ParameterRanges"] == {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "10", "ScalingType": "Auto"}],
        "ContinuousParameterRanges": [
            {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
        ],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
    }
    definition = request["TrainingJobDefinition"]
    assert definition["RoleArn"] == "arn:aws:iam::111122223333:role/ml"
    assert definition["StaticHyperParameters"] == {"num_round": "100"}
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:auc", "Regex": "validation-auc:([0-9.]+)"}
    ]
    # four rounds of three jobs of at most an hour, and an hour to start: the task waits that long
    assert state["TimeoutSeconds"] == 4 * 3600 + 3600


@pytest.mark.parametrize(
    ("name", "step"), [("tuned", "tune"), ("a-very-long-workflow-name-for-tuning", "Hyperparameter_Search_Step_2")]
)
def test_a_tuning_job_name_fits_sagemakers_32_characters(write_spec, name, step):
    from sfn_builder.simulate import engine
    from sfn_builder.simulate.mock_config import success_case

    definition = compiled(write_spec, tuning_spec(name, step)).whole()
    run = engine.run(definition, name, {}, success_case(definition, {}))
    assert run.status == "SUCCEEDED", run.cause
    (succeeded,) = [e["taskSucceededEventDetails"] for e in run.events if "taskSucceededEventDetails" in e]
    tuning_job = json.loads(succeeded["output"])["HyperParameterTuningJobName"]
    assert len(tuning_job) <= 32
    assert tuning_job.startswith(tuning_prefix(name, step) + "-")  # what the policy and the alerts match
    assert tuning_job.startswith(name[:3])


def test_the_best_training_jobs_model_feeds_a_model_step_in_a_simulated_run(cli):
    code, out, err = cli("simulate", str(EXAMPLE))
    assert code == 0, err
    output = json.loads(out.split("Output: ", 1)[1])
    best = output["steps"]["tune"]["BestTrainingJob"]
    assert best["TrainingJobStatus"] == "Completed" and set(best["TunedHyperParameters"]) == {
        "eta", "max_depth", "subsample", "booster"
    }
    assert output["steps"]["tune"]["HyperParameterTuningJobStatus"] == "Completed"
    assert "  ok        best_model" in out and "  ok        score" in out


def test_a_failed_tuning_job_alerts_once_and_fails_the_step(cli):
    code, out, _ = cli("simulate", str(EXAMPLE), "--fail", "tune")
    assert code == 1
    assert "Alerts published: 1" in out and "tuned-churn: tune failed" in out
    assert "  ok        best_model" not in out


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        ('metric: "validation:auc"}', 'metric: "validation:acu"}', "the objective 'validation:acu' is not one of"),
        ("{num_round: 100}", "{num_round: 100, eta: 0.1}", "'eta' is both searched (ranges) and fixed"),
        ("{min: 0.01, max: 0.3, scaling", "{min: 0.5, max: 0.3, scaling", "the range of 'eta' is empty: min 0.5"),
        ("{min: 0.01, max: 0.3, scaling", "{min: 0, max: 0.3, scaling", "logarithmic scaling of 'eta' needs min"),
        ("{min: 3, max: 10,", "{min: 3.5, max: 10,", "an integer range of 'max_depth' needs whole numbers"),
        ("max_parallel_jobs: 3", "max_parallel_jobs: 30", "max_parallel_jobs (30) is more than max_jobs (12)"),
        ("max_jobs: 12", "max_jobs: 12\n    strategy: grid", "a grid search tries categorical ranges only"),
        ('{metric: "validation:auc"}', "{goal: minimize}", "missing required field 'metric'"),
    ],
)
def test_tuning_mistakes_are_reported_at_their_line(cli, write_spec, written, instead, message):
    text = tuning_spec().replace(written, instead, 1)
    assert text != tuning_spec()
    code, _, err = cli("validate", write_spec(text))
    assert code == 1 and message in err, err
    assert " error: " in err and "spec.yaml:" in err


def test_request_members_of_the_tuning_api_are_checked_and_merged(write_spec, cli):
    extra = "    request: {HyperParameterTuningJobConfig: {RandomSeed: 7}}\n"
    request = compiled(write_spec, tuning_spec(extra=extra)).definition["States"]["tune"]["Parameters"]
    assert request["HyperParameterTuningJobConfig"]["RandomSeed"] == 7
    assert request["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"  # merged, not replaced
    code, _, err = cli("validate", write_spec(tuning_spec(extra="    request: {HyperParameterTuningJobConfg: {}}\n")))
    assert code == 1 and "did you mean 'HyperParameterTuningJobConfig'" in err
    role = "    request: {TrainingJobDefinition: {RoleArn: 'arn:aws:iam::111122223333:role/admin'}}\n"
    code, _, err = cli("validate", write_spec(tuning_spec(extra=role)))
    assert code == 1 and "RoleArn is set by sfn-build from the step's fields" in err
    assert "request.TrainingJobDefinition.RoleArn" in err and "write the role as the step's `role:`" in err


def test_the_role_may_run_only_this_steps_tuning_jobs(write_spec):
    workflow = compiled(write_spec, tuning_spec()).analysis.workflow
    policy = execution_policy(workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    by_action = {action: s for s in policy["Statement"] for action in s["Action"]}
    jobs = ["arn:aws:sagemaker:eu-west-1:111122223333:hyper-parameter-tuning-job/tuned--tune-*"]
    for action in ("Create", "Describe", "Stop", "ListTrainingJobsFor"):
        assert by_action[f"sagemaker:{action}HyperParameterTuningJob"]["Resource"] == jobs
    assert by_action["events:PutRule"]["Resource"] == [
        "arn:aws:events:eu-west-1:111122223333:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule"
    ]
    assert by_action["iam:PassRole"]["Resource"] == ["arn:aws:iam::111122223333:role/ml"]


TUNING_EVENT = {
    "version": "0",
    "id": "b7c1e0e4-0000-4000-8000-000000000000",
    "detail-type": "SageMaker HyperParameter Tuning Job State Change",
    "source": "aws.sagemaker",
    "account": "111122223333",
    "time": "2026-11-22T04:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:sagemaker:eu-west-1:111122223333:hyper-parameter-tuning-job/tuned--tune-1a2b3c4d"],
    "detail": {
        "HyperParameterTuningJobName": "tuned--tune-1a2b3c4d",
        "HyperParameterTuningJobStatus": "Failed",
    },
}


def test_a_failed_tuning_job_event_alerts_and_another_workflows_does_not(write_spec):
    text = tuning_spec(extra="notifications: {topic: {name: t}, on_jobs: [Failed]}\n")
    compilation = compiled(write_spec, text)
    machine = "arn:aws:states:eu-west-1:111122223333:stateMachine:tuned"
    rules = alert_rules(compilation.analysis.workflow, machine, compilation.definition, [])
    matched = matching_messages(rules, TUNING_EVENT)
    assert len(matched) == 1 and "tuned--tune-1a2b3c4d" in matched[0][1]
    other = json.loads(json.dumps(TUNING_EVENT).replace("tuned--tune-", "other--tune-"))
    assert matching_messages(rules, other) == []


def test_the_detailed_alert_describes_the_tuning_job():
    asked = []

    def describe(kind: str, name: str) -> dict:
        asked.append((kind, name))
        return {"FailureReason": "No training job succeeded"}

    subject, message = format_alert(TUNING_EVENT, "tuned", describe)
    assert asked == [("HyperParameterTuning", "tuned--tune-1a2b3c4d")]
    assert subject == "sfn-build: tuned: hyperparameter tuning job Failed"
    assert "Failure reason: No training job succeeded" in message
    assert "#/hyper-tuning-jobs/tuned--tune-1a2b3c4d" in message


def test_the_example_runs_on_the_emulator(private_cache, cli):
    assert cli("create", str(EXAMPLE), "--local", "--yes")[0] == 0
    code, out, err = cli("execute", str(EXAMPLE), "--local", "--wait")
    assert code == 0, err
    assert "tune: succeeded" in out and "score: succeeded" in out
    code, out, _ = cli("execute", str(EXAMPLE), "--local", "--wait", "--fail", "tune")
    assert code == 1 and "Failed in tune" in out


def test_every_tuning_state_is_one_task(write_spec):
    states = dict(walk_states(compiled(write_spec, tuning_spec()).whole()))
    assert [name for name, state in states.items() if state.get("Type") == "Task"] == ["tune"]


workflow_names = st.text("abcAB_-0", min_size=1, max_size=40).filter(lambda n: n[0].isalnum())


@given(first=workflow_names, second=workflow_names, step=st.sampled_from(["tune", "t", "tune_all_the_things", "a-b"]))
def test_tuning_prefixes_of_different_workflows_never_cover_each_other(first, second, step):
    if first == second:
        return
    one, other = tuning_prefix(first, step), tuning_prefix(second, step)
    assert not f"{other}-01234567".lower().startswith(one.lower() + "-")
    assert len(f"{one}-01234567") <= 32
