"""The `register` step: a model version in a SageMaker Model Registry group."""

from __future__ import annotations

import json

import pytest
from conftest import compile_text, history_line_after_a_run

from sfn_builder.asl import walk_states
from sfn_builder.deploy.iam import execution_policy
from sfn_builder.steps.base import Arns

SPEC = """
version: 1
name: registry
defaults:
  sagemaker:
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/xgb:1
steps:
  wait_a_bit: {type: wait, seconds: 1}
  register:
    type: register
    needs: [wait_a_bit]
    group: churn-models
    model_data: s3://ml-data/model/model.tar.gz
    metrics: "s3://ml-data/evaluation/${execution.name}.json"
    approval: approved
    description: nightly
"""


def register_state(write_spec, text: str = SPEC) -> dict:
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    return dict(walk_states(compilation.whole()))["register"]


def test_the_request_registers_a_version_once_per_execution(write_spec):
    state = register_state(write_spec)
    assert state["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createModelPackage"
    request = state["Parameters"]
    assert request["ModelPackageGroupName"] == "churn-models"
    assert request["ModelApprovalStatus"] == "Approved"
    assert request["InferenceSpecification"] == {
        "Containers": [
            {"Image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/xgb:1", "ModelDataUrl": "s3://ml-data/model/model.tar.gz"}
        ],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    }
    statistics = request["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json" and "S3Uri.$" in statistics
    assert request["ClientToken.$"] == "States.Hash($$.Execution.Id, 'MD5')"  # a retry adds no second version
    assert "Tags" not in request  # a package in a group takes the group's


def test_the_role_may_add_versions_to_that_group_only(write_spec):
    compilation = compile_text(write_spec, SPEC)
    policy = execution_policy(compilation.analysis.workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    (statement,) = [s for s in policy["Statement"] if "sagemaker:CreateModelPackage" in s["Action"]]
    assert statement["Action"] == ["sagemaker:CreateModelPackage"]
    assert statement["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/churn-models",
        "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn-models/*",
    ]


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        ("group: churn-models", "group: churn_models!", "'churn_models!' is not a model package group's name"),
        ("group: churn-models", 'group: "models-${input.x}"', "named in the spec, not by a template"),
        ("model_data: s3://", "model_data: https://", "is not an S3 URI"),
        ("approval: approved", "approval: ok", "unknown value 'ok'; expected one of: pending, approved, rejected"),
        ("    group: churn-models\n", "", "missing required field 'group'"),
        ("description: nightly", "request: {Tags: [{Key: a, Value: b}]}", "takes the group's tags"),
        ("description: nightly", "request: {ModelPackageGroupName: x}", "write the group as the step's `group:`"),
    ],
)
def test_register_mistakes_are_reported_at_their_line(cli, write_spec, written, instead, message):
    text = SPEC.replace(written, instead, 1).replace("version: 1\n", "version: 1\ninput: {x: {type: string}}\n")
    assert written in SPEC
    code, _, err = cli("validate", write_spec(text))
    assert code == 1 and message in err, err
    assert "spec.yaml:" in err


def test_a_simulated_run_gives_the_version_and_a_failure_alerts(cli, write_spec):
    path = write_spec(SPEC + "  note:\n    type: wait\n    needs: [register]\n    seconds: 1\n")
    code, out, err = cli("simulate", path)
    assert code == 0, err
    assert "  ok        register" in out
    code, out, _ = cli("simulate", path, "--fail", "register=SageMaker.ResourceLimitExceeded")
    assert code == 1 and "register failed" in out and "SageMaker.ResourceLimitExceeded" in out


def test_the_result_is_the_version_s_arn(write_spec):
    from sfn_builder.simulate import engine
    from sfn_builder.simulate.mock_config import success_case

    definition = compile_text(write_spec, SPEC).whole()
    run = engine.run(definition, "registry", {}, success_case(definition, {}))
    succeeded = [e["taskSucceededEventDetails"] for e in run.events if "taskSucceededEventDetails" in e]
    outputs = [json.loads(details["output"]) for details in succeeded]
    assert outputs == [{"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-models/1"}]


def test_its_integration_errors_can_be_retried_and_misspellings_are_questioned(cli, write_spec):
    retry = "    retry: [{errors: [SageMaker.SageMakerException, SageMaker.ResourceLimitExceeded]}]\n"
    code, _, err = cli("validate", write_spec(SPEC + retry))
    assert code == 0, err
    misspelt = retry.replace("SageMaker.SageMakerException", "SageMaker.SagemakerException")
    code, _, err = cli("validate", write_spec(SPEC + misspelt))
    assert "did you mean 'SageMaker.SageMakerException'?" in err


def test_create_and_an_execution_on_the_emulator(emulator, write_spec, cli, aws_env):
    line = history_line_after_a_run(cli, write_spec(SPEC), emulator, "register")
    assert "succeeded" in line
