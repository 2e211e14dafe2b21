"""A batch step's `secrets:`: a copy of its job definition that holds them, registered by `create`."""

from __future__ import annotations

import json

import pytest
from conftest import compile_text, refused_at_its_line
from test_publish import connect

from sfn_builder.deploy.iam import execution_policy
from sfn_builder.steps.base import Arns

SPEC = """
version: 1
name: secret-export
steps:
  export:
    type: batch
    job_queue: ml-cpu
    job_definition: export-def
    env: {LOG_LEVEL: info}
    secrets:
      DB_PASSWORD: arn:aws:secretsmanager:us-east-1:123456789012:secret:churn-db-AbCdEf
      API_TOKEN: /ml/api-token
"""
COPY = "secret-export-export"
CONTAINER = {
    "image": "busybox",
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
    "executionRoleArn": "arn:aws:iam::123456789012:role/export-execution",
    "secrets": [{"name": "API_TOKEN", "valueFrom": "/old/token"}],
}


def batch(emulator: str):
    return connect(emulator).client("batch")


def active(emulator: str, name: str) -> list[dict]:
    found = batch(emulator).describe_job_definitions(jobDefinitionName=name, status="ACTIVE")["jobDefinitions"]
    return sorted(found, key=lambda definition: definition["revision"])


def test_the_step_submits_the_copy_and_its_request_holds_no_secret(write_spec):
    compilation = compile_text(write_spec, SPEC)
    assert compilation.ok, [p.render() for p in compilation.problems]
    request = compilation.definition["States"]["export"]["Parameters"]
    assert request["JobDefinition"] == COPY
    assert request["ContainerOverrides"]["Environment"] == [{"Name": "LOG_LEVEL", "Value": "info"}]
    assert "churn-db" not in json.dumps(compilation.definition) and "api-token" not in json.dumps(
        compilation.definition
    )
    policy = execution_policy(compilation.analysis.workflow, Arns("aws", "us-east-1", "123456789012"), None)
    (submit,) = [s for s in policy["Statement"] if s["Action"] == ["batch:SubmitJob"]]
    copy = f"arn:aws:batch:us-east-1:123456789012:job-definition/{COPY}"
    assert {copy, f"{copy}:*"} <= set(submit["Resource"])
    assert not any("export-def" in resource for resource in submit["Resource"])


def test_create_registers_the_copy_once_follows_its_source_and_delete_removes_it(emulator, write_spec, cli, aws_env):
    batch(emulator).register_job_definition(
        jobDefinitionName="export-def", type="container", containerProperties=CONTAINER, retryStrategy={"attempts": 2}
    )
    path = write_spec(SPEC)
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and f"+ Batch job definition {COPY}" in out
    assert "a copy of export-def with the secrets API_TOKEN, DB_PASSWORD" in out
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    (copy,) = active(emulator, COPY)
    container = copy["containerProperties"]
    assert container["image"] == "busybox" and container["executionRoleArn"] == CONTAINER["executionRoleArn"]
    assert sorted(container["secrets"], key=lambda s: s["name"]) == [
        {"name": "API_TOKEN", "valueFrom": "/ml/api-token"},  # the spec's wins over the source's
        {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:churn-db-AbCdEf"},
    ]
    assert copy["retryStrategy"] == {"attempts": 2} and copy["tags"]["sfn-build:workflow"] == "secret-export"
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and "no changes" in out.lower()

    batch(emulator).register_job_definition(
        jobDefinitionName="export-def", type="container", containerProperties={**CONTAINER, "image": "busybox:2"}
    )
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert f"~ Batch job definition {COPY}" in out and "export-def:1, which is now" in out
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    (copy,) = active(emulator, COPY)  # the older revision deregistered
    assert copy["revision"] == 2 and copy["containerProperties"]["image"] == "busybox:2"

    assert cli("delete", path, "--endpoint-url", emulator, "--yes")[0] == 0
    assert active(emulator, COPY) == []
    assert len(active(emulator, "export-def")) == 2  # the team's own is never touched


def test_a_missing_source_is_named_with_what_to_do(emulator, write_spec, cli, aws_env):
    code, _, err = cli("create", write_spec(SPEC), "--endpoint-url", emulator, "--yes")
    assert code == 1 and "export-def" in err and "has no ACTIVE revision" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("written", "instead", "message"),
    [
        ("API_TOKEN: /ml/api-token", "API_TOKEN: 'not a secret!'", "is not a Secrets Manager secret's ARN"),
        ("API_TOKEN: /ml/api-token", 'API_TOKEN: "/ml/${input.x}"', "named in the spec, not by a template"),
        ("API_TOKEN: /ml/api-token", "LOG_LEVEL: /ml/level", "LOG_LEVEL is set both in env and in secrets"),
        ("API_TOKEN: /ml/api-token", "AWS_BATCH_X: /ml/x", "is a name AWS Batch reserves"),
        ("API_TOKEN: /ml/api-token", "API-TOKEN: /ml/x", "API-TOKEN"),
        ("job_definition: export-def", 'job_definition: "${input.x}"', "named in the spec, not by a template"),
    ],
)
def test_secret_mistakes_are_reported_at_their_line(cli, write_spec, written, instead, message):
    assert written in SPEC
    text = SPEC.replace(written, instead, 1).replace("version: 1\n", "version: 1\ninput: {x: {type: string}}\n")
    refused_at_its_line(cli, write_spec, text, message)
