"""Secure by default: ownership, privileges, secrets, bounded inputs, shared resources (issue #9)."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType

import pytest
from conftest import analyze_text, compile_text
from test_publish import ACCOUNT, REGION, SPEC, compiled, connect, create

from sfn_builder.deploy.publish import plan_removal, prepare, remove
from sfn_builder.deploy.resources import ROLE

# -- ownership cannot be forged ---------------------------------------------------------------


def test_a_spec_cannot_set_the_ownership_tag(write_spec, cli):
    path = write_spec(SPEC.replace("tags: {team: ml}", "tags: {team: ml, 'sfn-build:workflow': other}"))
    code, _, err = cli("validate", path)
    assert code == 1
    assert "spec.yaml:3:" in err and "the tag key 'sfn-build:workflow' is reserved" in err


def test_ownership_holds_even_for_a_model_that_skipped_validation(emulator, write_spec):
    """A caller that builds resources from a model with a forged tag still tags everything as ours:
    a second create changes nothing, deleting `other` leaves this workflow alone, deleting it removes all."""
    workflow, definition = compiled(write_spec(SPEC))
    forged = dataclasses.replace(
        workflow, tags=MappingProxyType({"team": "ml", "sfn-build:workflow": "other", "SFN-BUILD:workflow": "x"})
    )
    aws = connect(emulator)
    publication = prepare(forged, definition, aws)
    assert all(r.spec["tags"]["sfn-build:workflow"] == "churn" for r in publication.resources if "tags" in r.spec)
    assert not any("SFN-BUILD:workflow" in r.spec.get("tags", {}) for r in publication.resources)
    from sfn_builder.deploy.publish import apply

    apply(publication, lambda change: None)
    assert prepare(forged, definition, aws).changes == []
    assert plan_removal(aws, "other") == []
    remove(aws, "churn", plan_removal(aws, "churn"), lambda change: None)
    assert plan_removal(aws, "churn") == []
    tagged = aws.client("resourcegroupstaggingapi").get_resources()["ResourceTagMappingList"]
    assert tagged == []


def test_job_tags_keep_ownership_last(write_spec):
    from sfn_builder.steps.base import tag_map

    workflow = compiled(write_spec(SPEC))[0]
    forged = dataclasses.replace(workflow, tags=MappingProxyType({"sfn-build:workflow": "other", "team": "ml"}))
    assert tag_map(forged)["sfn-build:workflow"] == "churn" and tag_map(forged)["team"] == "ml"


def test_delete_leaves_a_same_named_resource_it_does_not_own(emulator, write_spec):
    create(emulator, write_spec(SPEC))
    aws = connect(emulator)
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/aws/vendedlogs/states/other", tags={"sfn-build:workflow": "someone"})
    aws.client("iam").create_role(
        RoleName="intruder", Path="/sfn-build/churn/", AssumeRolePolicyDocument="{}", Tags=[{"Key": "a", "Value": "b"}]
    )
    changes = plan_removal(aws, "churn")
    assert "intruder" not in {c.name for c in changes if c.kind == ROLE}
    remove(aws, "churn", changes, lambda change: None)
    assert aws.client("iam").get_role(RoleName="intruder")["Role"]["RoleName"] == "intruder"
    assert plan_removal(aws, "other") == []  # the foreign log group is not `other`'s
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/states/other")["logGroups"]


# -- templated resource fields never widen privileges -------------------------------------------

TEMPLATED = """
version: 1
name: churn
input:
  role:
    type: string
    enum: ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"]
    default: "arn:aws:iam::123456789012:role/a"
  env: {type: string, enum: [dev, prod], default: dev}
defaults:
  sagemaker:
    role: ${input.role}
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1
    instance_type: ml.m5.xlarge
steps:
  prep: {type: processing, entrypoint: [python3, prep.py]}
  call: {type: lambda, needs: [prep], function: "score-${input.env}"}
  nested: {type: workflow, needs: [call], state_machine: "child-${input.env}"}
  tell: {type: sns, needs: [nested], topic: "arn:aws:sns:us-east-1:123456789012:news-${input.env}", message: hi}
  shards: {type: batch, needs: [tell], job_queue: "q-${input.env}", job_definition: "d-${input.env}:3"}
