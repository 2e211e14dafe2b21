"""EventBridge Scheduler: a schedule group per workflow (tagged), and its schedules."""

from __future__ import annotations

from typing import Any

from ..aws import Aws, call, missing
from ..resources import SCHEDULE, SCHEDULE_GROUP, Resource, schedule_group_name
from .base import Driver, check_owner, tag_changes, tag_dict, tag_list

_NOT_FOUND = ("ResourceNotFoundException",)


class ScheduleGroupDriver(Driver):
    kind = SCHEDULE_GROUP

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        scheduler = aws.client("scheduler")
        found = missing(scheduler.get_schedule_group, _NOT_FOUND, what=f"schedule group {name}", Name=name)
        if found is None:
            return None
        tags = tag_dict(
            call(scheduler.list_tags_for_resource, what=f"schedule group {name}", ResourceArn=found["Arn"])["Tags"]
        )
        check_owner(self.kind, name, tags, workflow)
        return {"tags": tags}

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        name = schedule_group_name(workflow)
        return [name] if self.owns(aws, name, workflow) else []

    def create(self, aws: Aws, resource: Resource) -> None:
        call(
            aws.client("scheduler").create_schedule_group,
            what=resource.label,
            Name=resource.name,
            Tags=tag_list(resource.spec["tags"]),
        )

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        scheduler = aws.client("scheduler")
        arn = aws.arn("scheduler", f"schedule-group/{resource.name}")
        to_set, to_remove = tag_changes(resource.spec["tags"], actual["tags"])
        if to_set:
            call(scheduler.tag_resource, what=resource.label, ResourceArn=arn, Tags=tag_list(to_set))
        if to_remove:
            call(scheduler.untag_resource, what=resource.label, ResourceArn=arn, TagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(aws.client("scheduler").delete_schedule_group, what=f"schedule group {name}", Name=name)


class ScheduleDriver(Driver):
    """Schedules live in the workflow's group, which is what marks them as its own."""

    kind = SCHEDULE

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        group = schedule_group_name(workflow)
        found = missing(
            aws.client("scheduler").get_schedule, _NOT_FOUND, what=f"schedule {name}", Name=name, GroupName=group
        )
        if found is None:
            return None
        target = found["Target"]
        return {
            "group": found["GroupName"],
            "expression": found["ScheduleExpression"],
            "timezone": found.get("ScheduleExpressionTimezone"),
            "state": found["State"],
            "description": found.get("Description", ""),
            "target": {"Arn": target["Arn"], "RoleArn": target["RoleArn"], "Input": target.get("Input", "")},
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        group = schedule_group_name(workflow)
        if not ScheduleGroupDriver().owns(aws, group, workflow):
            return []  # schedules have no tags: they are ours when their group is
        pages = aws.client("scheduler").get_paginator("list_schedules").paginate(GroupName=group)
        return [
            s["Name"] for page in call(lambda: list(pages), what=f"schedules in {group}") for s in page["Schedules"]
        ]

    def create(self, aws: Aws, resource: Resource) -> None:
        call(aws.client("scheduler").create_schedule, what=resource.label, **schedule_arguments(resource))

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        call(aws.client("scheduler").update_schedule, what=resource.label, **schedule_arguments(resource))

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(
            aws.client("scheduler").delete_schedule,
            what=f"schedule {name}",
            Name=name,
            GroupName=schedule_group_name(workflow),
        )


def schedule_arguments(resource: Resource) -> dict[str, Any]:
    """CreateSchedule's arguments; CloudFormation's AWS::Scheduler::Schedule takes the same properties."""
    spec = resource.spec
    return {
        "Name": resource.name,
        "GroupName": spec["group"],
        "ScheduleExpression": spec["expression"],
        "ScheduleExpressionTimezone": spec["timezone"],
        "State": spec["state"],
        "Description": spec["description"],
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": spec["target"],
    }
