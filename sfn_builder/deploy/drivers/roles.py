"""IAM roles under /sfn-build/<workflow>/, with inline policies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from ..aws import Aws, call, missing
from ..resources import ROLE, Resource, role_path
from .base import Driver, check_owner, tag_changes, tag_dict, tag_list


class RoleDriver(Driver):
    kind = ROLE

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        iam = aws.client("iam")
        found = missing(iam.get_role, ("NoSuchEntity",), what=f"IAM role {name}", RoleName=name)
        if found is None:
            return None
        role = found["Role"]
        tags = tag_dict(role.get("Tags"))
        check_owner(self.kind, name, tags, workflow)
        policies = {}
        for policy_name in call(iam.list_role_policies, what=f"IAM role {name}", RoleName=name)["PolicyNames"]:
            document = call(iam.get_role_policy, what=f"IAM role {name}", RoleName=name, PolicyName=policy_name)
            policies[policy_name] = _document(document["PolicyDocument"])
        return {
            "path": role["Path"],
            "description": role.get("Description", ""),
            "trust": _document(role["AssumeRolePolicyDocument"]),
            "policies": policies,
            "tags": tags,
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        pages = aws.client("iam").get_paginator("list_roles").paginate(PathPrefix=role_path(workflow))
        found = [role["RoleName"] for page in call(lambda: list(pages), what="IAM roles") for role in page["Roles"]]
        return [name for name in found if self.owns(aws, name, workflow)]

    def create(self, aws: Aws, resource: Resource) -> None:
        iam, spec = aws.client("iam"), resource.spec
        call(
            iam.create_role,
            what=resource.label,
            RoleName=resource.name,
            Path=spec["path"],
            Description=spec["description"],
            AssumeRolePolicyDocument=json.dumps(spec["trust"]),
            Tags=tag_list(spec["tags"]),
        )
        for policy_name, document in spec["policies"].items():
            call(
                iam.put_role_policy,
                what=resource.label,
                RoleName=resource.name,
                PolicyName=policy_name,
                PolicyDocument=json.dumps(document),
            )

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        iam, spec, name = aws.client("iam"), resource.spec, resource.name
        if spec["trust"] != actual["trust"]:
            call(
                iam.update_assume_role_policy,
                what=resource.label,
                RoleName=name,
                PolicyDocument=json.dumps(spec["trust"]),
            )
        if spec["description"] != actual["description"]:
            call(iam.update_role, what=resource.label, RoleName=name, Description=spec["description"])
        for policy_name, document in spec["policies"].items():
            if actual["policies"].get(policy_name) != document:
                call(
                    iam.put_role_policy,
                    what=resource.label,
                    RoleName=name,
                    PolicyName=policy_name,
                    PolicyDocument=json.dumps(document),
                )
        for policy_name in actual["policies"]:
            if policy_name not in spec["policies"]:
                call(iam.delete_role_policy, what=resource.label, RoleName=name, PolicyName=policy_name)
        to_set, to_remove = tag_changes(spec["tags"], actual["tags"])
        if to_set:
            call(iam.tag_role, what=resource.label, RoleName=name, Tags=tag_list(to_set))
        if to_remove:
            call(iam.untag_role, what=resource.label, RoleName=name, TagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        iam = aws.client("iam")
        for policy_name in call(iam.list_role_policies, what=f"IAM role {name}", RoleName=name)["PolicyNames"]:
            missing(
                iam.delete_role_policy,
                ("NoSuchEntity",),
                what=f"IAM role {name}",
                RoleName=name,
                PolicyName=policy_name,
            )
        call(iam.delete_role, what=f"IAM role {name}", RoleName=name)


def _document(value: Any) -> dict[str, Any]:
    """IAM returns policy documents URL-encoded (boto3 decodes them, moto sometimes not)."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value
