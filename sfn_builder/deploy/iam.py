"""Least-privilege IAM documents: the state machine's role, the schedule's, the formatter's.

The state machine's policy is the union of what each step type declares for
its steps (see `StepKind.iam_statements`), plus publishing to the alert topic
and, with logging, CloudWatch Logs delivery. Statements with the same actions
and condition are merged; everything is sorted, so a policy compares equal to
the one AWS returns.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import Workflow
from ..naming import CACHE_LOOKUP, job_prefix, resource_name, workflow_name_starts
from ..steps import KINDS
from ..steps.base import Arns, literal_prefix, statement

VERSION = "2012-10-17"
# CloudWatch Logs delivery for Step Functions: AWS's documented list ("IAM policies for
# logging to CloudWatch Logs"). Log delivery has no resource-level permissions; writing
# streams does, so those two are granted on the workflow's own log group only.
LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
]
LOG_STREAM_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
# A role's inline policies together, in characters without whitespace (IAM's quota): past it, the
# state machine's policy names the workflow's jobs by the workflow's part of their names.
ROLE_POLICY_LIMIT = 10_240
TRUST_POLICY_LIMIT = 2_048  # a role's trust policy, likewise (IAM's default quota)


def log_group_name(workflow: str) -> str:
    """The log group of a workflow's executions (the prefix AWS recommends for vended logs)."""
    return f"/aws/vendedlogs/states/{workflow}"


def policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """A policy document with statements of equal actions and condition merged."""
    merged: dict[str, dict[str, Any]] = {}
    for item in statements:
        key = repr((item["Action"], item.get("Condition")))
        if key in merged:
            merged[key]["Resource"] = sorted(set(merged[key]["Resource"]) | set(item["Resource"]))
        else:
            merged[key] = {**item, "Resource": sorted(set(item["Resource"]))}
    ordered = sorted(merged.values(), key=lambda s: (s["Action"], s["Resource"]))
    return {"Version": VERSION, "Statement": ordered}


# SendTaskSuccess has no resource-level permissions: a task token is the capability it checks.
MARKER_ACTIONS = ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]


