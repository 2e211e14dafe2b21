"""The `endpoint` step: a model put behind a SageMaker endpoint (created or updated), InService."""

from __future__ import annotations

import json

import pytest
from conftest import compile_text, history_line_after_a_run, refused_at_its_line

from sfn_builder.deploy.alert_formatter import format_alert
from sfn_builder.deploy.alerts import alert_rules, matching_messages
from sfn_builder.deploy.iam import execution_policy
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import Attempts, success_case
from sfn_builder.steps.base import Arns

SPEC = """
version: 1
name: deploy-churn
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/churn-sagemaker
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn:1
steps:
  churn_model:
    type: model
    model_data: s3://churn-data/models/model.tar.gz
  serve:
    type: endpoint
    needs: [churn_model]
    endpoint: Churn-Realtime
    model: churn_model
    instance_type: ml.m5.large
    instance_count: 2
    alarms: [churn-realtime-5xx]
    timeout: 30m
    poll: 1m
  announce:
    type: sns
    needs: [serve]
    topic: arn:aws:sns:us-east-1:123456789012:deployed
    message: "serving on ${steps.serve.EndpointConfigName}"
"""
MISSING = [Attempts(0, 0, error="SageMaker.SageMakerException", cause="Could not find endpoint")]


def compiled(write_spec, text: str = SPEC):
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation


def run(write_spec, text: str = SPEC, **states: list[Attempts]):
    compilation = compiled(write_spec, text)
    definition = compilation.whole()
    case = success_case(definition, {})
    case.update({name.replace("__", "."): attempts for name, attempts in states.items()})
    return engine.run(definition, compilation.analysis.workflow.name, {}, case)


def described(*answers: tuple[str, str]) -> list[Attempts]:
    """What DescribeEndpoint answers at each poll: (status, configuration)."""
    return [
        Attempts(
            n,
            n,
            {
                "EndpointName": "Churn-Realtime",
                "EndpointArn": "arn",
                "EndpointStatus": status,
                "EndpointConfigName": config,
            },
        )
        for n, (status, config) in enumerate(answers)
    ]


def calls(result) -> list[tuple[str, dict]]:
    return [
        (e["taskScheduledEventDetails"]["resource"], json.loads(e["taskScheduledEventDetails"]["parameters"]))
        for e in result.events
        if e["type"] == "TaskScheduled"
    ]


def test_each_run_makes_a_configuration_and_points_the_endpoint_at_it(write_spec):
    states = compiled(write_spec).definition["States"]["serve"]["Branches"][0]["States"]
    name = states["serve.begin"]["Parameters"]["config.$"]
    assert name.startswith("States.Format('deploy-churn--serve-{}'")  # one per run of the step
    start = states["serve.start"]
    assert start["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createEndpointConfig"
    assert start["Parameters"]["EndpointConfigName.$"] == "$.poll.config"
    (variant,) = start["Parameters"]["ProductionVariants"]
    assert variant["ModelName.$"].startswith("States.Format('deploy-churn--churn-model-{}'")
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 2)
    assert states["serve.exists"]["Catch"][0]["Next"] == "serve.create"
    assert states["serve.exists"]["Next"] == "serve.update"
    update = states["serve.update"]["Parameters"]
    assert update["EndpointConfigName.$"] == "$.poll.config"
    assert update["DeploymentConfig"] == {
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-realtime-5xx"}]}
    }
    assert states["serve.create"]["Parameters"]["EndpointConfigName.$"] == "$.poll.config"


def test_an_existing_endpoint_is_updated_and_the_step_waits_until_it_serves_the_new_configuration(write_spec):
    result = run(
        write_spec,
        serve__check=described(("Updating", "old"), ("Updating", "old"), ("InService", "new")),
        serve__exists=[Attempts(0, 0, {"EndpointConfigName": "old", "EndpointStatus": "InService"})],
    )
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    resources = [resource for resource, _ in calls(result)]
    assert resources.count("describeEndpoint") == 4 and "updateEndpoint" in resources
    assert "createEndpoint" not in resources
    assert result.output["steps"]["serve"]["EndpointConfigName"] == "new"


def test_a_new_endpoint_is_created(write_spec):
    result = run(write_spec, serve__exists=MISSING)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    made = dict(calls(result))
    assert "createEndpoint" in made and "updateEndpoint" not in made
    config = made["createEndpointConfig"]["EndpointConfigName"]
    assert made["createEndpoint"] == {
        "EndpointName": "Churn-Realtime",
        "EndpointConfigName": config,
        "Tags": made["createEndpointConfig"]["Tags"],
    }


