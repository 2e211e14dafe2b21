"""One CloudFormation template with everything `create` makes, for teams that deploy that way.

It is built from the same desired resources as `create`, with the account,
region and partition as `${AWS::...}` pseudo parameters (strings that hold them
become `Fn::Sub`), and `DependsOn` in the order `create` follows. A statement
in the policy of an existing topic cannot be added by CloudFormation without
replacing that policy, so it is given as an output for the topic's owner; nor
can CloudFormation upload a file, so each `code:` archive is an output too: where
it must be before the stack runs a job (`sfn-build create` uploads it); nor copy a
job definition it does not hold, so a batch step's `secrets:` copy is an output.
"""

from __future__ import annotations

import json
import re
from importlib import resources as package_files
from typing import Any

from ..model import Workflow
from ..steps.base import Arns
from .drivers.schedules import schedule_arguments
from .resources import (
    ALIAS,
    CODE,
    FUNCTION,
    JOB_DEFINITION,
    LOG_GROUP,
    ORDER,
    ROLE,
    RULE,
    SCHEDULE,
    SCHEDULE_GROUP,
    STATE_MACHINE,
    TABLE,
    TOPIC,
    TOPIC_STATEMENT,
    Resource,
    desired_resources,
    function_module,
)

# The pseudo parameters as marks no spec text holds, so that user text never becomes a substitution.
_MARKS = {f"\ue000{name}\ue001": f"${{AWS::{name}}}" for name in ("Partition", "Region", "AccountId")}
PSEUDO = Arns(*_MARKS)
DESCRIPTION_BYTES = 1024  # CloudFormation's limit on a template's Description


def template(
    workflow: Workflow, definition: dict[str, Any], parts: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    resources = desired_resources(workflow, definition, PSEUDO, parts)
    body: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    earlier: list[str] = []
    for kind in ORDER:
        ids_of_kind = []
        for resource in (r for r in resources if r.kind == kind):
            if kind == JOB_DEFINITION:
                outputs[f"SecretsJobDefinition{len([o for o in outputs if o.startswith('SecretsJob')]) + 1}"] = {
                    "Description": f"Register this Batch job definition before an execution runs: a copy of "
                    f"{resource.spec['base']} with the secrets "
                    f"{', '.join(s['name'] + '=' + s['valueFrom'] for s in resource.spec['secrets'])} "
                    "(sfn-build create registers it)",
                    "Value": _subs(resource.name),
                }
                continue
            if kind == CODE:
                outputs[f"CodeArchive{len([o for o in outputs if o.startswith('CodeArchive')]) + 1}"] = {
                    "Description": f"Upload {resource.spec['directory']} here (as sfn-build create does: "
                    "a reproducible tar.gz; its key holds the digest) before an execution runs",
                    "Value": _subs(resource.name),
                }
                continue
            if kind == TOPIC_STATEMENT:
                outputs["AlertTopicPolicyStatement"] = {
                    "Description": f"Add this statement to the policy of {resource.name} so that the alert rules "
                    "may publish to it",
                    "Value": _subs(json.dumps(resource.spec["statement"], sort_keys=True, ensure_ascii=False)),
                }
                continue
            for logical_id, entry in _translate(resource):
                waits_for = sorted(set(earlier) - _referenced(entry))  # a Ref or GetAtt orders it already
                if waits_for:
                    entry["DependsOn"] = waits_for
                body[logical_id] = _subs(entry)
                ids_of_kind.append(logical_id)
        earlier += ids_of_kind
    machine = _logical_id(STATE_MACHINE, workflow.name)
    outputs["StateMachineArn"] = {"Description": "The state machine", "Value": {"Ref": machine}}
    outputs["AliasArn"] = {
        "Description": "The alias the schedules start (the version rolled out)",
        "Value": {"Ref": _logical_id(ALIAS, f"{workflow.name}:{workflow.rollout.alias}")},
    }
    description = f"sfn-build workflow {workflow.name}" + (f": {workflow.description}" if workflow.description else "")
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        # a template's Description takes no functions: `${` is broken up so that it reads as text
        "Description": _within_bytes(description.replace("${", "$ {"), DESCRIPTION_BYTES),
        "Resources": body,
        "Outputs": outputs,
    }
    return document


