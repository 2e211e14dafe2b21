"""Desired state: every resource `create` owns for a workflow, as plain data.

A `Resource` is a kind (which driver handles it), a physical name, and a spec in
the same normalised form the driver reads back from AWS, so desired and actual
compare with `==`. Everything is named after the workflow and tagged
`sfn-build:workflow=<name>`; IAM roles live under the path `/sfn-build/<name>/`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any

from ..asl import compact, walk_states
from ..code_bundles import archive_uri, bundle
from ..markers import KEY_ATTRIBUTE, notifies_from_children, uses_markers
from ..model import Workflow
from ..naming import (
    CACHE_LOOKUP,
    TAG_WORKFLOW,
    markers_table,
    owned_tags,
    part_alias,
    part_machine,
    resource_name,
    secrets_definition,
)
from ..steps.base import Arns
from .alerts import alert_rules
from .iam import (
    cache_lookup_policy,
    execution_policy,
    formatter_policy,
    log_group_name,
    start_execution_policy,
    state_machines_trust,
    trust_policy,
)

CODE = "code-archive"
JOB_DEFINITION = "batch-job-definition"
ROLE = "iam-role"
TABLE = "dynamodb-table"
LOG_GROUP = "log-group"
TOPIC = "sns-topic"
TOPIC_STATEMENT = "sns-topic-statement"
FUNCTION = "lambda-function"
STATE_MACHINE = "state-machine"
ALIAS = "state-machine-alias"
RULE = "events-rule"
SCHEDULE_GROUP = "schedule-group"
SCHEDULE = "schedule"
# Creation order; removal runs the other way.
ORDER = (
    CODE,
    JOB_DEFINITION,
    ROLE,
    TABLE,
    LOG_GROUP,
    TOPIC,
    TOPIC_STATEMENT,
    FUNCTION,
    STATE_MACHINE,
    ALIAS,
    RULE,
    SCHEDULE_GROUP,
    SCHEDULE,
)
LABELS = {
    CODE: "code archive",
    JOB_DEFINITION: "Batch job definition",
    ROLE: "IAM role",
    TABLE: "DynamoDB table",
    LOG_GROUP: "log group",
    TOPIC: "SNS topic",
    TOPIC_STATEMENT: "statement in SNS topic policy",
    FUNCTION: "Lambda function",
    STATE_MACHINE: "state machine",
    ALIAS: "state machine alias",
    RULE: "EventBridge rule",
    SCHEDULE_GROUP: "schedule group",
    SCHEDULE: "EventBridge Scheduler schedule",
}
TAG_ALERT_TOPIC = "sfn-build:alert-topic"  # on the state machine: the existing topic it added a statement to
FORMATTER_RUNTIME = "python3.12"


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    spec: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    @property
    def label(self) -> str:
        return f"{LABELS[self.kind]} {self.name}"


def normalised_logging(config: dict[str, Any] | None) -> dict[str, Any]:
    """A logging configuration as `resources` writes it (OFF has no other fields)."""
    config = dict(config or {"level": "OFF"})
    if config.get("level", "OFF") == "OFF":
        return {"level": "OFF"}
    return {
        "level": config["level"],
        "includeExecutionData": bool(config.get("includeExecutionData", False)),
        "destinations": config.get("destinations", []),
    }


AT_ONCE = {"type": "all_at_once", "percent": None, "interval": None, "alarms": []}  # a part alias moves at once


def role_path(workflow: str) -> str:
    return f"/sfn-build/{workflow}/"


def state_machine_arn(workflow: Workflow, arns: Arns) -> str:
    return arns.arn("states", f"stateMachine:{workflow.name}")


def alias_name(workflow: Workflow) -> str:
    """The alias resource's name: `<state machine>:<alias>`, as it ends the alias's ARN."""
    return f"{workflow.name}:{workflow.rollout.alias}"


def alias_arn(workflow: Workflow, arns: Arns) -> str:
    return arns.arn("states", f"stateMachine:{alias_name(workflow)}")


def revision(machine: dict[str, Any]) -> str:
    """What a state machine version holds (definition, role, logging, type), as a short digest: an alias
    routes to the version of the spec when the digests agree."""
    held = {key: machine[key] for key in ("definition", "role", "logging", "type")}
    return hashlib.sha256(json.dumps(held, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def topic_arn(workflow: Workflow, arns: Arns) -> str | None:
    notifications = workflow.notifications
    if notifications is None:
        return None
    return notifications.topic_arn or arns.arn("sns", notifications.topic_name or "")


def schedule_group_name(workflow: str) -> str:
    return "sfn-build-" + resource_name(workflow, limit=54)


def desired_resources(
    workflow: Workflow, definition: dict[str, Any], arns: Arns, parts: dict[int, dict[str, Any]] | None = None
) -> list[Resource]:
    """What `create` makes for this workflow, in creation order; `parts`: the definitions of a split
    workflow's parts by number (module `split`), each a state machine of its own."""
    parts = parts or {}
    part_names = {number: part_machine(workflow.name, number) for number in sorted(parts)}
    tags = owned_tags(workflow.tags, {TAG_WORKFLOW: workflow.name})
    machine_arn = state_machine_arn(workflow, arns)
    topic = topic_arn(workflow, arns)
    path = role_path(workflow.name)
    resources: list[Resource] = [*_code_archives(workflow), *_secrets_definitions(workflow, tags)]
    table = markers_table(workflow.name) if any(map(uses_markers, [definition, *parts.values()])) else None
    table_arn = arns.arn("dynamodb", f"table/{table}") if table else None

    role_arn = workflow.execution_role
    if role_arn is None:
        role_name = resource_name(workflow.name, "sfn")
        role_arn = arns.arn("iam", f"role{path}{role_name}", regional=False)
        machine_of = {step: part_names[number] for number, part in parts.items() for step in _steps_in(part, workflow)}
        machines = {workflow.name: definition, **{part_names[number]: part for number, part in parts.items()}}
        notifying = tuple(name for name, each in machines.items() if notifies_from_children(each))
        document = execution_policy(workflow, arns, topic, table_arn, machine_of, notifying)
        # an execution of a version or an alias runs as its state machine (`name:*` when AWS names the qualifier)
        part_arns = [arns.arn("states", f"stateMachine:{name}") for name in part_names.values()]
        resources.append(
            Resource(
                ROLE,
                role_name,
                {
                    "path": path,
                    "description": f"Runs the {workflow.name} state machine (made by sfn-build)",
                    "trust": state_machines_trust(arns, machine_arn, part_arns),
                    "policies": {"sfn-build": document} if document else {},
                    "tags": tags,
                },
            )
        )

    if table is not None:
        resources.append(Resource(TABLE, table, {"key": KEY_ATTRIBUTE, "billing": "PAY_PER_REQUEST", "tags": tags}))

    logging: dict[str, Any] = {"level": "OFF"}
    if workflow.logging is not None and workflow.logging.level != "OFF":
        group = log_group_name(workflow.name)
        resources.append(Resource(LOG_GROUP, group, {"retention_days": workflow.logging.retention_days, "tags": tags}))
        logging = {
            "level": workflow.logging.level,
            "includeExecutionData": workflow.logging.include_execution_data,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": arns.arn("logs", f"log-group:{group}:*")}}],
        }

    rules = alert_rules(workflow, machine_arn, definition, parts.values())
    rule_arns = [arns.arn("events", f"rule/{resource_name(workflow.name, r.suffix)}") for r in rules]
    detailed = workflow.notifications is not None and workflow.notifications.format == "detailed"
    publishers = [] if detailed else rule_arns
    formatter = resource_name(workflow.name, "alert-formatter")
    formatter_role = arns.arn("iam", f"role{path}{formatter}", regional=False) if detailed and rules else None
    notifications = workflow.notifications
    machine_tags = dict(tags)
    if notifications is not None and topic is not None:
        if notifications.topic_name is not None:
            resources.append(
                Resource(
                    TOPIC,
                    notifications.topic_name,
                    {
                        "policy": topic_policy(topic, publishers, arns, formatter_role),
                        "subscriptions": sorted([s.protocol, s.endpoint] for s in notifications.subscriptions),
                        "tags": tags,
                    },
                )
            )
        elif publishers:
            resources.append(
                Resource(TOPIC_STATEMENT, topic, {"statement": rules_statement(workflow.name, topic, publishers)})
            )
            machine_tags[TAG_ALERT_TOPIC] = topic

    formatter_arn = None
    if formatter_role is not None and topic is not None:
        function = formatter
        formatter_arn = arns.arn("lambda", f"function:{function}")
        resources.append(
            Resource(
                ROLE,
                function,
                {
                    "path": path,
                    "description": f"Runs the alert formatter of {workflow.name} (made by sfn-build)",
                    "trust": trust_policy(["lambda.amazonaws.com"], arns, [formatter_arn]),
                    "policies": {"sfn-build": formatter_policy(workflow, arns, topic, function)},
                    "tags": tags,
                },
            )
        )
        code = formatter_zip()
        resources.append(
            Resource(
                FUNCTION,
                function,
                {
                    "runtime": FORMATTER_RUNTIME,
                    "handler": "alert_formatter.handler",
                    "role": formatter_role,
                    "timeout": 30,
                    "environment": {"TOPIC_ARN": topic, "WORKFLOW": workflow.name},
                    "code_sha256": base64.b64encode(hashlib.sha256(code).digest()).decode(),
                    "invokers": sorted(rule_arns),
                    "tags": tags,
                },
            )
        )

    resources.extend(_cache_lookup(workflow, arns, path, tags))
    machine = {"role": role_arn, "type": workflow.type.upper(), "logging": logging}
    rollout = workflow.rollout
    part_aliases = []  # the aliases the workflow's definition starts its parts by (module `drivers.aliases`)
    for number, name in part_names.items():  # before the workflow's machine, which starts them
        part = {"definition": parts[number], **machine, "tags": tags}
        resources.append(Resource(STATE_MACHINE, name, part))
        part_aliases.append(f"{name}:{part_alias(compact(parts[number]))}")
        spec = {"revision": revision(part), "keep_versions": rollout.keep_versions, "deployment": AT_ONCE}
        resources.append(Resource(ALIAS, part_aliases[-1], spec))
    own = {"definition": definition, **machine, "tags": machine_tags}
    resources.append(Resource(STATE_MACHINE, workflow.name, own))
    deployment = {
        "type": rollout.deployment.type,
        "percent": rollout.deployment.percent,
        "interval": rollout.deployment.interval,
        "alarms": list(rollout.deployment.alarms),
    }
    spec = {"revision": revision(own), "keep_versions": rollout.keep_versions, "deployment": deployment}
    if part_aliases:
        spec["parts"] = part_aliases
    resources.append(Resource(ALIAS, alias_name(workflow), spec))

    for rule, rule_arn in zip(rules, rule_arns, strict=True):
        target: dict[str, Any] = {"Id": "alerts", "Arn": formatter_arn or topic}
        if formatter_arn is None:
            target["InputTransformer"] = rule.transformer
        resources.append(
            Resource(
                RULE,
                rule_arn.rsplit("/", 1)[1],
                {
                    "description": rule.description,
                    "pattern": rule.pattern,
                    "schedule": None,
                    "state": "ENABLED",
                    "targets": [target],
                    "tags": tags,
                },
            )
        )

    resources.extend(_schedules(workflow, arns, tags))
    return resources


