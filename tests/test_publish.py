"""`create`, `plan` and `delete` against moto's server as a real HTTP endpoint."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import botocore.exceptions
import pytest
from conftest import ROOT
from parliament import analyze_policy_string

from sfn_builder.compiler import compile_analysis
from sfn_builder.deploy.alerts import transform
from sfn_builder.deploy.aws import Aws, AwsError, Target
from sfn_builder.deploy.changes import ADD, CHANGE, REMOVE
from sfn_builder.deploy.publish import apply, plan_removal, prepare, remove
from sfn_builder.validate import analyze_file

ACCOUNT = "123456789012"
REGION = "us-east-1"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:churn"
SPEC = """
version: 1
name: churn
tags: {team: ml}
input:
  run_date: {type: string, default: latest}
defaults:
  sagemaker:
    role: arn:aws:iam::123456789012:role/churn-sagemaker
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1
    instance_type: ml.m5.xlarge
steps:
  prep:
    type: processing
    entrypoint: [python3, prep.py]
    outputs: [{name: report, source: /opt/ml/processing/output, destination: "s3://churn-data/reports/"}]
    report: {output: report, file: metrics.json}
  train:
    type: training
    needs: [prep]
    output: s3://churn-data/models/
  shards:
    type: batch
    needs: [train]
    job_queue: ml-cpu
    job_definition: features:3
  register:
    type: lambda
    needs: [shards]
    function: register-model
notifications:
  topic: {name: churn-alerts, subscriptions: [{protocol: email, endpoint: oncall@example.com}]}
  on_execution: [FAILED, TIMED_OUT]
  on_jobs: [Failed, Stopped]
schedule:
  expression: cron(0 3 * * ? *)
  timezone: Europe/Amsterdam
  input: {run_date: latest}
"""


EVERY_STEP_TYPE = """
version: 1
name: every
defaults:
  sagemaker: {role: "arn:aws:iam::123456789012:role/r", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1",
              instance_type: ml.m5.xlarge}