"""


@pytest.mark.parametrize(
    ("field", "step"),
    [
        ("role", "  prep: {type: processing, entrypoint: [python3, prep.py], role: '${input.free}'}"),
        ("function", "  prep: {type: lambda, function: '${input.free}'}"),
        ("state_machine", "  prep: {type: workflow, state_machine: 'x-${input.free}'}"),
        ("topic", "  prep: {type: sns, topic: '${input.free}', message: hi}"),
        ("job_queue", "  prep: {type: batch, job_queue: '${input.free}', job_definition: d}"),
        ("job_definition", "  prep: {type: batch, job_queue: q, job_definition: '${execution.name}'}"),
    ],
)
def test_a_templated_resource_field_without_an_allow_list_is_an_error_at_its_line(write_spec, cli, field, step):
    text = TEMPLATED.split("steps:")[0].replace("env: {type", "free: {type: string}\n  env: {type") + "steps:\n" + step
    code, _, err = cli("validate", write_spec(text))
    assert code == 1
    line = text.lstrip("\n").splitlines().index(step) + 1
    assert f"spec.yaml:{line}:" in err
    assert f"steps.prep.{field}: {field} is templated" in err and "enum" in err


def test_templated_fields_with_enum_inputs_grant_exactly_those_values(write_spec):
    from sfn_builder.deploy.iam import execution_policy
    from sfn_builder.steps.base import Arns

    analysis = analyze_text(write_spec, TEMPLATED)
    assert analysis.ok, [p.render() for p in analysis.problems]
    document = execution_policy(analysis.workflow, Arns("aws", REGION, ACCOUNT), None)
    by_action = {action: s["Resource"] for s in document["Statement"] for action in s["Action"]}
    arn = f"{REGION}:{ACCOUNT}"
    assert by_action["iam:PassRole"] == [f"arn:aws:iam::{ACCOUNT}:role/a", f"arn:aws:iam::{ACCOUNT}:role/b"]
    assert by_action["lambda:InvokeFunction"] == [
        f"arn:aws:lambda:{arn}:function:score-{env}{suffix}" for env in ("dev", "prod") for suffix in ("", ":*")
    ]
    machines = [f"arn:aws:states:{arn}:stateMachine:child-{e}" for e in ("dev", "prod")]
    assert by_action["states:StartExecution"] == machines
    assert by_action["sns:Publish"] == [f"arn:aws:sns:{arn}:news-{e}" for e in ("dev", "prod")]
    submit = by_action["batch:SubmitJob"]
    assert {f"arn:aws:batch:{arn}:job-queue/q-{e}" for e in ("dev", "prod")} <= set(submit)
    assert {f"arn:aws:batch:{arn}:job-definition/d-{e}:3" for e in ("dev", "prod")} <= set(submit)
    wildcards = [r for s in document["Statement"] for r in s["Resource"] if r.endswith((":*", "/*", "*"))]
    assert all(not r.endswith(("role/*", "function:*", "stateMachine:*", "job-queue/*")) for r in wildcards)


def test_an_execution_with_a_value_outside_the_enum_fails_at_its_start(write_spec, cli):
    path = write_spec(TEMPLATED)
    definition = compile_text(write_spec, TEMPLATED).definition
    check = definition["States"]["input.check"]
    (role_rule,) = [c for c in check["Choices"] if c["Next"] == "input.role.not-allowed"]
    assert [r["StringEquals"] for r in role_rule["Not"]["Or"]] == [
        "arn:aws:iam::123456789012:role/a",
        "arn:aws:iam::123456789012:role/b",
    ]
    assert definition["States"]["input.role.not-allowed"]["Error"] == "InputNotAllowed"
    code, _, err = cli("simulate", path, "--input", '{"role": "arn:aws:iam::123456789012:role/admin"}')
    assert code == 2 and "'role' may only be one of" in err


def test_an_enum_default_and_values_are_checked(write_spec, cli):
    text = TEMPLATED.replace("enum: [dev, prod], default: dev", "enum: [dev, 3], default: test")
    code, _, err = cli("validate", write_spec(text))
    assert code == 1
    assert "the allowed value 3 is not of the input's type (string)" in err
    assert "the default 'test' is not one of the allowed values" in err


def test_every_value_a_template_can_take_gets_the_literal_check(write_spec, cli):
    text = TEMPLATED.replace("arn:aws:sns:us-east-1:123456789012:news-${input.env}", "news-${input.env}")
    code, _, err = cli("validate", write_spec(text))
    assert code == 1 and "'news-${input.env}' can be 'news-dev': 'news-dev' is not an SNS topic ARN" in err


# -- trust and topic policies --------------------------------------------------------------------


def test_every_role_trusts_its_service_for_this_account_and_source_only(emulator, write_spec):
    text = SPEC.replace("on_jobs: [Failed, Stopped]", "on_jobs: [Failed, Stopped]\n  format: detailed")
    text = text.split("schedule:")[0] + (
        "schedule:\n"
        "  - {expression: rate(1 day)}\n"
        "  - {expression: cron(0 3 * * ? *), timezone: Europe/Amsterdam}\n"
    )
    path = write_spec(text)
    workflow, definition = compiled(path)
    publication = prepare(workflow, definition, connect(emulator))
    roles = {r.name: r.spec["trust"]["Statement"][0] for r in publication.resources if r.kind == ROLE}
    assert set(roles) == {"churn-sfn", "churn-schedule", "churn-alert-formatter"}
    for name, trust in roles.items():
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}, name
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"], name
    assert roles["churn-alert-formatter"]["Condition"]["ArnLike"]["aws:SourceArn"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:churn-alert-formatter"
    )
    schedule = roles["churn-schedule"]
    assert schedule["Principal"]["Service"] == ["events.amazonaws.com", "scheduler.amazonaws.com"]
    assert schedule["Condition"]["ArnLike"]["aws:SourceArn"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/churn-schedule-1",
        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/sfn-build-churn",
    ]
    (topic,) = [r for r in publication.resources if r.kind == "sns-topic"]
    assert topic.spec["policy"]["Statement"] == [
        {
            "Sid": "sfnbuildformatter",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/sfn-build/churn/churn-alert-formatter"},
            "Action": "sns:Publish",
            "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:churn-alerts",
        }
    ]
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:churn"
    assert roles["churn-sfn"]["Condition"]["ArnLike"]["aws:SourceArn"] == [machine, f"{machine}:*"]
    (schedule_role,) = [r for r in publication.resources if r.kind == ROLE and r.name == "churn-schedule"]
    assert schedule_role.spec["policies"]["sfn-build"]["Statement"] == [
        {  # the alias only: not the unpublished latest revision, not an old version
            "Effect": "Allow",
            "Action": ["states:StartExecution"],
            "Resource": [machine],
            "Condition": {"ForAnyValue:StringEquals": {"states:StateMachineQualifier": ["live"]}},
        }
    ]
    create(emulator, path)
    iam = connect(emulator).client("iam")
    stored = iam.get_role(RoleName="churn-schedule")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert stored["Condition"] == schedule["Condition"]


# -- secrets stay out of output ------------------------------------------------------------------

SECRETS = """
version: 1
name: churn
input:
  db_password: {type: string, default: in-the-defaults-OLD}
