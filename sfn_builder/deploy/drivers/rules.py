"""EventBridge rules: alert rules (event patterns) and schedule rules (expressions)."""

from __future__ import annotations

import json
from typing import Any

from ..aws import Aws, call, missing
from ..resources import RULE, Resource
from .base import Driver, check_owner, tag_changes, tag_dict, tag_list

_TARGET_FIELDS = ("Id", "Arn", "RoleArn", "Input", "InputTransformer")


class RuleDriver(Driver):
    kind = RULE

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        events = aws.client("events")
        found = missing(
            events.describe_rule, ("ResourceNotFoundException",), what=f"EventBridge rule {name}", Name=name
        )
        if found is None:
            return None
        tags = tag_dict(
            call(events.list_tags_for_resource, what=f"EventBridge rule {name}", ResourceARN=found["Arn"])["Tags"]
        )
        check_owner(self.kind, name, tags, workflow)
        targets = call(events.list_targets_by_rule, what=f"EventBridge rule {name}", Rule=name)["Targets"]
        return {
            "description": found.get("Description", ""),
            "pattern": json.loads(found["EventPattern"]) if found.get("EventPattern") else None,
            "schedule": found.get("ScheduleExpression"),
            "state": found["State"],
            "targets": [_target(t) for t in sorted(targets, key=lambda t: t["Id"])],
            "tags": tags,
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        events = aws.client("events")
        pages = events.get_paginator("list_rules").paginate(NamePrefix=f"{workflow}-")
        names = []
        for page in call(lambda: list(pages), what="EventBridge rules"):
            for rule in page["Rules"]:
                tags = tag_dict(
                    call(
                        events.list_tags_for_resource, what=f"EventBridge rule {rule['Name']}", ResourceARN=rule["Arn"]
                    )["Tags"]
                )
                if tags.get("sfn-build:workflow") == workflow:
                    names.append(rule["Name"])
        return names

    def create(self, aws: Aws, resource: Resource) -> None:
        self._put(aws, resource, tags=True)
        self._targets(aws, resource, [])

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        spec = resource.spec
        if any(spec[k] != actual[k] for k in ("description", "pattern", "schedule", "state")):
            self._put(aws, resource, tags=False)
        if spec["targets"] != actual["targets"]:
            self._targets(aws, resource, actual["targets"])
        events, arn = aws.client("events"), aws.arn("events", f"rule/{resource.name}")
        to_set, to_remove = tag_changes(spec["tags"], actual["tags"])
        if to_set:
            call(events.tag_resource, what=resource.label, ResourceARN=arn, Tags=tag_list(to_set))
        if to_remove:
            call(events.untag_resource, what=resource.label, ResourceARN=arn, TagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        events = aws.client("events")
        targets = call(events.list_targets_by_rule, what=f"EventBridge rule {name}", Rule=name)["Targets"]
        if targets:
            call(events.remove_targets, what=f"EventBridge rule {name}", Rule=name, Ids=[t["Id"] for t in targets])
        call(events.delete_rule, what=f"EventBridge rule {name}", Name=name)

    def _put(self, aws: Aws, resource: Resource, *, tags: bool) -> None:
        spec = resource.spec
        arguments: dict[str, Any] = {"Name": resource.name, "Description": spec["description"], "State": spec["state"]}
        if spec["pattern"] is not None:
            arguments["EventPattern"] = json.dumps(spec["pattern"])
        if spec["schedule"] is not None:
            arguments["ScheduleExpression"] = spec["schedule"]
        if tags:
            arguments["Tags"] = tag_list(spec["tags"])
        call(aws.client("events").put_rule, what=resource.label, **arguments)

    def _targets(self, aws: Aws, resource: Resource, current: list[dict[str, Any]]) -> None:
        events = aws.client("events")
        stale = [t["Id"] for t in current if t["Id"] not in {w["Id"] for w in resource.spec["targets"]}]
        if stale:
            call(events.remove_targets, what=resource.label, Rule=resource.name, Ids=stale)
        call(events.put_targets, what=resource.label, Rule=resource.name, Targets=resource.spec["targets"])


def _target(target: dict[str, Any]) -> dict[str, Any]:
    found = {key: target[key] for key in _TARGET_FIELDS if key in target}
    if "InputTransformer" in found:
        transformer = found["InputTransformer"]
        found["InputTransformer"] = {
            "InputPathsMap": transformer.get("InputPathsMap", {}),
            "InputTemplate": transformer["InputTemplate"],
        }
    return found