def _translate(resource: Resource) -> list[tuple[str, dict[str, Any]]]:
    spec, name, logical_id = resource.spec, resource.name, _logical_id(resource.kind, resource.name)
    tags = [{"Key": k, "Value": v} for k, v in sorted(spec.get("tags", {}).items())]
    if resource.kind == ROLE:
        properties = {
            "RoleName": name,
            "Path": spec["path"],
            "Description": spec["description"],
            "AssumeRolePolicyDocument": spec["trust"],
            "Tags": tags,
        }
        if spec["policies"]:
            properties["Policies"] = [{"PolicyName": k, "PolicyDocument": v} for k, v in spec["policies"].items()]
        return [(logical_id, {"Type": "AWS::IAM::Role", "Properties": properties})]
    if resource.kind == TABLE:
        properties = {
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": spec["key"], "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": spec["key"], "KeyType": "HASH"}],
            "BillingMode": spec["billing"],
            "Tags": tags,
        }
        return [(logical_id, {"Type": "AWS::DynamoDB::Table", "Properties": properties})]
    if resource.kind == LOG_GROUP:
        return [
            (
                logical_id,
                {
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {"LogGroupName": name, "RetentionInDays": spec["retention_days"], "Tags": tags},
                },
            )
        ]
    if resource.kind == TOPIC:
        topic = {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": name,
                "Subscription": [{"Protocol": p, "Endpoint": e} for p, e in spec["subscriptions"]],
                "Tags": tags,
            },
        }
        policy = {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {"Topics": [{"Ref": logical_id}], "PolicyDocument": spec["policy"]},
        }
        return [(logical_id, topic), (logical_id + "Policy", policy)]
    if resource.kind == FUNCTION:
        module = function_module(spec["handler"])
        source = package_files.files("sfn_builder.deploy").joinpath(f"{module}.py").read_text()
        function = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": name,
                "Runtime": spec["runtime"],
                "Handler": "index.handler",  # inline code is saved as index.py
                "Role": spec["role"],
                "Timeout": spec["timeout"],
                "Environment": {"Variables": spec["environment"]},
                "Code": {"ZipFile": source},
                "Tags": tags,
            },
        }
        permissions = [
            (
                f"{logical_id}Invoke{index}",
                {
                    "Type": "AWS::Lambda::Permission",
                    "Properties": {
                        "FunctionName": {"Ref": logical_id},
                        "Action": "lambda:InvokeFunction",
                        "Principal": "events.amazonaws.com",
                        "SourceArn": rule,
                    },
                },
            )
            for index, rule in enumerate(spec["invokers"], start=1)
        ]
        return [(logical_id, function), *permissions]
    if resource.kind == STATE_MACHINE:
        properties = {
            "StateMachineName": name,
            "StateMachineType": spec["type"],
            "Definition": spec["definition"],
            "RoleArn": spec["role"],
            "Tags": tags,
        }
        if spec["logging"]["level"] != "OFF":
            properties["LoggingConfiguration"] = {
                "Level": spec["logging"]["level"],
                "IncludeExecutionData": spec["logging"]["includeExecutionData"],
                "Destinations": [
                    {"CloudWatchLogsLogGroup": {"LogGroupArn": d["cloudWatchLogsLogGroup"]["logGroupArn"]}}
                    for d in spec["logging"]["destinations"]
                ],
            }
        return [(logical_id, {"Type": "AWS::StepFunctions::StateMachine", "Properties": properties})]
    if resource.kind == ALIAS:
        return _alias(resource)
    if resource.kind == RULE:
        properties = {
            "Name": name,
            "Description": spec["description"],
            "State": spec["state"],
            "Targets": spec["targets"],
            "Tags": tags,
        }
        if spec["pattern"] is not None:
            properties["EventPattern"] = spec["pattern"]
        if spec["schedule"] is not None:
            properties["ScheduleExpression"] = spec["schedule"]
        return [(logical_id, {"Type": "AWS::Events::Rule", "Properties": properties})]
    if resource.kind == SCHEDULE_GROUP:
        return [(logical_id, {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {"Name": name, "Tags": tags}})]
    if resource.kind == SCHEDULE:
        return [(logical_id, {"Type": "AWS::Scheduler::Schedule", "Properties": schedule_arguments(resource)})]
    raise ValueError(f"no CloudFormation type for {resource.kind}")


def _alias(resource: Resource) -> list[tuple[str, dict[str, Any]]]:
    """A version of the state machine's revision (a new one whenever it changes; the ones before are
    kept to roll back to) and the alias, moved to it as the rollout's deployment says."""
    machine_name, alias = resource.name.rsplit(":", 1)
    machine = _logical_id(STATE_MACHINE, machine_name)
    version_id = machine + "Version"
    version = {
        "Type": "AWS::StepFunctions::StateMachineVersion",
        "UpdateReplacePolicy": "Retain",
        "DeletionPolicy": "Retain",  # deleting the state machine deletes its versions
        "Properties": {
            "StateMachineArn": {"Ref": machine},
            "StateMachineRevisionId": {"Fn::GetAtt": [machine, "StateMachineRevisionId"]},
            "Description": "published by sfn-build",
        },
    }
    deployment = resource.spec["deployment"]
    preference: dict[str, Any] = {"StateMachineVersionArn": {"Ref": version_id}, "Type": deployment["type"].upper()}
    if deployment["type"] != "all_at_once":
        preference["Percentage"] = deployment["percent"]
        preference["Interval"] = deployment["interval"] // 60
        if deployment["alarms"]:
            preference["Alarms"] = deployment["alarms"]
    properties = {
        "Name": alias,
        "Description": f"The version that {alias} executions run (made by sfn-build)",
        "DeploymentPreference": preference,
    }
    alias_resource = {"Type": "AWS::StepFunctions::StateMachineAlias", "Properties": properties}
    return [(version_id, version), (_logical_id(ALIAS, resource.name), alias_resource)]


def _referenced(value: Any) -> set[str]:
    """The logical IDs a resource refers to with Ref or Fn::GetAtt."""
    if isinstance(value, dict):
        found = {value["Ref"]} if isinstance(value.get("Ref"), str) else set()
        if isinstance(value.get("Fn::GetAtt"), list):
            found.add(value["Fn::GetAtt"][0])
        return found.union(*(_referenced(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_referenced(item) for item in value))
    return set()


def _logical_id(kind: str, name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", f"{kind} {name}")
    return "".join(word[:1].upper() + word[1:] for word in words if word)[:255]


def _within_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8 (on a character boundary, with an ellipsis)."""
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - len(b"...")].decode(errors="ignore")
    return cut + "..."


def _subs(value: Any) -> Any:
    """Strings holding a pseudo parameter or a `${` become Fn::Sub, in which the spec's own `${`
    stays literal (`${!`). The definition's own strings are left alone (no substitutions apply)."""
    if isinstance(value, str):
        if "${" not in value and not any(mark in value for mark in _MARKS):
            return value
        text = value.replace("${", "${!")
        for mark, parameter in _MARKS.items():
            text = text.replace(mark, parameter)
        return _sub(text)
    if isinstance(value, dict):
        if "States" in value and "StartAt" in value:
            return value
        return {key: _subs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_subs(item) for item in value]
    return value


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}
