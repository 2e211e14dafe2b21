"""The DynamoDB table of a workflow's completion markers (module `markers`)."""

from __future__ import annotations

import time
from typing import Any

from ...naming import markers_table
from ..aws import Aws, AwsError, call, missing
from ..resources import TABLE, Resource
from .base import Driver, check_owner, tag_changes, tag_dict, tag_list

ACTIVE_PATIENCE_SECONDS = 120.0  # a new on-demand table is usually ACTIVE within seconds


class TableDriver(Driver):
    kind = TABLE

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        dynamodb = aws.client("dynamodb")
        found = missing(
            dynamodb.describe_table, ("ResourceNotFoundException",), what=f"DynamoDB table {name}", TableName=name
        )
        if found is None:
            return None
        table = found["Table"]
        tags = tag_dict(
            call(dynamodb.list_tags_of_resource, what=f"DynamoDB table {name}", ResourceArn=table["TableArn"])["Tags"]
        )
        check_owner(self.kind, name, tags, workflow)
        hash_key = next(k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH")
        billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        return {"key": hash_key, "billing": billing, "tags": tags}

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        name = markers_table(workflow)
        return [name] if self.owns(aws, name, workflow) else []

    def create(self, aws: Aws, resource: Resource) -> None:
        dynamodb, spec = aws.client("dynamodb"), resource.spec
        call(
            dynamodb.create_table,
            what=resource.label,
            TableName=resource.name,
            AttributeDefinitions=[{"AttributeName": spec["key"], "AttributeType": "S"}],
            KeySchema=[{"AttributeName": spec["key"], "KeyType": "HASH"}],
            BillingMode=spec["billing"],
            Tags=tag_list(spec["tags"]),
        )
        _wait_until_active(dynamodb, resource)

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        dynamodb, spec = aws.client("dynamodb"), resource.spec
        if spec["key"] != actual["key"]:
            raise AwsError(
                f"{resource.label} has the key {actual['key']!r}, not {spec['key']!r}: "
                "delete it (it holds only markers of past executions) and run create again"
            )
        if spec["billing"] != actual["billing"]:
            call(dynamodb.update_table, what=resource.label, TableName=resource.name, BillingMode=spec["billing"])
        to_set, to_remove = tag_changes(spec["tags"], actual["tags"])
        if to_set or to_remove:
            arn = call(dynamodb.describe_table, what=resource.label, TableName=resource.name)["Table"]["TableArn"]
            if to_set:
                call(dynamodb.tag_resource, what=resource.label, ResourceArn=arn, Tags=tag_list(to_set))
            if to_remove:
                call(dynamodb.untag_resource, what=resource.label, ResourceArn=arn, TagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        missing(
            aws.client("dynamodb").delete_table,
            ("ResourceNotFoundException",),
            what=f"DynamoDB table {name}",
            TableName=name,
        )


def _wait_until_active(dynamodb: Any, resource: Resource) -> None:
    """The state machine may run as soon as `create` ends: wait until the table takes writes."""
    waited, delay = 0.0, 0.5
    while True:
        status = call(dynamodb.describe_table, what=resource.label, TableName=resource.name)["Table"]["TableStatus"]
        if status == "ACTIVE":
            return
        if waited >= ACTIVE_PATIENCE_SECONDS:
            raise AwsError(f"{resource.label} is still {status} after {int(waited)} s: run create again")
        time.sleep(delay)
        waited += delay
        delay = min(delay * 2, 5.0)
