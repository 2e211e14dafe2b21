"""Safe rollout: versions, the alias the schedules start, rollback, gradual deployment (on the emulator)."""

from __future__ import annotations

import json

import pytest
from test_publish import ACCOUNT, REGION, compiled, connect

from sfn_builder.deploy.changes import ADD, CHANGE
from sfn_builder.deploy.publish import prepare
from sfn_builder.deploy.rollout import prune

MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:nightly"
LIVE = f"{MACHINE}:live"
SPEC = """
version: 1
name: nightly
schedule:
  - {expression: "rate(1 day)"}
  - {expression: "cron(0 3 * * ? *)", timezone: Europe/Amsterdam}
steps:
  first: {type: wait, seconds: 5}
  done: {type: succeed, needs: [first]}
"""


def sfn(emulator: str):
    return connect(emulator).client("stepfunctions")


def routing(emulator: str, alias: str = LIVE) -> dict[int, int]:
    found = sfn(emulator).describe_state_machine_alias(stateMachineAliasArn=alias)["routingConfiguration"]
    return {int(r["stateMachineVersionArn"].rsplit(":", 1)[1]): r["weight"] for r in found}


def versions(emulator: str) -> list[int]:
    listed = sfn(emulator).list_state_machine_versions(stateMachineArn=MACHINE)["stateMachineVersions"]
    return sorted(int(v["stateMachineVersionArn"].rsplit(":", 1)[1]) for v in listed)


def seconds_run_by(emulator: str, execution_arn: str) -> int:
    definition = sfn(emulator).describe_state_machine_for_execution(executionArn=execution_arn)["definition"]
    return json.loads(definition)["States"]["first"]["Seconds"]


@pytest.fixture
def publish(emulator, write_spec, cli, aws_env):
    """`sfn-build create` of SPEC with `first` waiting `seconds` (and more spec text), on the emulator."""

    def run(seconds: int, extra: str = "") -> tuple[int, str, str]:
        path = write_spec(SPEC.replace("seconds: 5", f"seconds: {seconds}") + extra, "nightly.yaml")
        return cli("create", path, "--endpoint-url", emulator, "--yes")

    return run


def test_rollback_moves_the_alias_the_schedules_start_and_status_says_so(emulator, publish, cli, write_spec):
    assert publish(5)[0] == 0
    assert publish(7)[0] == 0
    assert versions(emulator) == [1, 2] and routing(emulator) == {2: 100}
    path = write_spec(SPEC.replace("seconds: 5", "seconds: 7"), "nightly.yaml")

    code, out, err = cli("rollback", path, "--endpoint-url", emulator, "--yes")
    assert code == 0, err
    assert "live routes to version 2; it will route to version 1" in out
    assert routing(emulator) == {1: 100}

    aws = connect(emulator)
    rule_target = aws.client("events").list_targets_by_rule(Rule="nightly-schedule-1")["Targets"][0]
    schedule = aws.client("scheduler").get_schedule(Name="nightly-schedule-2", GroupName="sfn-build-nightly")
    assert rule_target["Arn"] == schedule["Target"]["Arn"] == LIVE
    # what a schedule starts now runs version 1, as AWS would start it (the target's ARN and input)
    started = sfn(emulator).start_execution(stateMachineArn=schedule["Target"]["Arn"], input="{}", name="scheduled")
    execution = sfn(emulator).describe_execution(executionArn=started["executionArn"])
    assert execution["stateMachineVersionArn"] == f"{MACHINE}:1" and execution["stateMachineAliasArn"] == LIVE
    assert seconds_run_by(emulator, started["executionArn"]) == 5

    code, out, _ = cli("status", path, "--endpoint-url", emulator)
    assert code == 0
    header, row = out.strip().splitlines()
    assert header == "nightly: live routes to version 1; the newest version is 2"
    assert "scheduled" in row and "version 1, definition" in row

    # the spec still says version 2: plan shows the alias moving back, create moves it, nothing is republished
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert "~ state machine alias nightly:live" in out and "routes: version 1 -> version 2" in out
    assert "0 to add, 1 to change, 0 to remove." in out
    assert publish(7)[0] == 0
    assert routing(emulator) == {2: 100} and versions(emulator) == [1, 2]
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert "No changes" in out


def test_each_change_is_a_version_and_an_unchanged_spec_publishes_none(emulator, publish, write_spec):
    publish(5)
    workflow, definition = compiled(write_spec(SPEC, "nightly.yaml"))
    assert prepare(workflow, definition, connect(emulator)).changes == []
    workflow, definition = compiled(write_spec(SPEC.replace("seconds: 5", "seconds: 9"), "nightly.yaml"))
    changes = prepare(workflow, definition, connect(emulator)).changes
    alias = next(c for c in changes if c.kind == "state-machine-alias")
    assert alias.action == CHANGE and alias.details() == ["routes: version 1 -> version 2 (new)"]
    publish(9)
    assert versions(emulator) == [1, 2] and routing(emulator) == {2: 100}


