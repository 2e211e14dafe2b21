"""The Batch job definitions of batch steps with `secrets:` (Batch injects secrets only from a job definition).

Each is a copy of the step's own `job_definition` (its latest ACTIVE revision, or the revision it
names) with the secrets added to its container, registered as `<workflow>-<step>`; the step submits
that name, so its newest revision. The copy remembers what it copied in two tags, so `plan` sees
both a change of the secrets and a new revision of the job definition it copies; `create` then
registers a new revision and deregisters the older ones. On the local emulator a job definition
that does not exist is copied as a stand-in container (no job runs there).
"""

from __future__ import annotations

import re
from typing import Any

from ...naming import TAG_WORKFLOW
from ..aws import Aws, AwsError, call
from ..resources import JOB_DEFINITION, Resource
from .base import Driver, check_owner

COPY_OF = "sfn-build:copy-of"  # the job definition as the spec names it
COPIED = "sfn-build:copied-revision"  # the ARN, with its revision, of what was copied
_REVISION = re.compile(r":(\d+)\Z")
LOCAL_STAND_IN = {
    "image": "public.ecr.aws/docker/library/busybox:stable",  # never pulled: the emulator simulates jobs
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
}
_COPIED_FIELDS = ("parameters", "retryStrategy", "timeout", "platformCapabilities", "propagateTags")


class JobDefinitionDriver(Driver):
    kind = JOB_DEFINITION

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        revisions = _active(aws, name)
        if not revisions:
            return None
        latest = revisions[-1]
        tags = dict(latest.get("tags") or {})
        check_owner(self.kind, name, tags, workflow)
        base = tags.pop(COPY_OF, "")
        copied = tags.pop(COPIED, "")
        source = _source(aws, base) if base else None
        return {
            "base": base,
            "secrets": _sorted(latest.get("containerProperties", {}).get("secrets", [])),
            "tags": tags,
            "copied": copied,
            "current": source["jobDefinitionArn"] if source else None,
        }

    def differs(self, actual: dict[str, Any], spec: dict[str, Any]) -> bool:
        mine = {key: actual[key] for key in ("base", "secrets", "tags")}
        return mine != spec or actual["copied"] != actual["current"]

    def change_details(self, actual: dict[str, Any] | None, spec: dict[str, Any]) -> list[str] | None:
        names = ", ".join(secret["name"] for secret in spec["secrets"])
        lines = [f"a copy of {spec['base']} with the secrets {names}"]
        if actual is not None and actual["copied"] != actual["current"]:
            lines.append(f"copied from {actual['copied']}, which is now {actual['current'] or 'gone'}")
        return lines

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        batch, names = aws.client("batch"), set()
        token: str | None = None
        while True:
            page = call(
                batch.describe_job_definitions,
                what="Batch job definitions",
                status="ACTIVE",
                **({"nextToken": token} if token else {}),
            )
            for definition in page.get("jobDefinitions", []):
                tags = definition.get("tags") or {}
                if tags.get(TAG_WORKFLOW) == workflow and COPY_OF in tags:
                    names.add(definition["jobDefinitionName"])
            token = page.get("nextToken")
            if not token:
                return sorted(names)

    def create(self, aws: Aws, resource: Resource) -> None:
        spec = resource.spec
        source = _source(aws, spec["base"])
        if source is None and aws.local:  # the emulator runs no job: a stand-in container will do
            source = {"type": "container", "containerProperties": LOCAL_STAND_IN, "jobDefinitionArn": spec["base"]}
        if source is None:
            raise AwsError(
                f"the Batch job definition {spec['base']} (job_definition of a step with secrets) has no ACTIVE "
                "revision: register it, or name one that exists"
            )
        if source.get("type") != "container" or "containerProperties" not in source:
            raise AwsError(
                f"the Batch job definition {spec['base']} is not a single-container job definition: secrets: can be "
                "added to container job definitions only (put them in its own definition instead)"
            )
        container = dict(source["containerProperties"])
        secrets = {secret["name"]: secret for secret in container.get("secrets", [])}
        secrets.update({secret["name"]: secret for secret in spec["secrets"]})
        container["secrets"] = list(secrets.values())
        tags = {**spec["tags"], COPY_OF: spec["base"], COPIED: source["jobDefinitionArn"]}
        copied = {field: source[field] for field in _COPIED_FIELDS if source.get(field) not in (None, {}, [])}
        registered = call(
            aws.client("batch").register_job_definition,
            what=resource.label,
            jobDefinitionName=resource.name,
            type="container",
            containerProperties=container,
            tags=tags,
            **copied,
        )
        for older in _active(aws, resource.name):
            if older["revision"] != registered["revision"]:
                call(
                    aws.client("batch").deregister_job_definition,
                    what=resource.label,
                    jobDefinition=older["jobDefinitionArn"],
                )

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        self.create(aws, resource)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        for revision in _active(aws, name):
            call(
                aws.client("batch").deregister_job_definition,
                what=f"Batch job definition {name}",
                jobDefinition=revision["jobDefinitionArn"],
            )


def _active(aws: Aws, name: str) -> list[dict[str, Any]]:
    """The ACTIVE revisions of a job definition, oldest first."""
    found = call(
        aws.client("batch").describe_job_definitions,
        what=f"Batch job definition {name}",
        jobDefinitionName=name,
        status="ACTIVE",
    )["jobDefinitions"]
    return sorted(found, key=lambda definition: definition["revision"])


def _source(aws: Aws, written: str) -> dict[str, Any] | None:
    """The job definition a spec names (`name`, `name:3` or an ARN): that revision, else the newest ACTIVE one."""
    name = written.rsplit("/", 1)[-1]
    revision = _REVISION.search(name)
    if revision is None:
        revisions = _active(aws, name)
        return revisions[-1] if revisions else None
    found = call(
        aws.client("batch").describe_job_definitions, what=f"Batch job definition {written}", jobDefinitions=[written]
    )["jobDefinitions"]
    return found[0] if found else None


def _sorted(secrets: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(({"name": s["name"], "valueFrom": s["valueFrom"]} for s in secrets), key=lambda s: s["name"])