steps:
  shards:
    type: batch
    job_queue: q
    job_definition: d:1
    command: [python, run.py, --token, tok-OLD, --api-key=key-OLD, --epochs, "3"]
    env: {DB_HOST: db.example.com, DB_PASSWORD: pw-OLD}
    parameters: {secretish: param-OLD}
  fit:
    type: training
    role: arn:aws:iam::123456789012:role/r
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1
    instance_type: ml.m5.xlarge
    output: s3://b-1/m/
    hyperparameters: {epochs: "3", hf_token: hf-OLD, max_tokens: "512"}
    env: {KEY: AKIAABCDEFGHIJKLMOLD}
"""


def test_plan_and_create_mask_secrets_but_say_they_changed(emulator, write_spec, cli, aws_env):
    path = write_spec(SECRETS)
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    write_spec(SECRETS.replace("OLD", "NEW"))
    for command in (("plan", path, "--endpoint-url", emulator), ("create", path, "--endpoint-url", emulator, "--yes")):
        code, out, err = cli(*command)
        assert code == 0, err
        assert "~ state machine churn" in out
        assert "OLD" not in out + err and "NEW" not in out + err
        changed = [line.strip() for line in out.splitlines() if line.strip().startswith(("-", "+"))]
        masked = [line for line in changed if "***" in line]
        assert len(masked) == 2 * 7, out  # each of the seven secrets: an old and a new line
        assert all(line.count("***") >= 1 for line in masked)
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and "No changes" in out


def test_an_unchanged_secret_prints_the_same_mask_and_a_changed_one_a_different_mask():
    from sfn_builder.masking import masked

    old = {"Environment": {"A": "same", "B": "old"}}
    new = {"Environment": {"A": "same", "B": "new"}}
    assert masked(old)["Environment"]["A"] == masked(new)["Environment"]["A"]
    assert masked(old)["Environment"]["B"] != masked(new)["Environment"]["B"]
    assert "old" not in str(masked(old)) and "same" not in str(masked(new))


def test_validate_warns_about_secrets_written_in_the_spec(write_spec, cli):
    code, _, err = cli("validate", write_spec(SECRETS))
    assert code == 0
    lines = SECRETS.lstrip("\n").splitlines()
    warned = {int(line.split(":")[1]) for line in err.splitlines() if "looks like a secret" in line}
    expected = {n for n, text in enumerate(lines, 1) if any(k in text for k in ("tok-", "pw-", "hf-", "AKIA"))}
    assert warned == expected
    assert "Secrets Manager" in err
    quiet = SECRETS.replace("DB_PASSWORD: pw-OLD", "DB_PASSWORD_SECRET: churn/db")
    assert "steps.shards.env.DB_PASSWORD" not in cli("validate", write_spec(quiet, "quiet.yaml"))[2]


# -- inputs cannot exhaust the machine ---------------------------------------------------------


def test_one_long_string_aliased_thousands_of_times_is_refused_at_the_alias(tmp_path):
    from sfn_builder.loader import load_file
    from sfn_builder.problems import SpecError

    lines = ["version: 1", "name: bomb", f"description: &long {'x' * 300_000}", "steps:"]
    lines += [f"  s{i}: {{type: fail, error: E, cause: *long}}" for i in range(3000)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    with pytest.raises(SpecError) as raised:
        load_file(str(path))
    message = raised.value.problems[0].render()
    assert "bomb.yaml:18:" in message and "aliases expand to more than" in message


def test_a_plain_twelve_thousand_step_spec_is_not_mistaken_for_an_alias_bomb(tmp_path):
    from sfn_builder.loader import load_file

    lines = ["version: 1", "name: big", "steps:"]
    for i in range(12_000):
        lines += [
            f"  s{i}:",
            "    type: processing",
            "    entrypoint: [python, a.py, --n, '1', --m, '2']",
            "    arguments: {a: '1', b: '2', c: '3', d: '4'}",
            f"    outputs: [{{source: /opt/ml/processing/o, destination: 's3://b-1/o/{i}/'}}]",
        ]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines))
    assert len(load_file(str(path)).data["steps"]) == 12_000


@pytest.mark.parametrize("kind", ["fifo", "device", "link-to-device"])
def test_only_regular_files_are_read(tmp_path, cli, kind):
    import os
    import threading

    path = tmp_path / "spec.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = "/dev/zero"
    else:
        path.symlink_to("/dev/zero")
    outcome: list[tuple[int, str, str]] = []
    reader = threading.Thread(target=lambda: outcome.append(cli("validate", str(path))), daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert outcome, "validate did not return"
    code, _, err = outcome[0]
    assert code == 1 and "not a regular file" in err


# -- no user string becomes a path; temporary files are safe -------------------------------------


def test_an_execution_name_with_path_separators_never_reaches_outside_the_cases_folder(tmp_path):
    from types import SimpleNamespace

    from sfn_builder.deploy.emulator import _mocked_case, case_file, leave_case

    cases = tmp_path / "cases"
    cases.mkdir()
    victim = tmp_path / "victim.json"
    victim.write_text('{"precious": true}')
    definition = {"StartAt": "done", "States": {"done": {"Type": "Succeed"}}}
    machine = SimpleNamespace(name="churn", definition=json.dumps(definition))
    arn = "arn:aws:states:us-east-1:123456789012:execution:churn:x"
    execution = SimpleNamespace(name="../victim", execution_arn=arn, state_machine=machine, input_data={})
    _mocked_case(execution, cases)
    assert victim.read_text() == '{"precious": true}'
    leave_case(cases, "churn", "../../elsewhere/x", {})
    assert [p.parent for p in cases.iterdir()] == [cases]
    assert case_file(cases, "churn", "../../elsewhere/x").parent == cases
    assert not (tmp_path / "elsewhere").exists()


def test_the_model_cache_never_follows_a_link_planted_where_its_temporary_file_goes(tmp_path, monkeypatch):
    import os

    from sfn_builder import service_models

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "sfn-build"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    cache_file = folder / f"models-botocore-{service_models._botocore_version()}.json"
    for name in (cache_file.with_suffix(f".{os.getpid()}.tmp").name, cache_file.name + ".tmp"):
        (folder / name).symlink_to(victim)
    service_models._cached.cache_clear()
    try:
        data = service_models._cached()
    finally:
        service_models._cached.cache_clear()
    assert victim.read_text() == "precious"
    assert json.loads(cache_file.read_text()) == data and not cache_file.is_symlink()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]


def test_an_output_file_is_whole_or_untouched(tmp_path, write_spec, cli, monkeypatch):
    from sfn_builder import files

    target = tmp_path / "out.json"
    target.write_text("previous")

    def failing_replace(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    code, _, err = cli("compile", write_spec(SPEC), "-o", str(target))
    assert code == 1 and "cannot write" in err
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")] == []


# -- names end where they end ------------------------------------------------------------------

NEWLINE_BASE = """
version: 1
name: churn
input:
  run_date: {type: string, default: latest}