def test_an_execution_started_by_execute_runs_the_alias(emulator, publish, cli, write_spec):
    publish(5)
    publish(6)
    path = write_spec(SPEC.replace("seconds: 5", "seconds: 6"), "nightly.yaml")
    cli("rollback", path, "--endpoint-url", emulator, "--yes")
    code, out, err = cli("execute", path, "--endpoint-url", emulator, "--wait")
    assert code == 0
    assert "differs from" in err  # it runs what is live (version 1), not the spec
    arn = next(line.split()[1] for line in out.splitlines() if line.startswith("Started "))
    assert sfn(emulator).describe_execution(executionArn=arn)["stateMachineVersionArn"] == f"{MACHINE}:1"


def test_versions_beyond_the_ones_kept_are_removed_but_never_a_routed_one(emulator, publish, cli, write_spec):
    keep = "rollout: {keep_versions: 2}\n"
    for seconds in (1, 2, 3):
        assert publish(seconds, keep)[0] == 0
    assert versions(emulator) == [2, 3]
    path = write_spec(SPEC.replace("seconds: 5", "seconds: 4") + keep, "nightly.yaml")
    out = cli("plan", path, "--endpoint-url", emulator)[1]
    assert "routes: version 3 -> version 4 (new)" in out and "removes versions 2 (keeps the newest 2)" in out
    assert publish(4, keep)[0] == 0
    assert versions(emulator) == [3, 4]
    # a version another alias routes to stays, however old
    sfn(emulator).create_state_machine_alias(
        name="pinned", routingConfiguration=[{"stateMachineVersionArn": f"{MACHINE}:3", "weight": 100}]
    )
    assert prune(connect(emulator), MACHINE, keep=1) == []
    assert versions(emulator) == [3, 4]


def test_rollback_says_what_cannot_be_done(emulator, publish, cli, write_spec):
    path = write_spec(SPEC, "nightly.yaml")
    code, _, err = cli("rollback", path, "--endpoint-url", emulator, "--yes")
    assert code == 1 and "the alias live of nightly does not exist here: run `sfn-build create` first" in err
    publish(5)
    code, _, err = cli("rollback", path, "--endpoint-url", emulator, "--yes")
    assert code == 1 and "routes to version 1, the oldest version kept: there is nothing to roll back to" in err
    code, _, err = cli("rollback", path, "--endpoint-url", emulator, "--yes", "--to", "7")
    assert code == 1 and "there is no version 7 of nightly to roll back to (versions kept: 1)" in err
    assert routing(emulator) == {1: 100}


def test_delete_removes_the_alias_and_the_versions(emulator, publish, cli, write_spec):
    publish(5)
    publish(6)
    code, out, _ = cli("delete", write_spec(SPEC, "nightly.yaml"), "--endpoint-url", emulator, "--yes")
    assert code == 0 and "removed state machine alias nightly:live" in out
    with pytest.raises(Exception, match=r"StateMachineDoesNotExist"):
        sfn(emulator).list_state_machine_versions(stateMachineArn=MACHINE)


def test_a_renamed_alias_replaces_the_old_one_and_the_schedules_follow(emulator, publish):
    publish(5)
    assert publish(5, "rollout: {alias: prod}\n")[0] == 0
    aliases = sfn(emulator).list_state_machine_aliases(stateMachineArn=MACHINE)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in aliases] == [f"{MACHINE}:prod"]
    assert routing(emulator, f"{MACHINE}:prod") == {1: 100}  # the same revision: no new version
    aws = connect(emulator)
    (target,) = aws.client("events").list_targets_by_rule(Rule="nightly-schedule-1")["Targets"]
    assert target["Arn"] == f"{MACHINE}:prod"
    policy = aws.client("iam").get_role_policy(RoleName="nightly-schedule", PolicyName="sfn-build")["PolicyDocument"]
    only = {"ForAnyValue:StringEquals": {"states:StateMachineQualifier": ["prod"]}}
    assert policy["Statement"][0]["Condition"] == only


def test_an_alias_left_behind_by_an_interrupted_create_is_moved_by_the_next(emulator, publish, write_spec):
    publish(5)
    # a create that updated the state machine and stopped before moving the alias
    sfn(emulator).update_state_machine(
        stateMachineArn=MACHINE, definition=json.dumps(compiled(write_spec(SPEC.replace("5", "8"), "x.yaml"))[1])
    )
    workflow, definition = compiled(write_spec(SPEC.replace("seconds: 5", "seconds: 8"), "nightly.yaml"))
    changes = prepare(workflow, definition, connect(emulator)).changes
    assert [(c.action, c.kind) for c in changes] == [(CHANGE, "state-machine-alias")]
    publish(8)
    assert routing(emulator) == {2: 100}