def execution_policy(
    workflow: Workflow,
    arns: Arns,
    topic_arn: str | None,
    markers_table: str | None = None,
    machine_of: dict[str, str] | None = None,
    notifying: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """The role's policy (of the state machine and its parts); None when the workflow calls no service
    at all. With a markers table (module `markers`): its items, and signalling the tasks waiting on them
    (from child executions of the `notifying` machines for steps that many wait for).
    `machine_of`: the part machine each step of a split workflow runs in (module `split`)."""
    machine_of = machine_of or {}
    statements: list[dict[str, Any]] = []
    for step in workflow.steps.values():
        statements.extend(KINDS[step.type].iam_statements(step, workflow, arns))
        statements.extend(distributed_map_statements(step, workflow, arns, machine_of.get(step.name)))
    statements.extend(part_statements(sorted(set(machine_of.values())), arns))
    if topic_arn is not None:
        statements.append(statement(["sns:Publish"], [topic_arn]))
    if any(step.cache for step in workflow.steps.values()):
        lookup = arns.arn("lambda", f"function:{resource_name(workflow.name, CACHE_LOOKUP)}")
        statements.append(statement(["lambda:InvokeFunction"], [lookup, f"{lookup}:*"]))
    if markers_table is not None:
        statements.append(statement(MARKER_ACTIONS, [markers_table]))
        statements.append(statement(["states:SendTaskSuccess"], ["*"]))
        statements.extend(item for machine in notifying for item in child_execution_statements(machine, arns))
    if workflow.logging is not None and workflow.logging.level != "OFF":
        statements.append(statement(LOG_DELIVERY_ACTIONS, ["*"]))
        group = arns.arn("logs", f"log-group:{log_group_name(workflow.name)}")
        statements.append(statement(LOG_STREAM_ACTIONS, [group, f"{group}:*"]))
    if not statements:
        return None
    document = policy(statements)
    if _characters(document) > ROLE_POLICY_LIMIT:
        starts = workflow_name_starts(workflow.name)
        document = policy([_by_workflow(item, starts) for item in statements])
    return document


def _by_workflow(item: dict[str, Any], starts: frozenset[str]) -> dict[str, Any]:
    """A statement whose per-step SageMaker resources (`...job/<workflow>--<step>-*`) are widened to the
    workflow's (`...job/<workflow>--*`): still no other workflow's, since no slug holds `--`. Nothing
    else is widened (an S3 key the spec names stays as it is, whatever it holds)."""
    resources = []
    for resource in item["Resource"]:
        head, _, name = resource.rpartition("/")
        start = next((start for start in starts if name.startswith(start)), None)
        if ":sagemaker:" in head and resource.endswith("-*") and start is not None:
            resource = f"{head}/{start}*"
        resources.append(resource)
    return {**item, "Resource": resources}


def part_statements(machines: list[str], arns: Arns) -> list[dict[str, Any]]:
    """Start the parts of a split workflow and wait for them (AWS's policy for startExecution.sync)."""
    if not machines:
        return []
    return [
        statement(["states:StartExecution"], [arns.arn("states", f"stateMachine:{name}") for name in machines]),
        statement(
            ["states:DescribeExecution", "states:StopExecution"],
            [arns.arn("states", f"execution:{name}:*") for name in machines],
        ),
        statement(
            ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [arns.managed_rule("StepFunctionsGetEventsForStepFunctionsExecutionRule")],
        ),
    ]


def distributed_map_statements(
    step: Any, workflow: Workflow, arns: Arns, machine_name: str | None = None
) -> list[dict[str, Any]]:
    """A step that runs as a Distributed Map (AWS's "IAM policies for Distributed Map"): read its items
    when they are in S3, write its results, and run its child executions (of the state machine it runs
    in, `machine_name` or the workflow's) and stop them."""
    if step.for_each is None or not step.for_each.distributed:
        return []
    found = _item_source_statements(step.for_each.source, arns) if step.for_each.source is not None else []
    if step.for_each.results is not None:
        results_bucket, _, prefix = step.for_each.results[len("s3://") :].partition("/")
        found.append(
            statement(
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
                [f"arn:{arns.partition}:s3:::{results_bucket}/{literal_prefix(prefix)}*"],
            )
        )
    return [*found, *child_execution_statements(machine_name or workflow.name, arns)]


def child_execution_statements(machine: str, arns: Arns) -> list[dict[str, Any]]:
    """A Distributed Map in `machine` runs its items as child executions of that machine, and stops them."""
    # <machine>/<map run label>:<name>; the children are Standard executions, and the express form is
    # listed as AWS's authorization reference lists both resource types for these actions
    children = [arns.arn("states", f"{kind}:{machine}/*:*") for kind in ("execution", "express")]
    return [
        statement(["states:StartExecution"], [arns.arn("states", f"stateMachine:{machine}")]),
        statement(["states:DescribeExecution", "states:StopExecution"], children),
    ]


def _item_source_statements(source: Any, arns: Arns) -> list[dict[str, Any]]:
    """Read a Distributed Map's items: exactly the key (its literal prefix when templated), or list
    the prefix."""
    bucket = f"arn:{arns.partition}:s3:::{source.bucket}"
    known = literal_prefix(source.key)
    if source.format == "objects":
        return [statement(["s3:ListBucket"], [bucket], {"StringLike": {"s3:prefix": [f"{known}*"]}})]
    return [statement(["s3:GetObject"], [f"{bucket}/{known}*" if known != source.key else f"{bucket}/{known}"])]


def trust_policy(services: list[str], arns: Arns, source_arns: list[str]) -> dict[str, Any]:
    """Let AWS services assume the role for this account and these sources only (no confused deputy)."""
    sources = sorted(set(source_arns))
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": services[0] if len(services) == 1 else sorted(services)},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": arns.account},
                    "ArnLike": {"aws:SourceArn": sources[0] if len(sources) == 1 else sources},
                },
            }
        ],
    }


