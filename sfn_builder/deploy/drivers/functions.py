"""sfn-build's Lambda functions (the alert formatter, the cache lookup), and EventBridge's permission to
invoke the formatter."""

from __future__ import annotations

import json
from typing import Any

from ..aws import Aws, call, missing
from ..resources import FUNCTION, Resource, function_module, package_zip
from .base import Driver, check_owner, retry_while_propagating, tag_changes

_CONFIG = ("runtime", "handler", "role", "timeout", "environment")


class FunctionDriver(Driver):
    kind = FUNCTION

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        lam = aws.client("lambda")
        found = missing(
            lam.get_function, ("ResourceNotFoundException",), what=f"Lambda function {name}", FunctionName=name
        )
        if found is None:
            return None
        tags = found.get("Tags", {})
        check_owner(self.kind, name, tags, workflow)
        config = found["Configuration"]
        return {
            "runtime": config["Runtime"],
            "handler": config["Handler"],
            "role": config["Role"],
            "timeout": config["Timeout"],
            "environment": config.get("Environment", {}).get("Variables", {}),
            "code_sha256": config["CodeSha256"],
            "invokers": _invokers(lam, name),
            "tags": tags,
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        from ...naming import CACHE_LOOKUP, resource_name

        names = [resource_name(workflow, "alert-formatter"), resource_name(workflow, CACHE_LOOKUP)]
        return [name for name in names if self.owns(aws, name, workflow)]

    def create(self, aws: Aws, resource: Resource) -> None:
        lam, spec = aws.client("lambda"), resource.spec
        retry_while_propagating(
            lambda: lam.create_function(
                FunctionName=resource.name,
                Runtime=spec["runtime"],
                Role=spec["role"],
                Handler=spec["handler"],
                Code={"ZipFile": _package(spec)},
                Timeout=spec["timeout"],
                Environment={"Variables": spec["environment"]},
                Tags=spec["tags"],
            ),
            what=resource.label,
        )
        self._permissions(aws, resource, [])

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        lam, spec = aws.client("lambda"), resource.spec
        if spec["code_sha256"] != actual["code_sha256"]:
            call(lam.update_function_code, what=resource.label, FunctionName=resource.name, ZipFile=_package(spec))
        if any(spec[k] != actual[k] for k in _CONFIG):
            retry_while_propagating(
                lambda: lam.update_function_configuration(
                    FunctionName=resource.name,
                    Runtime=spec["runtime"],
                    Role=spec["role"],
                    Handler=spec["handler"],
                    Timeout=spec["timeout"],
                    Environment={"Variables": spec["environment"]},
                ),
                what=resource.label,
            )
        if spec["invokers"] != actual["invokers"]:
            self._permissions(aws, resource, actual["invokers"])
        arn = aws.arn("lambda", f"function:{resource.name}")
        to_set, to_remove = tag_changes(spec["tags"], actual["tags"])
        if to_set:
            call(lam.tag_resource, what=resource.label, Resource=arn, Tags=to_set)
        if to_remove:
            call(lam.untag_resource, what=resource.label, Resource=arn, TagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(aws.client("lambda").delete_function, what=f"Lambda function {name}", FunctionName=name)

    def _permissions(self, aws: Aws, resource: Resource, current: list[str]) -> None:
        """Let exactly the workflow's rules invoke the function (a retried call finding its own work goes on)."""
        lam = aws.client("lambda")
        for rule_arn in current:
            if rule_arn not in resource.spec["invokers"]:
                missing(
                    lam.remove_permission,
                    ("ResourceNotFoundException",),
                    what=resource.label,
                    FunctionName=resource.name,
                    StatementId=_statement_id(rule_arn),
                )
        for rule_arn in resource.spec["invokers"]:
            if rule_arn not in current:
                missing(
                    lam.add_permission,
                    ("ResourceConflictException",),
                    what=resource.label,
                    FunctionName=resource.name,
                    StatementId=_statement_id(rule_arn),
                    Action="lambda:InvokeFunction",
                    Principal="events.amazonaws.com",
                    SourceArn=rule_arn,
                )


def _package(spec: dict[str, Any]) -> bytes:
    """The code of one of sfn-build's functions: the module its handler names."""
    return package_zip(function_module(spec["handler"]))


def _statement_id(rule_arn: str) -> str:
    return "events-" + rule_arn.rsplit("/", 1)[1]


def _invokers(lam: Any, name: str) -> list[str]:
    found = missing(lam.get_policy, ("ResourceNotFoundException",), what=f"Lambda function {name}", FunctionName=name)
    if found is None:
        return []
    arns = []
    for statement in json.loads(found["Policy"]).get("Statement", []):
        source = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
        if statement.get("Sid", "").startswith("events-") and source:
            arns.append(source)
    return sorted(set(arns))