def _code_archives(workflow: Workflow) -> list[Resource]:
    """The archive of each `code:` directory, where the steps' requests read it (one per content)."""
    archives: dict[str, Resource] = {}
    for step in workflow.steps.values():
        uri = archive_uri(step, workflow)
        if uri is None or uri in archives:
            continue
        made = bundle(step.code_directory or "")
        spec = {"sha256": made.digest, "directory": made.directory, "files": made.files, "bytes": len(made.archive)}
        archives[uri] = Resource(CODE, uri, spec)
    return list(archives.values())


def _secrets_definitions(workflow: Workflow, tags: dict[str, str]) -> list[Resource]:
    """For each batch step with `secrets:`, the copy of its job definition that holds them."""
    return [
        Resource(
            JOB_DEFINITION,
            secrets_definition(workflow.name, step.name),
            {
                "base": step.config["job_definition"],
                "secrets": sorted(
                    ({"name": name, "valueFrom": source} for name, source in step.config["secrets"].items()),
                    key=lambda secret: secret["name"],
                ),
                "tags": tags,
            },
        )
        for step in workflow.steps.values()
        if step.type == "batch" and step.config.get("secrets")
    ]


def _steps_in(definition: dict[str, Any], workflow: Workflow) -> set[str]:
    """The workflow's steps whose states a definition holds."""
    return {name.split(".", 1)[0] for name, _ in walk_states(definition)} & workflow.steps.keys()