def state_machines_trust(arns: Arns, machine_arn: str, part_arns: list[str]) -> dict[str, Any]:
    """Let Step Functions assume the role for the workflow's state machine and its parts, their versions
    and aliases included. Past IAM's quota (about 10 parts) the parts are named by the start their
    names share (`<workflow>-part-*`)."""
    sources = [machine_arn, f"{machine_arn}:*", *(f"{arn}{tail}" for arn in part_arns for tail in ("", ":*"))]
    document = trust_policy(["states.amazonaws.com"], arns, sources)
    if _characters(document) > TRUST_POLICY_LIMIT:
        # up to `-part-`: a long workflow name is cut shorter before `-part-10` than before `-part-9`
        starts = sorted({arn.rpartition("-part-")[0] + "-part-" for arn in part_arns})
        widened = [machine_arn, f"{machine_arn}:*", *(f"{start}*" for start in starts)]
        document = trust_policy(["states.amazonaws.com"], arns, widened)
    return document


def _characters(document: dict[str, Any]) -> int:
    """A policy's length as IAM's quotas count it (without whitespace)."""
    return len(json.dumps(document, separators=(",", ":")))


def start_execution_policy(state_machine_arn: str, alias: str) -> dict[str, Any]:
    """For a schedule's role: start this state machine through its alias and nothing else (IAM authorises
    an alias start on the state machine's ARN, the alias being the `states:StateMachineQualifier`)."""
    only_the_alias = {"ForAnyValue:StringEquals": {"states:StateMachineQualifier": [alias]}}
    return policy([statement(["states:StartExecution"], [state_machine_arn], only_the_alias)])


def cache_lookup_policy(workflow: Workflow, arns: Arns, function_name: str) -> dict[str, Any]:
    """For the cache lookup: list the cached steps' completed jobs, read their tags, describe them, log.

    SageMaker's List*Jobs and Batch's ListJobs and DescribeJobs have no resource-level permissions.
    """
    statements = [
        statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [arns.arn("logs", f"log-group:/aws/lambda/{function_name}:*")],
        ),
        statement(["logs:CreateLogGroup"], [arns.arn("logs", f"log-group:/aws/lambda/{function_name}")]),
    ]
    for step in workflow.steps.values():
        if step.cache is None:
            continue
        if step.type == "batch":
            statements.append(statement(["batch:ListJobs", "batch:DescribeJobs"], ["*"]))
            continue
        kind = {"processing": "ProcessingJob", "training": "TrainingJob", "transform": "TransformJob"}[step.type]
        resource = {"processing": "processing-job", "training": "training-job", "transform": "transform-job"}
        jobs = arns.arn("sagemaker", f"{resource[step.type]}/{job_prefix(workflow.name, step.name)}-*")
        statements.append(statement([f"sagemaker:List{kind}s"], ["*"]))
        statements.append(statement([f"sagemaker:Describe{kind}", "sagemaker:ListTags"], [jobs]))
    return policy(statements)


def formatter_policy(workflow: Workflow, arns: Arns, topic_arn: str, function_name: str) -> dict[str, Any]:
    """For the alert formatter: describe this workflow's SageMaker jobs and executions, publish, log.

    Batch events carry all it shows, so it needs nothing else.
    """
    statements = [
        statement(["sns:Publish"], [topic_arn]),
        statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [arns.arn("logs", f"log-group:/aws/lambda/{function_name}:*")],
        ),
        statement(["logs:CreateLogGroup"], [arns.arn("logs", f"log-group:/aws/lambda/{function_name}")]),
    ]
    for step in workflow.steps.values():
        for item in KINDS[step.type].iam_statements(step, workflow, arns):
            describe = [a for a in item["Action"] if a.startswith("sagemaker:Describe")]
            if describe:
                statements.append(statement(describe, item["Resource"]))
    if workflow.notifications is not None and workflow.notifications.on_execution:
        # execution events may come without the error and cause: the formatter reads them
        executions = [arns.arn("states", f"{kind}:{workflow.name}:*") for kind in ("execution", "express")]
        statements.append(statement(["states:DescribeExecution"], executions))
    return policy(statements)
