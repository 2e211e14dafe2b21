"""State machine aliases: the workflow's (`<workflow>:live`), which the schedules start, and its parts'.

Its desired spec names the revision (module `resources`) the alias must route
all executions to; what it routes to now is read back with the versions there
are. Creating or updating it publishes a version when none holds the revision,
moves the alias (module `rollout`), and removes versions beyond the ones kept.

A split workflow's definition starts each part by an alias named after the
part's definition (`<part>:r-<digest>`), so each version of the workflow runs
the parts it was published with, a rolled-back one too. Those aliases are
added with the workflow's alias; when it moves, the parts' aliases that no kept
version of the workflow starts are removed, and then their unused versions.
"""

from __future__ import annotations

from typing import Any

from ..aws import Aws, call
from ..resources import ALIAS, Resource
from ..rollout import (
    aliases,
    deploy,
    deployment_of,
    prune,
    prune_part_aliases,
    read_alias,
    routes,
    version_for,
    version_revision,
)
from .base import Driver, check_owner, tag_dict
from .state_machine import StateMachineDriver


class AliasDriver(Driver):
    kind = ALIAS

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        machine_arn = _machine_arn(aws, name)
        alias = read_alias(aws, _alias_arn(aws, name))
        if alias is None:
            return None
        tags = call(
            aws.client("stepfunctions").list_tags_for_resource, what=f"state machine {name}", resourceArn=machine_arn
        )
        check_owner(self.kind, name, tag_dict(tags["tags"], "key", "value"), workflow)
        looked_at = {*alias.routing, *alias.versions[-1:]}
        return {
            "routing": alias.routing,
            "versions": alias.versions,
            "revisions": {number: version_revision(aws, machine_arn, number) for number in sorted(looked_at)},
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        """The aliases of the workflow's state machine, when it is the workflow's."""
        if not StateMachineDriver().owns(aws, workflow, workflow):
            return []
        machine = aws.arn("states", f"stateMachine:{workflow}")
        return [f"{workflow}:{item['stateMachineAliasArn'].rsplit(':', 1)[1]}" for item in aliases(aws, machine)]

    def differs(self, actual: dict[str, Any], spec: dict[str, Any]) -> bool:
        """Unless the alias routes every execution to a version holding the spec's revision."""
        routing = actual["routing"]
        return len(routing) != 1 or actual["revisions"][next(iter(routing))] != spec["revision"]

    def change_details(self, actual: dict[str, Any] | None, spec: dict[str, Any]) -> list[str]:
        how = deployment_of(spec["deployment"])
        if actual is None:
            return ["routes to the version of this spec (published by create)"]
        now = routes(actual["routing"])
        newest = actual["versions"][-1] if actual["versions"] else 0
        if actual["revisions"].get(newest) == spec["revision"]:
            target = f"version {newest}"
            older = actual["versions"]
        else:
            target = f"version {newest + 1} (new)"
            older = [*actual["versions"], newest + 1]
        lines = [f"routes: {now} -> {target}" + ("" if how.type == "all_at_once" else f", {how.describe()}")]
        kept = spec["keep_versions"]
        removed = older[: max(0, len(older) - kept)]  # once the alias routes to the newest
        if removed:
            lines.append(f"removes versions {', '.join(map(str, removed))} (keeps the newest {kept})")
        return lines

    def create(self, aws: Aws, resource: Resource) -> None:
        self._roll_out(aws, resource)

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        self._roll_out(aws, resource)

    def _roll_out(self, aws: Aws, resource: Resource) -> None:
        machine_arn, alias_arn = _machine_arn(aws, resource.name), _alias_arn(aws, resource.name)
        target = version_for(aws, machine_arn, resource.spec["revision"])
        deployment = deployment_of(resource.spec["deployment"])
        deploy(aws, read_alias(aws, alias_arn), alias_arn, target, deployment, waits=not aws.local)
        prune(aws, machine_arn, resource.spec["keep_versions"])
        if resource.spec.get("parts"):
            prune_part_aliases(aws, machine_arn, resource.spec["parts"], resource.spec["keep_versions"])

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(
            aws.client("stepfunctions").delete_state_machine_alias,
            what=f"state machine alias {name}",
            stateMachineAliasArn=_alias_arn(aws, name),
        )


def _machine_arn(aws: Aws, name: str) -> str:
    return aws.arn("states", f"stateMachine:{name.rsplit(':', 1)[0]}")


def _alias_arn(aws: Aws, name: str) -> str:
    return aws.arn("states", f"stateMachine:{name}")