defaults:
  sagemaker:
    role: arn:aws:iam::123456789012:role/r
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/i:1
    instance_type: ml.m5.xlarge
steps:
  prep: {type: processing, entrypoint: [python3, prep.py], timeout: 1h}
  call: {type: lambda, needs: [prep], function: score}
  nested: {type: workflow, needs: [call], state_machine: child}
  wait: {type: wait, needs: [nested], seconds: 10}
notifications:
  topic: {name: churn-alerts}
  on_execution: [FAILED]
schedule: {expression: rate(1 day)}
"""


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("\nname: churn\n", '\nname: "churn\\n"\n', "name"),
        ("  prep: {type", '  "prep\\n": {type', "steps.prep"),
        ("  run_date: {type", '  "run_date\\n": {type', "input.run_date"),
        ("timeout: 1h}", 'timeout: "1h\\n"}', "steps.prep.timeout"),
        ("function: score}", 'function: "score\\n"}', "steps.call.function"),
        ("state_machine: child}", 'state_machine: "child\\n"}', "steps.nested.state_machine"),
        ("role: arn:aws:iam::123456789012:role/r", 'role: "arn:aws:iam::123456789012:role/r\\n"', "role"),
        ("topic: {name: churn-alerts}", 'topic: {name: "churn-alerts\\n"}', "notifications.topic.name"),
        ("expression: rate(1 day)}", 'expression: "rate(1 day)\\n"}', "schedule.expression"),
        ("instance_type: ml.m5.xlarge", 'instance_type: "ml.m5.xlarge\\n"', "instance_type"),
    ],
)
def test_a_trailing_newline_never_passes_a_name_check(write_spec, cli, old, new, where):
    assert old in NEWLINE_BASE
    assert cli("validate", write_spec(NEWLINE_BASE, "clean.yaml"))[0] == 0
    code, _, err = cli("validate", write_spec(NEWLINE_BASE.replace(old, new)))
    assert code == 1, err
    assert where in err and "error" in err


# -- shared resources under concurrency ---------------------------------------------------------

SHARED_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"
SHARING = """
version: 1
name: NAME
steps:
  prep: {type: lambda, function: f}