logging: {level: ALL}
steps:
  fit: {type: training, output: "s3://b-1/m/"}
  packed: {type: model, needs: [fit], model_data: "${steps.fit.ModelArtifacts.S3ModelArtifacts}"}
  score: {type: transform, needs: [packed], model: packed, input: "s3://b-1/i/", output: "s3://b-1/o/"}
  shards: {type: batch, needs: [score], job_definition: d,
           job_queue: "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
  tell: {type: sns, needs: [shards], topic: "arn:aws:sns:us-east-1:123456789012:news", message: hi}
  nested: {type: workflow, needs: [tell], state_machine: other}
  call: {type: lambda, needs: [nested], function: "arn:aws:lambda:us-east-1:123456789012:function:f:live"}
"""


def connect(url: str) -> Aws:
    return Aws.connect(Target(endpoint_url=url, local=True))


def compiled(path: str):
    compilation = compile_analysis(analyze_file(path))
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation.analysis.workflow, compilation.definition


def create(url: str, path: str, aws: Aws | None = None):
    workflow, definition = compiled(path)
    publication = prepare(workflow, definition, aws or connect(url))
    apply(publication, lambda change: None)
    return publication


def record_calls(aws: Aws) -> list[str]:
    calls: list[str] = []
    aws.session.register("before-call", lambda model, **_: calls.append(model.name))
    return calls


def mutating(calls: list[str]) -> list[str]:
    return [name for name in calls if not name.startswith(("Get", "Describe", "List"))]


@pytest.fixture
def spec(write_spec):
    return write_spec(SPEC)


def test_create_makes_everything_the_spec_asks_for(emulator, spec):
    publication = create(emulator, spec)
    assert {c.action for c in publication.changes} == {ADD}
    aws = connect(emulator)
    sfn, iam, events = aws.client("stepfunctions"), aws.client("iam"), aws.client("events")

    machine = sfn.describe_state_machine(stateMachineArn=MACHINE)
    assert json.loads(machine["definition"]) == compiled(spec)[1]
    assert machine["type"] == "STANDARD"
    assert machine["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/sfn-build/churn/churn-sfn"
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=MACHINE)["tags"]}
    assert tags == {"sfn-build:workflow": "churn", "team": "ml"}

    role = iam.get_role(RoleName="churn-sfn")["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == [MACHINE, f"{MACHINE}:*"]  # its versions and alias
    policy = iam.get_role_policy(RoleName="churn-sfn", PolicyName="sfn-build")["PolicyDocument"]
    by_action = {action: s for s in policy["Statement"] for action in s["Action"]}
    assert by_action["sagemaker:CreateProcessingJob"]["Resource"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/churn--prep-*"
    ]
    assert by_action["iam:PassRole"]["Resource"] == ["arn:aws:iam::123456789012:role/churn-sagemaker"]
    assert by_action["iam:PassRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert by_action["lambda:InvokeFunction"]["Resource"] == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:register-model",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:register-model:*",
    ]
    assert by_action["s3:GetObject"]["Resource"] == ["arn:aws:s3:::churn-data/reports/metrics.json*"]
    assert by_action["sns:Publish"]["Resource"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:churn-alerts"]
    assert by_action["events:PutRule"]["Resource"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForBatchJobsRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForSageMakerProcessingJobsRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule",
    ]
    without_resources = {"batch:DescribeJobs", "sagemaker:ListTags"}  # no resource-level permissions
    scoped = [s for s in policy["Statement"] if without_resources.isdisjoint(s["Action"])]
    assert "*" not in {r for s in scoped for r in s["Resource"]}

    rules = {r["Name"]: r for r in events.list_rules(NamePrefix="churn-")["Rules"]}
    assert set(rules) == {
        "churn-execution-alerts",
        "churn-sagemaker-processing-job-alerts",
        "churn-sagemaker-processing-job-stopped-alerts",
        "churn-sagemaker-training-job-alerts",
        "churn-sagemaker-training-job-stopped-alerts",
        "churn-batch-job-alerts",
    }
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:churn-alerts"
    topic_policy = json.loads(aws.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert topic_policy["Statement"] == [
        {
            "Sid": "sfnbuildrules",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {"ArnEquals": {"aws:SourceArn": sorted(r["Arn"] for r in rules.values())}},
        }
    ]
    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "oncall@example.com")]
    for name in rules:
        (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
        assert target["Arn"] == topic and "InputTemplate" in target["InputTransformer"]

    schedule = aws.client("scheduler").get_schedule(Name="churn-schedule", GroupName="sfn-build-churn")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Amsterdam"
    assert schedule["Target"]["Arn"] == f"{MACHINE}:live"  # the alias: the version rolled out
    assert json.loads(schedule["Target"]["Input"]) == {"run_date": "latest"}
    schedule_role = schedule["Target"]["RoleArn"].rsplit("/", 1)[1]
    assert iam.get_role_policy(RoleName=schedule_role, PolicyName="sfn-build")["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["states:StartExecution"],
            "Resource": [MACHINE],
            "Condition": {"ForAnyValue:StringEquals": {"states:StateMachineQualifier": ["live"]}},
        }
    ]
    (version,) = sfn.list_state_machine_versions(stateMachineArn=MACHINE)["stateMachineVersions"]
    alias = sfn.describe_state_machine_alias(stateMachineAliasArn=f"{MACHINE}:live")
    assert alias["routingConfiguration"] == [{"stateMachineVersionArn": f"{MACHINE}:1", "weight": 100}]
    assert version["stateMachineVersionArn"] == f"{MACHINE}:1"
    scheduler_trust = iam.get_role(RoleName=schedule_role)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert scheduler_trust["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_a_second_create_makes_no_mutating_call(emulator, spec):
    create(emulator, spec)
    aws = connect(emulator)
    calls = record_calls(aws)
    workflow, definition = compiled(spec)
    publication = prepare(workflow, definition, aws)
    apply(publication, lambda change: None)
    assert publication.changes == []
    assert calls, "the plan must have read what exists"
    assert mutating(calls) == []


def test_a_changed_spec_changes_only_what_differs_and_removes_what_is_gone(emulator, spec, write_spec):
    create(emulator, spec)
    changed = SPEC.replace("on_jobs: [Failed, Stopped]", "on_jobs: [Failed]").split("schedule:")[0]
    changed = changed.replace("    function: register-model\n", "    function: register-model\n    timeout: 5m\n")
    workflow, definition = compiled(write_spec(changed, "changed.yaml"))
    publication = prepare(workflow, definition, connect(emulator))
    summary = {(c.action, c.kind, c.name) for c in publication.changes}
    assert summary == {
        (CHANGE, "state-machine", "churn"),
        (CHANGE, "state-machine-alias", "churn:live"),  # to a version of the new definition
        # Stopped jobs had rules of their own (their events carry no failure reason)
        (REMOVE, "events-rule", "churn-sagemaker-processing-job-stopped-alerts"),
        (REMOVE, "events-rule", "churn-sagemaker-training-job-stopped-alerts"),
        (CHANGE, "sns-topic", "churn-alerts"),  # its policy names the rules that may publish
        (REMOVE, "schedule", "churn-schedule"),
        (REMOVE, "schedule-group", "sfn-build-churn"),
        (REMOVE, "iam-role", "churn-schedule"),
    }
    definition_change = next(c for c in publication.changes if c.kind == "state-machine")
    assert any('"TimeoutSeconds": 300' in line for line in definition_change.details())
    apply(publication, lambda change: None)
    aws = connect(emulator)
    assert aws.client("scheduler").list_schedule_groups()["ScheduleGroups"] == [] or all(
        g["Name"] != "sfn-build-churn" for g in aws.client("scheduler").list_schedule_groups()["ScheduleGroups"]
    )
    with pytest.raises(botocore.exceptions.ClientError):
        aws.client("iam").get_role(RoleName="churn-schedule")
    assert prepare(workflow, definition, aws).changes == []


def test_delete_removes_everything_create_made_and_nothing_else(emulator, spec):
    aws = connect(emulator)
    aws.client("sns").create_topic(Name="someone-elses", Tags=[{"Key": "team", "Value": "other"}])
    aws.client("events").put_rule(Name="churn-manual", ScheduleExpression="rate(1 day)")
    create(emulator, spec)
    changes = plan_removal(aws, "churn")
    assert {c.action for c in changes} == {REMOVE}
    remove(aws, "churn", changes, lambda change: None)
    tagged = aws.client("resourcegroupstaggingapi").get_resources(
        TagFilters=[{"Key": "sfn-build:workflow", "Values": ["churn"]}]
    )
    assert tagged["ResourceTagMappingList"] == []
    assert aws.client("iam").list_roles(PathPrefix="/sfn-build/churn/")["Roles"] == []
    assert [r["Name"] for r in aws.client("events").list_rules(NamePrefix="churn-")["Rules"]] == ["churn-manual"]
    assert any(t["TopicArn"].endswith(":someone-elses") for t in aws.client("sns").list_topics()["Topics"])
    assert plan_removal(aws, "churn") == []


def test_event_patterns_and_alert_text_match_sample_events(emulator, spec):
    """Each alert rule's pattern, matched by EventBridge (moto's server) against events of each kind.

    moto delivers the matched events raw to a queue per rule; the message each rule sends
    is made of them as EventBridge makes it (moto inserts unquoted variables unescaped,
    unlike AWS, so `transform` stands in for its input transformer).
    """
    create(emulator, spec)
    aws = connect(emulator)
    events, sqs = aws.client("events"), aws.client("sqs")
    transformers, queues = {}, {}
    for rule in events.list_rules(NamePrefix="churn-")["Rules"]:
        if "EventPattern" not in rule:
            continue
        (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        transformers[rule["Name"]] = target["InputTransformer"]
        queues[rule["Name"]] = sqs.create_queue(QueueName=f"twin-{rule['Name']}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queues[rule["Name"]], AttributeNames=["QueueArn"])
        events.put_rule(Name=f"twin-{rule['Name']}", EventPattern=rule["EventPattern"])
        events.put_targets(
            Rule=f"twin-{rule['Name']}", Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}]
        )
        events.remove_targets(Rule=rule["Name"], Ids=[target["Id"]])  # moto cannot deliver to SNS targets
    reason = 'AlgorithmError: "loss" is NaN\nat C:\\train\\{epoch}.py'
    samples = [
        (
            "aws.states",
            "Step Functions Execution Status Change",  # no Catch saw it: the rule alerts
            {
                "stateMachineArn": MACHINE,
                "name": "run-1",
                "status": "FAILED",
                "executionArn": f"{MACHINE}:run-1",
                "error": "States.Runtime",
                "cause": "The JSONPath '$.x' could not be found",
            },
        ),
        (
            "aws.states",
            "Step Functions Execution Status Change",  # the workflow alerted for train already: no second alert
            {
                "stateMachineArn": MACHINE,
                "name": "run-4",
                "status": "FAILED",
                "executionArn": f"{MACHINE}:run-4",
                "error": "train.Failed",
                "cause": "Step train failed.",
            },
        ),
        (
            "aws.states",
            "Step Functions Execution Status Change",  # succeeded: no alert
            {"stateMachineArn": MACHINE, "name": "run-2", "status": "SUCCEEDED"},
        ),
        (
            "aws.states",
            "Step Functions Execution Status Change",  # another state machine: no alert
            {"stateMachineArn": MACHINE + "-other", "name": "run-3", "status": "FAILED"},
        ),
        (
            "aws.sagemaker",
            "SageMaker Processing Job State Change",
            {"ProcessingJobName": "churn--prep-0a1b2c3d4e5f", "ProcessingJobStatus": "Failed", "FailureReason": reason},
        ),
        (
            "aws.sagemaker",
            "SageMaker Processing Job State Change",  # another workflow's job: no alert
            {"ProcessingJobName": "churnx--prep-0a1b2c3d4e5f", "ProcessingJobStatus": "Failed"},
        ),
        (
            "aws.sagemaker",
            "SageMaker Training Job State Change",
            {"TrainingJobName": "churn--train-0a1b2c3d4e5f", "TrainingJobStatus": "Stopped"},
        ),
        (
            "aws.sagemaker",
            "SageMaker Training Job State Change",  # completed: no alert
            {"TrainingJobName": "churn--train-0a1b2c3d4e5f", "TrainingJobStatus": "Completed"},
        ),
        (
            "aws.batch",
            "Batch Job State Change",
            {"jobName": "churn--shards-0a1b2c3d4e5f", "jobId": "42", "status": "FAILED", "statusReason": reason},
        ),
    ]
    events.put_events(Entries=[{"Source": s, "DetailType": t, "Detail": json.dumps(d)} for s, t, d in samples])
    messages = {}
    for name, queue in queues.items():
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            messages.setdefault(name, []).append(json.loads(transform(json.loads(message["Body"]), transformers[name])))
    assert {name: len(sent) for name, sent in messages.items()} == {
        "churn-execution-alerts": 1,
        "churn-sagemaker-processing-job-alerts": 1,
        "churn-sagemaker-training-job-stopped-alerts": 1,
        "churn-batch-job-alerts": 1,
    }
    (execution,) = messages["churn-execution-alerts"]
    assert "the execution run-1 of workflow churn ended FAILED" in execution["alert"]
    assert execution["execution"].endswith(f"#/v2/executions/details/{MACHINE}:run-1")
    (processing,) = messages["churn-sagemaker-processing-job-alerts"]
    assert "processing job churn--prep-0a1b2c3d4e5f of workflow churn ended Failed" in processing["alert"]
    assert processing["reason"] == reason  # quotes, backslashes, newlines and braces arrive intact
    (training,) = messages["churn-sagemaker-training-job-stopped-alerts"]
    assert training["job"].endswith("#/jobs/churn--train-0a1b2c3d4e5f")
    (batch,) = messages["churn-batch-job-alerts"]
    assert "Batch job churn--shards-0a1b2c3d4e5f of workflow churn ended FAILED" in batch["alert"]
    assert batch["job"].endswith("#jobs/detail/42")


def test_generated_policies_pass_parliament(emulator, spec, write_spec):
    """Every permission policy create writes (trust policies are checked in the first test)."""
    detailed = write_spec(
        SPEC.replace("on_jobs: [Failed, Stopped]", "on_jobs: [Failed, Stopped]\n  format: detailed"), "detailed.yaml"
    )
    checked = 0
    every_type = write_spec(EVERY_STEP_TYPE, "every.yaml")
    for path in (spec, detailed, every_type, str(ROOT / "workflows" / "modeling-units.yaml")):
        workflow, definition = compiled(path)
        for resource in prepare(workflow, definition, connect(emulator)).resources:
            for document in [*resource.spec.get("policies", {}).values(), resource.spec.get("policy")]:
                if document:
                    findings = analyze_policy_string(json.dumps(document)).findings
                    assert findings == [], (resource.label, [(f.issue, f.detail) for f in findings])
                    checked += 1
    assert checked >= 6  # state machine, schedule and formatter roles, the topic's policy


def test_a_name_taken_by_a_resource_we_do_not_own_is_refused_and_repaired_later(emulator, spec):
    aws = connect(emulator)
    aws.client("events").put_rule(Name="churn-execution-alerts", ScheduleExpression="rate(1 day)")
    workflow, definition = compiled(spec)
    with pytest.raises(
        AwsError, match="EventBridge rule churn-execution-alerts already exists and was made outside sfn-build"
    ):
        prepare(workflow, definition, aws)
    aws.client("events").delete_rule(Name="churn-execution-alerts")
    create(emulator, spec)
    assert prepare(workflow, definition, aws).changes == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "access denied: PutRule on EventBridge rule churn-execution-alerts"),
        ("ThrottlingException", "AWS is throttling requests (PutRule on EventBridge rule churn-execution-alerts)"),
    ],
)
def test_aws_errors_are_clear_and_the_next_create_repairs(emulator, spec, code, expected):
    aws = connect(emulator)

    def refuse(model, **_):
        if model.name == "PutRule":
            raise botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "simulated"}}, "PutRule")

    aws.session.register("before-call.events.PutRule", refuse)
    workflow, definition = compiled(spec)
    publication = prepare(workflow, definition, aws)
    with pytest.raises(AwsError) as raised:
        apply(publication, lambda change: None)
    assert expected in str(raised.value)
    healthy = connect(emulator)
    repair = prepare(workflow, definition, healthy)
    assert repair.changes and all(c.kind in ("events-rule", "schedule-group", "schedule") for c in repair.changes)
    apply(repair, lambda change: None)
    assert prepare(workflow, definition, healthy).changes == []


def test_the_cli_publishes_and_plans_no_changes_after(emulator, spec, cli, aws_env):
    code, out, err = cli("create", spec, "--endpoint-url", emulator, "--yes")
    assert code == 0, err
    assert "+ state machine churn" in out and "created IAM role churn-sfn" in out
    assert f"State machine: {MACHINE}" in out
    code, out, err = cli("plan", spec, "--endpoint-url", emulator)
    assert code == 0 and "No changes: churn is up to date." in out
    code, out, err = cli("execute", spec, "--endpoint-url", emulator, "--input", '{"run_date": "2026-01-01"}')
    assert code == 0 and f"Started arn:aws:states:{REGION}:{ACCOUNT}:execution:churn:" in out
    code, out, err = cli("status", spec, "--endpoint-url", emulator)
    assert code == 0 and ("RUNNING" in out or "SUCCEEDED" in out)
    code, out, err = cli("delete", spec, "--endpoint-url", emulator, "--yes")
    assert code == 0 and "Deleted churn." in out


def test_create_without_confirmation_on_a_pipe_changes_nothing(emulator, spec, cli, aws_env):
    code, _, err = cli("create", spec, "--endpoint-url", emulator)
    assert code == 1 and "pass --yes" in err
    assert plan_removal(connect(emulator), "churn") == []


def test_without_credentials_one_clear_sentence(spec, cli, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    code, _, err = cli("plan", spec)
    assert code == 1
    assert err.strip().endswith(
        "sfn-build: no AWS credentials found: run `aws configure` or pass --profile, "
        "or try it without an account with --local"
    )


FLOW = """
version: 1
name: flow
input:
  mode: {type: string, default: quick}
