"""The CloudWatch Logs group of a state machine with logging."""

from __future__ import annotations

from typing import Any

from ..aws import Aws, call
from ..resources import LOG_GROUP, Resource
from .base import Driver, check_owner, tag_changes


class LogGroupDriver(Driver):
    kind = LOG_GROUP

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        logs = aws.client("logs")
        groups = call(logs.describe_log_groups, what=f"log group {name}", logGroupNamePrefix=name)["logGroups"]
        group = next((g for g in groups if g["logGroupName"] == name), None)
        if group is None:
            return None
        tags = call(logs.list_tags_log_group, what=f"log group {name}", logGroupName=name)["tags"]
        check_owner(self.kind, name, tags, workflow)
        return {"retention_days": group.get("retentionInDays"), "tags": tags}

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        name = f"/aws/vendedlogs/states/{workflow}"
        return [name] if self.owns(aws, name, workflow) else []

    def create(self, aws: Aws, resource: Resource) -> None:
        logs = aws.client("logs")
        call(logs.create_log_group, what=resource.label, logGroupName=resource.name, tags=resource.spec["tags"])
        call(
            logs.put_retention_policy,
            what=resource.label,
            logGroupName=resource.name,
            retentionInDays=resource.spec["retention_days"],
        )

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        logs = aws.client("logs")
        if resource.spec["retention_days"] != actual["retention_days"]:
            call(
                logs.put_retention_policy,
                what=resource.label,
                logGroupName=resource.name,
                retentionInDays=resource.spec["retention_days"],
            )
        to_set, to_remove = tag_changes(resource.spec["tags"], actual["tags"])
        if to_set:
            call(logs.tag_log_group, what=resource.label, logGroupName=resource.name, tags=to_set)
        if to_remove:
            call(logs.untag_log_group, what=resource.label, logGroupName=resource.name, tags=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(aws.client("logs").delete_log_group, what=f"log group {name}", logGroupName=name)