@pytest.fixture
def local_publish(private_cache, write_spec, cli):
    """Like `publish`, with --local: the embedded emulator, whose time is virtual (a deployment's
    intervals take none). Returns (run, the emulator's URL)."""
    from sfn_builder.deploy import local

    def run(seconds: int, extra: str = "") -> tuple[int, str, str]:
        path = write_spec(SPEC.replace("seconds: 5", f"seconds: {seconds}") + extra, "nightly.yaml")
        return cli("create", path, "--local", "--yes")

    return run, local.start().url


CANARY = """rollout:
  deployment: {type: canary, percent: 10, interval: 5m, alarms: [nightly-errors]}
"""


def alarm(emulator: str, state: str) -> None:
    cloudwatch = connect(emulator).client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="nightly-errors",
        MetricName="ExecutionsFailed",
        Namespace="AWS/States",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="nightly-errors", StateValue=state, StateReason="test")


def test_a_canary_that_sets_off_an_alarm_goes_back_and_the_next_create_tries_again(local_publish):
    publish, emulator = local_publish
    alarm(emulator, "OK")
    assert publish(5, CANARY)[0] == 0  # the first version has nothing to move from: at once
    alarm(emulator, "ALARM")
    code, _, err = publish(6, CANARY)
    assert code == 1
    assert "10% of executions to version 2, 90% to version 1" in err
    assert "the alarm nightly-errors went into ALARM while version 2 took 10% of the executions" in err
    assert routing(emulator) == {1: 100} and versions(emulator) == [1, 2]
    alarm(emulator, "OK")
    assert publish(6, CANARY)[0] == 0
    assert routing(emulator) == {2: 100} and versions(emulator) == [1, 2]


def test_a_deployment_refuses_an_alarm_that_does_not_exist(local_publish):
    publish, emulator = local_publish
    publish(5, CANARY)
    code, _, err = publish(6, CANARY)
    assert code == 1 and "the CloudWatch alarm nightly-errors does not exist in us-east-1" in err
    assert routing(emulator) == {1: 100}


def test_a_linear_deployment_moves_in_steps(local_publish):
    publish, emulator = local_publish
    publish(5, "rollout: {deployment: {type: linear, percent: 40, interval: 1m}}\n")
    code, _, err = publish(6, "rollout: {deployment: {type: linear, percent: 40, interval: 1m}}\n")
    assert code == 0
    assert "40% of executions to version 2" in err and "80% of executions to version 2" in err
    assert routing(emulator) == {2: 100}


def test_the_cloudformation_template_publishes_a_version_and_deploys_the_alias(cli, write_spec):
    path = write_spec(SPEC + CANARY, "nightly.yaml")
    code, out, _ = cli("compile", path, "--format", "cloudformation")
    assert code == 0
    resources = json.loads(out)["Resources"]
    version = resources["StateMachineNightlyVersion"]
    assert version["Type"] == "AWS::StepFunctions::StateMachineVersion"
    assert version["UpdateReplacePolicy"] == "Retain"  # the version before stays to roll back to
    alias = resources["StateMachineAliasNightlyLive"]["Properties"]
    assert alias["DeploymentPreference"] == {
        "StateMachineVersionArn": {"Ref": "StateMachineNightlyVersion"},
        "Type": "CANARY",
        "Percentage": 10,
        "Interval": 5,
        "Alarms": ["nightly-errors"],
    }
    targets = resources["EventsRuleNightlySchedule1"]["Properties"]["Targets"]
    assert targets[0]["Arn"]["Fn::Sub"].endswith(":stateMachine:nightly:live")


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ("{deployment: {type: all_at_once, percent: 10}}", "'percent' has no meaning for an all_at_once deployment"),
        ("{deployment: {type: canary, percent: 10, interval: 90s}}", "is not a whole number of minutes"),
        ("{deployment: {type: linear, interval: 5m}}", "missing required field 'percent'"),
        ("{alias: '3'}", "the string '3' is not allowed here"),
        ("{keep_versions: 0}", "0 is out of range"),
    ],
)
def test_rollout_mistakes_are_reported_at_their_line(cli, write_spec, rollout, message):
    code, _, err = cli("validate", write_spec(SPEC + f"rollout: {rollout}\n"))
    assert code == 1
    assert message in err and ":9:" in err


def test_the_plan_of_a_first_create_adds_the_alias(emulator, write_spec):
    workflow, definition = compiled(write_spec(SPEC, "nightly.yaml"))
    changes = prepare(workflow, definition, connect(emulator)).changes
    alias = next(c for c in changes if c.kind == "state-machine-alias")
    assert alias.action == ADD and alias.name == "nightly:live"
    assert alias.details() == ["routes to the version of this spec (published by create)"]
