"""The state machine itself."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from ...asl import compact
from ...naming import part_machine
from ..aws import Aws, AwsError, call, missing
from ..resources import STATE_MACHINE, Resource, normalised_logging
from .base import Driver, check_owner, retry_while_propagating, tag_changes, tag_dict, tag_list

_PART = re.compile(r"-part-(\d{1,6})\Z")


class StateMachineDriver(Driver):
    kind = STATE_MACHINE

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        sfn = aws.client("stepfunctions")
        arn = aws.arn("states", f"stateMachine:{name}")
        found = missing(
            sfn.describe_state_machine, ("StateMachineDoesNotExist",), what=f"state machine {name}", stateMachineArn=arn
        )
        if found is None or found.get("status") == "DELETING":
            return None
        tags = tag_dict(
            call(sfn.list_tags_for_resource, what=f"state machine {name}", resourceArn=arn)["tags"], "key", "value"
        )
        check_owner(self.kind, name, tags, workflow)
        return {
            "definition": json.loads(found["definition"]),
            "role": found["roleArn"],
            "type": found["type"],
            "logging": normalised_logging(found.get("loggingConfiguration")),
            "tags": tags,
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        """The workflow's state machine and its parts' (`<workflow>-part-N`, module `split`)."""
        names = [workflow] if self.owns(aws, workflow, workflow) else []
        paginator = aws.client("stepfunctions").get_paginator("list_state_machines")
        pages = call(lambda: list(paginator.paginate()), what="the state machines")
        for page in pages:
            for machine in page["stateMachines"]:
                name = machine["name"]
                number = _PART.search(name)
                if number and name == part_machine(workflow, int(number.group(1))) and self.owns(aws, name, workflow):
                    names.append(name)
        return names

    def create(self, aws: Aws, resource: Resource) -> None:
        sfn, spec = aws.client("stepfunctions"), resource.spec
        arguments = {
            "name": resource.name,
            "definition": compact(spec["definition"]),
            "roleArn": spec["role"],
            "type": spec["type"],
            "loggingConfiguration": spec["logging"],
            "tags": tag_list(spec["tags"], "key", "value"),
        }
        for _ in range(30):  # a state machine deleted a moment ago keeps its name while DELETING
            try:
                retry_while_propagating(lambda: sfn.create_state_machine(**arguments), what=resource.label)
                return
            except AwsError as error:
                if "StateMachineDeleting" not in str(error):
                    raise
                time.sleep(2)
        raise AwsError(f"the {resource.label} is still being deleted by AWS: run create again in a minute")

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        sfn, spec = aws.client("stepfunctions"), resource.spec
        arn = aws.arn("states", f"stateMachine:{resource.name}")
        if spec["type"] != actual["type"]:  # the type cannot be changed in place
            self.delete(aws, resource.name, resource.name)
            self.create(aws, resource)
            return
        changes: dict[str, Any] = {}
        if spec["definition"] != actual["definition"]:
            changes["definition"] = compact(spec["definition"])
        if spec["role"] != actual["role"]:
            changes["roleArn"] = spec["role"]
        if spec["logging"] != actual["logging"]:
            changes["loggingConfiguration"] = spec["logging"]
        if changes:
            retry_while_propagating(
                lambda: sfn.update_state_machine(stateMachineArn=arn, **changes), what=resource.label
            )
        to_set, to_remove = tag_changes(spec["tags"], actual["tags"])
        if to_set:
            call(sfn.tag_resource, what=resource.label, resourceArn=arn, tags=tag_list(to_set, "key", "value"))
        if to_remove:
            call(sfn.untag_resource, what=resource.label, resourceArn=arn, tagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(
            aws.client("stepfunctions").delete_state_machine,
            what=f"state machine {name}",
            stateMachineArn=aws.arn("states", f"stateMachine:{name}"),
        )