def _cache_lookup(workflow: Workflow, arns: Arns, path: str, tags: dict[str, str]) -> list[Resource]:
    """The cache lookup function and its role, when a step has `cache:`."""
    if not any(step.cache for step in workflow.steps.values()):
        return []
    name = resource_name(workflow.name, CACHE_LOOKUP)
    role = arns.arn("iam", f"role{path}{name}", regional=False)
    code = package_zip("cache_lookup")
    return [
        Resource(
            ROLE,
            name,
            {
                "path": path,
                "description": f"Runs the cache lookup of {workflow.name} (made by sfn-build)",
                "trust": trust_policy(["lambda.amazonaws.com"], arns, [arns.arn("lambda", f"function:{name}")]),
                "policies": {"sfn-build": cache_lookup_policy(workflow, arns, name)},
                "tags": tags,
            },
        ),
        Resource(
            FUNCTION,
            name,
            {
                "runtime": FORMATTER_RUNTIME,
                "handler": "cache_lookup.handler",
                "role": role,
                "timeout": 60,
                "environment": {},
                "code_sha256": base64.b64encode(hashlib.sha256(code).digest()).decode(),
                "invokers": [],
                "tags": tags,
            },
        ),
    ]


def _schedules(workflow: Workflow, arns: Arns, tags: dict[str, str]) -> list[Resource]:
    """The schedules, starting the state machine's alias (the version rolled out), and their role."""
    if not workflow.schedules:
        return []
    machine_arn, target_arn = state_machine_arn(workflow, arns), alias_arn(workflow, arns)
    role_name = resource_name(workflow.name, "schedule")
    role_arn = arns.arn("iam", f"role{role_path(workflow.name)}{role_name}", regional=False)
    many = len(workflow.schedules) > 1
    numbers = range(1, len(workflow.schedules) + 1)
    names = [resource_name(workflow.name, f"schedule-{n}" if many else "schedule") for n in numbers]
    group = schedule_group_name(workflow.name)
    services, sources = set(), []
    for name, schedule in zip(names, workflow.schedules, strict=True):
        if schedule.timezone:
            services.add("scheduler.amazonaws.com")
            sources.append(arns.arn("scheduler", f"schedule-group/{group}"))
        else:
            services.add("events.amazonaws.com")
            sources.append(arns.arn("events", f"rule/{name}"))
    trust = trust_policy(sorted(services), arns, sources)
    resources = [
        Resource(
            ROLE,
            role_name,
            {
                "path": role_path(workflow.name),
                "description": f"Lets the schedules of {workflow.name} start it, and nothing else (made by sfn-build)",
                "trust": trust,
                "policies": {"sfn-build": start_execution_policy(machine_arn, workflow.rollout.alias)},
                "tags": tags,
            },
        )
    ]
    if any(s.timezone for s in workflow.schedules):
        resources.append(Resource(SCHEDULE_GROUP, group, {"tags": tags}))
    for name, schedule in zip(names, workflow.schedules, strict=True):
        execution_input = json.dumps(dict(schedule.input or {}), sort_keys=True)
        description = schedule.description or f"Starts {workflow.name} ({schedule.expression})"
        if schedule.timezone:
            resources.append(
                Resource(
                    SCHEDULE,
                    name,
                    {
                        "group": group,
                        "expression": schedule.expression,
                        "timezone": schedule.timezone,
                        "state": "ENABLED" if schedule.enabled else "DISABLED",
                        "description": description,
                        "target": {"Arn": target_arn, "RoleArn": role_arn, "Input": execution_input},
                    },
                )
            )
        else:
            resources.append(
                Resource(
                    RULE,
                    name,
                    {
                        "description": description,
                        "pattern": None,
                        "schedule": schedule.expression,
                        "state": "ENABLED" if schedule.enabled else "DISABLED",
                        "targets": [
                            {"Id": "state-machine", "Arn": target_arn, "RoleArn": role_arn, "Input": execution_input}
                        ],
                        "tags": tags,
                    },
                )
            )
    return resources