steps:
  pause: {type: wait, seconds: 1}
  gate:
    type: choice
    needs: [pause]
    choices: [{when: input.mode, equals: quick, next: succeed}]
    default: stop
  stop: {type: fail, error: SlowMode, cause: slow mode is not supported}
"""


def test_execute_wait_follows_the_execution_and_reports_the_failure(emulator, write_spec, cli, aws_env):
    path = write_spec(FLOW)
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    code, out, err = cli("execute", path, "--endpoint-url", emulator, "--wait")
    assert code == 0, err
    assert "pause: entered" in out and "gate: succeeded" in out
    assert out.strip().endswith("Execution SUCCEEDED")
    code, out, _ = cli("execute", path, "--endpoint-url", emulator, "--wait", "--input", '{"mode": "slow"}')
    assert code == 1
    assert "stop: entered" in out
    assert out.strip().endswith("Failed in stop: SlowMode: slow mode is not supported")
    code, out, _ = cli("status", path, "--endpoint-url", emulator)
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.endswith(": live routes to version 1")
    assert [line.split()[2] for line in rows] == ["FAILED", "SUCCEEDED"]
    assert all("version 1, definition" in line for line in rows)  # started through the alias


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("{not json", "--input is not JSON"),
        ("[1, 2]", "--input must be a JSON object"),
        ("@/no/such.json", "cannot read"),
    ],
)
def test_a_bad_execution_input_is_a_usage_error(write_spec, cli, argument, message):
    code, _, err = cli("execute", write_spec(FLOW), "--input", argument)
    assert code == 2 and message in err


def test_detailed_alerts_deploy_the_formatter_and_logging_makes_a_log_group(emulator, write_spec):
    text = SPEC.replace("on_jobs: [Failed, Stopped]", "on_jobs: [Failed, Stopped]\n  format: detailed")
    text = text.replace("tags: {team: ml}", "tags: {team: ml}\nlogging: {level: ERROR, retention_days: 14}")
    path = write_spec(text, "detailed.yaml")
    create(emulator, path)
    aws = connect(emulator)
    function = aws.client("lambda").get_function(FunctionName="churn-alert-formatter")
    assert function["Configuration"]["Handler"] == "alert_formatter.handler"
    assert function["Configuration"]["Environment"]["Variables"] == {
        "TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:churn-alerts",
        "WORKFLOW": "churn",
    }
    policy = json.loads(aws.client("lambda").get_policy(FunctionName="churn-alert-formatter")["Policy"])
    assert {s["Condition"]["ArnLike"]["AWS:SourceArn"].rsplit("/", 1)[1] for s in policy["Statement"]} == {
        "churn-execution-alerts",
        "churn-sagemaker-processing-job-alerts",
        "churn-sagemaker-processing-job-stopped-alerts",
        "churn-sagemaker-training-job-alerts",
        "churn-sagemaker-training-job-stopped-alerts",
        "churn-batch-job-alerts",
    }
    (target,) = aws.client("events").list_targets_by_rule(Rule="churn-execution-alerts")["Targets"]
    assert target["Arn"].endswith(":function:churn-alert-formatter") and "InputTransformer" not in target
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/states/churn")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [("/aws/vendedlogs/states/churn", 14)]
    logging = aws.client("stepfunctions").describe_state_machine(stateMachineArn=MACHINE)["loggingConfiguration"]
    assert logging["level"] == "ERROR"
    workflow, definition = compiled(path)
    assert prepare(workflow, definition, aws).changes == []
    changes = plan_removal(aws, "churn")
    remove(aws, "churn", changes, lambda change: None)
    assert plan_removal(aws, "churn") == []


def test_execute_before_create_says_what_to_do(emulator, spec, cli, aws_env):
    for command in ("execute", "status"):
        code, _, err = cli(command, spec, "--endpoint-url", emulator)
        assert code == 1
        assert err.strip().endswith("the state machine churn does not exist here: run `sfn-build create` first")


class LostResponses:
    """A client whose changing calls reach AWS twice: the first response was lost and the call retried,
    as botocore does; what the caller sees is the answer to the retry."""

    CHANGING = ("create_", "delete_", "put_", "add_", "remove_", "subscribe", "tag_", "untag_", "update_")

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        # moto answers a repeated DeleteScheduleGroup with a 500, where AWS says ResourceNotFoundException
        if not name.startswith(self.CHANGING) or name == "delete_schedule_group":
            return real

        def retried(**kwargs: Any) -> Any:
            with contextlib.suppress(botocore.exceptions.ClientError):
                real(**kwargs)  # carried out; its response never arrives
            return real(**kwargs)

        return retried


def test_create_and_delete_finish_in_one_run_when_responses_are_lost(emulator, write_spec, monkeypatch):
    text = SPEC.replace("on_jobs: [Failed, Stopped]", "on_jobs: [Failed, Stopped]\n  format: detailed")
    path = write_spec(text.replace("tags: {team: ml}", "tags: {team: ml}\nlogging: {level: ERROR}"))
    faulty = connect(emulator)
    original = Aws.client
    monkeypatch.setattr(Aws, "client", lambda self, service: LostResponses(original(self, service)))
    publication = create(emulator, path, faulty)
    assert {c.kind for c in publication.changes} >= {"iam-role", "lambda-function", "log-group", "schedule"}
    monkeypatch.setattr(Aws, "client", original)
    workflow, definition = compiled(path)
    changes = prepare(workflow, definition, connect(emulator)).changes
    assert [(c.kind, c.details()) for c in changes] == []  # nothing half made, nothing twice
    monkeypatch.setattr(Aws, "client", lambda self, service: LostResponses(original(self, service)))
    remove(faulty, "churn", plan_removal(faulty, "churn"), lambda change: None)
    monkeypatch.setattr(Aws, "client", original)
    assert plan_removal(connect(emulator), "churn") == []


FANOUT = """
version: 1
name: fan
input:
  shards: {type: array, default: ["a", "b", "c", "d", "e", "f"]}
steps:
  each:
    type: lambda
    function: work
    for_each: {items: "${input.shards}"}
    payload: {shard: "${item}"}
"""


def test_execute_wait_shows_a_maps_items_as_the_first_and_how_many_more(emulator, write_spec, cli, aws_env):
    path = write_spec(FANOUT)
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    code, out, err = cli("execute", path, "--endpoint-url", emulator, "--wait")
    assert code == 0, err
    lines = out.splitlines()
    assert lines.count("each.each: succeeded") == 1 and "each.each: succeeded 5 more times" in lines
    assert lines.index("each.each: succeeded 5 more times") < lines.index("each: succeeded")