def test_an_update_rolled_back_by_its_alarm_fails_the_step_with_one_alert(write_spec):
    result = run(
        write_spec,
        serve__check=described(("Updating", "old"), ("InService", "old")),
        serve__exists=[Attempts(0, 0, {"EndpointConfigName": "old", "EndpointStatus": "InService"})],
    )
    assert result.status == "FAILED" and result.error == "serve.Failed"
    assert "SageMaker.EndpointUpdateRolledBack" in result.cause
    assert len(result.alerts) <= 1  # no topic here: the alert state is not built
    assert "announce" not in {v.state for v in result.path}


@pytest.mark.parametrize(
    ("status", "error"),
    [("Failed", "SageMaker.EndpointFailed"), ("UpdateRollbackFailed", "SageMaker.EndpointUpdateRollbackFailed")],
)
def test_a_failed_endpoint_fails_the_step(write_spec, status, error):
    result = run(write_spec, serve__check=described(("Creating", "new"), (status, "new")), serve__exists=MISSING)
    assert result.status == "FAILED" and error in result.cause


def test_an_endpoint_not_in_service_by_the_timeout_fails_the_step(write_spec):
    result = run(write_spec, serve__check=described(("Creating", "new")), serve__exists=MISSING)
    assert result.status == "FAILED" and "SageMaker.EndpointTimedOut" in result.cause
    assert [v.state for v in result.path].count("serve.check") == 31  # the first check and 30 more polls


def test_the_role_makes_its_configurations_and_deploys_to_that_endpoint_only(write_spec):
    workflow = compiled(write_spec).analysis.workflow
    policy = execution_policy(workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    endpoint = "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/churn-realtime"
    configs = "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/deploy-churn--serve-*"
    found = {tuple(s["Action"]): s["Resource"] for s in policy["Statement"] if "Endpoint" in " ".join(s["Action"])}
    assert found == {
        ("sagemaker:AddTags", "sagemaker:CreateEndpointConfig"): [configs],
        ("sagemaker:DescribeEndpoint",): [endpoint],
        ("sagemaker:AddTags", "sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"): sorted([endpoint, configs]),
    }


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        ("endpoint: Churn-Realtime", "endpoint: churn_realtime", "is not a SageMaker endpoint name"),
        ("endpoint: Churn-Realtime", 'endpoint: "e-${execution.name}"', "named in the spec, not by a template"),
        ("    needs: [churn_model]\n    endpoint:", "    endpoint:", "does not need it"),
        ("model: churn_model", "model: announce", "is a sns step, not a model step"),
        ("instance_type: ml.m5.large", "instance_type: ml.m5.larg", "is not an instance type for endpoints"),
        (
            "    poll: 1m\n",
            "    poll: 1m\n    for_each: {items: [a, b]}\n",
            "unknown field 'for_each' for an endpoint step",
        ),
        ("    poll: 1m\n", "    poll: 1m\n    request: {EndpointConfigName: x}\n", "one configuration per run"),
        ("    poll: 1m\n", "    poll: 1m\n    request: {DataCapture: {}}\n", "DataCaptureConfig"),
    ],
)
def test_endpoint_mistakes_are_reported_at_their_line(cli, write_spec, written, instead, message):
    assert written in SPEC
    refused_at_its_line(cli, write_spec, SPEC.replace(written, instead, 1), message)


def test_create_and_an_execution_on_the_emulator(emulator, write_spec, cli, aws_env):
    line = history_line_after_a_run(cli, write_spec(SPEC), emulator, "serve")
    assert "succeeded" in line


def test_its_endpoint_failing_alerts_by_the_endpoint_s_name(write_spec):
    text = SPEC + "notifications:\n  topic: {name: deploy-alerts}\n  on_jobs: [Failed]\n"
    compilation = compiled(write_spec, text)
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:deploy-churn"
    rules = alert_rules(compilation.analysis.workflow, machine, compilation.definition, [])
    event = {  # as AWS's sample "SageMaker Endpoint State Change" event, failed
        "version": "0",
        "id": "1",
        "detail-type": "SageMaker Endpoint State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-11-22T02:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-realtime"],
        "detail": {
            "EndpointName": "Churn-Realtime",
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-realtime",
            "EndpointConfigName": "deploy-churn--serve-0123456789ab",
            "EndpointStatus": "FAILED",
            "Tags": {},
        },
    }
    ((rule, message),) = matching_messages(rules, event)
    assert rule.suffix == "sagemaker-endpoint-alerts" and "Churn-Realtime" in message
    other = {**event, "detail": {**event["detail"], "EndpointName": "Churn-Realtime-2"}}
    assert matching_messages(rules, other) == []  # the name itself, not a prefix
    serving = {**event, "detail": {**event["detail"], "EndpointStatus": "IN_SERVICE"}}
    assert matching_messages(rules, serving) == []
    subject, detailed = format_alert(event, "deploy-churn", lambda kind, name: {"FailureReason": "image pull failed"})
    assert subject == "sfn-build: deploy-churn: endpoint FAILED"
    assert "Failure reason: image pull failed" in detailed