def topic_policy(topic: str, publishers: list[str], arns: Arns, formatter_role: str | None) -> dict[str, Any]:
    """Only this workflow's rules may publish (detailed alerts: only its formatter's role); without
    rules, only the account itself (the state machine's own alert states publish with its role)."""
    if publishers:
        statements = [_rules_statement("sfnbuildrules", topic, publishers)]
    elif formatter_role is not None:
        statements = [
            {
                "Sid": "sfnbuildformatter",
                "Effect": "Allow",
                "Principal": {"AWS": formatter_role},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ]
    else:
        statements = [
            {
                "Sid": "sfnbuildaccount",
                "Effect": "Allow",
                "Principal": {"AWS": arns.arn("iam", "root", regional=False)},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def rules_statement(workflow: str, topic: str, publishers: list[str]) -> dict[str, Any]:
    """The statement added to an existing topic's policy; its Sid names the workflow."""
    digest = hashlib.sha1(workflow.encode()).hexdigest()[:6]
    return _rules_statement("sfnbuild" + re.sub(r"[^A-Za-z0-9]", "", workflow)[:40] + digest, topic, publishers)


def _rules_statement(sid: str, topic: str, publishers: list[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"ArnEquals": {"aws:SourceArn": sorted(publishers)}},
    }


def formatter_zip() -> bytes:
    """The alert formatter's deployment package."""
    return package_zip("alert_formatter")


def function_module(handler: str) -> str:
    """The module of this package that holds one of sfn-build's functions (`cache_lookup.handler`)."""
    return handler.split(".", 1)[0]


def package_zip(module: str) -> bytes:
    """The deployment package of one of sfn-build's functions (a module of this package), byte-identical
    on every build."""
    source = package_files.files("sfn_builder.deploy").joinpath(f"{module}.py").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{module}.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()