notifications:
  topic: TOPIC
  on_execution: [FAILED]
"""


def _run_together(*calls):
    import threading

    outcomes: dict[int, object] = {}

    def run(index, call):
        try:
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [outcomes.get(i) for i in range(len(calls))]


def _slow_policy_reads(monkeypatch):
    """Widen the read-modify-write window, as a slow network would."""
    import time

    from sfn_builder.deploy.drivers import topics

    original = topics._policy

    def slow(aws, topic):
        policy = original(aws, topic)
        time.sleep(0.3)
        return policy

    monkeypatch.setattr(topics, "_policy", slow)


def test_concurrent_creates_sharing_a_topic_keep_both_statements(emulator, write_spec, aws_env, monkeypatch):
    from sfn_builder.cli import main

    aws = connect(emulator)
    aws.client("sns").create_topic(Name="team-alerts")
    specs = [write_spec(SHARING.replace("NAME", n).replace("TOPIC", SHARED_TOPIC), f"{n}.yaml") for n in ("a", "b")]
    _slow_policy_reads(monkeypatch)
    codes = _run_together(*[lambda s=s: main(["create", s, "--endpoint-url", emulator, "--yes"]) for s in specs])
    assert codes == [0, 0]
    policy = json.loads(aws.client("sns").get_topic_attributes(TopicArn=SHARED_TOPIC)["Attributes"]["Policy"])
    assert len([s for s in policy["Statement"] if s["Sid"].startswith("sfnbuild")]) == 2
    assert aws.client("ssm").describe_parameters()["Parameters"] == []  # every lock released


def test_an_alert_topic_in_another_region_is_refused_before_any_change(emulator, write_spec, cli, aws_env):
    """EventBridge rules deliver to other regions' event buses only: alerts to that topic would never
    arrive. `plan` and `create` say so, and change nothing."""
    other = SHARED_TOPIC.replace(f":{REGION}:", ":eu-west-1:")
    assert REGION != "eu-west-1"
    spec = write_spec(SHARING.replace("NAME", "far").replace("TOPIC", other))
    for command in (("plan",), ("create", "--yes")):
        code, out, err = cli(*command, spec, "--endpoint-url", emulator)
        assert code == 1
        assert f"the notification topic {other} is in eu-west-1, but this workflow is published to {REGION}" in err
        assert "--region eu-west-1" in err and "Traceback" not in err and "Published" not in out
    assert connect(emulator).client("stepfunctions").list_state_machines()["stateMachines"] == []


def test_two_creates_of_one_workflow_at_once_both_succeed_in_turn(emulator, write_spec, aws_env, monkeypatch):
    import time

    from sfn_builder.cli import main
    from sfn_builder.deploy import changes

    path = write_spec(SPEC)
    original = changes.plan_changes

    def slow_plan(*args, **kwargs):
        found = original(*args, **kwargs)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(changes, "plan_changes", slow_plan)
    from sfn_builder.deploy import publish

    monkeypatch.setattr(publish, "plan_changes", slow_plan)
    run = lambda: main(["create", path, "--endpoint-url", emulator, "--yes"])  # noqa: E731
    assert _run_together(run, run) == [0, 0]
    workflow, definition = compiled(path)
    assert prepare(workflow, definition, connect(emulator)).changes == []


def test_a_create_that_waits_too_long_says_who_holds_the_lock(emulator, write_spec, cli, aws_env, monkeypatch):
    from sfn_builder.deploy import locks

    monkeypatch.setattr(locks, "WAIT_SECONDS", 0.5)
    aws = connect(emulator)
    aws.client("ssm").put_parameter(
        Name="/sfn-build/locks/workflow-churn",
        Type="String",
        Value=json.dumps({"owner": "build-host pid 42", "since": __import__("time").time(), "token": "t"}),
    )
    code, out, err = cli("create", write_spec(SPEC), "--endpoint-url", emulator, "--yes")
    assert code == 1
    assert "another sfn-build is changing the workflow churn (build-host pid 42, since" in err
    assert "aws ssm delete-parameter --name /sfn-build/locks/workflow-churn" in err
    assert "Published" not in out


def test_policies_with_allow_lists_and_every_trust_policy_pass_parliament(emulator, write_spec):
    from parliament import analyze_policy_string

    text = TEMPLATED + (
        "notifications:\n  topic: {name: churn-alerts}\n  on_execution: [FAILED]\n  on_jobs: [Failed]\n"
        "  format: detailed\n"
        "schedule:\n  - {expression: rate(1 day)}\n  - {expression: cron(0 3 * * ? *), timezone: Europe/Amsterdam}\n"
    )
    workflow, definition = compiled(write_spec(text))
    checked = 0
    for resource in prepare(workflow, definition, connect(emulator)).resources:
        documents = [*resource.spec.get("policies", {}).values(), resource.spec.get("policy")]
        for document in filter(None, documents):
            findings = analyze_policy_string(json.dumps(document)).findings
            assert findings == [], (resource.label, [(f.issue, f.detail) for f in findings])
            checked += 1
    assert checked >= 4  # the state machine's, schedule's and formatter's roles, the topic
