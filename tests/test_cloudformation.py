"""`compile --format cloudformation`: one template with everything `create` makes, accepted by cfn-lint."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint_all
from conftest import WORKFLOWS
from test_publish import EVERY_STEP_TYPE, SPEC


def template_of(cli, path: str) -> dict:
    code, out, err = cli("compile", path, "--format", "cloudformation")
    assert code == 0, err
    return json.loads(out)


def lint(document: dict) -> list[str]:
    """Errors and warnings, as the cfn-lint command reports by default (not informational notes)."""
    return [str(match) for match in lint_all(json.dumps(document)) if match.rule.id[0] in "EW"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.stem for w in WORKFLOWS])
def test_every_example_gives_a_template_cfn_lint_accepts(cli, workflow):
    assert lint(template_of(cli, str(workflow))) == []


@pytest.mark.parametrize(
    "text",
    [
        SPEC,
        SPEC.replace("on_jobs: [Failed, Stopped]", "on_jobs: [Failed, Stopped]\n  format: detailed"),
        EVERY_STEP_TYPE,
    ],
    ids=["simple-alerts", "detailed-alerts", "every-step-type"],
)
def test_the_template_holds_the_same_resources_as_create(cli, write_spec, text):
    document = template_of(cli, write_spec(text))
    assert lint(document) == []
    types = [resource["Type"] for resource in document["Resources"].values()]
    assert types.count("AWS::StepFunctions::StateMachine") == 1
    machine = next(r for r in document["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    assert "States" in machine["Properties"]["Definition"]
    assert "AWS::IAM::Role" in types
    if "format: detailed" in text:
        assert {"AWS::Lambda::Function", "AWS::Lambda::Permission"} <= set(types)
    if "notifications" in text:
        assert {"AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::Events::Rule"} <= set(types)
    if "schedule:" in text:
        assert {"AWS::Scheduler::ScheduleGroup", "AWS::Scheduler::Schedule"} <= set(types)
    if "logging:" in text:
        assert "AWS::Logs::LogGroup" in types and "LoggingConfiguration" in machine["Properties"]
    rendered = json.dumps(document)
    assert "123456789012:role/sfn-build" not in rendered  # account-specific ARNs are Fn::Sub pseudo parameters


def test_an_existing_topic_gets_its_statement_as_an_output(cli):
    document = template_of(cli, str(next(w for w in WORKFLOWS if w.stem == "batch-fanout")))
    output = document["Outputs"]["AlertTopicPolicyStatement"]
    assert "feature-store-alerts" in output["Description"]
    assert "events.amazonaws.com" in output["Value"]["Fn::Sub"]
    assert "AWS::SNS::TopicPolicy" not in {r["Type"] for r in document["Resources"].values()}
