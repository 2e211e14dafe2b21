"""The publish operations the CLI offers: plan, create, delete."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..model import Workflow
from ..steps.base import Arns
from . import local
from .aws import Aws, AwsError, Target
from .changes import Change, apply_changes, plan_changes, removal_changes
from .locks import held
from .resources import Resource, desired_resources, state_machine_arn


@dataclass
class Publication:
    """A workflow, where it goes, what it needs there, and what must change."""

    workflow: Workflow
    aws: Aws
    resources: list[Resource]
    changes: list[Change]

    @property
    def state_machine_arn(self) -> str:
        return state_machine_arn(self.workflow, arns_of(self.aws))


def connect(target: Target) -> Aws:
    """AWS clients for the target; with --local, the emulator (started if need be)."""
    if target.local:
        emulator = local.start()
        target = Target(region=target.region, endpoint_url=emulator.url, local=True)
    return Aws.connect(target)


def arns_of(aws: Aws) -> Arns:
    return Arns(aws.partition, aws.region, aws.account)


def locked(aws: Aws, workflow_name: str) -> AbstractContextManager[None]:
    """Hold the workflow's lock (module `locks`) while planning and applying its changes."""
    return held(aws, f"workflow-{workflow_name}", f"the workflow {workflow_name}")


def prepare(
    workflow: Workflow, definition: dict[str, Any], aws: Aws, parts: dict[int, dict[str, Any]] | None = None
) -> Publication:
    _topic_in_region(workflow, aws.region)
    resources = desired_resources(workflow, definition, arns_of(aws), parts)
    return Publication(workflow, aws, resources, plan_changes(aws, workflow, resources))


def _topic_in_region(workflow: Workflow, region: str) -> None:
    """An existing alert topic must be in the region the workflow goes to: EventBridge rules deliver
    to other regions' event buses only, and sfn-build edits the topic's policy there."""
    topic = workflow.notifications.topic_arn if workflow.notifications else None
    topic_region = topic.split(":")[3] if topic and topic.count(":") >= 5 else region
    if topic_region != region:
        raise AwsError(
            f"the notification topic {topic} is in {topic_region}, but this workflow is published to {region}: "
            f"EventBridge rules deliver only to topics in their own region. Use a topic in {region}, let sfn-build "
            f"make one (notifications.topic: {{name: ...}}), or publish with --region {topic_region}"
        )


def apply(publication: Publication, report: Callable[[Change], None]) -> None:
    apply_changes(publication.aws, publication.workflow.name, publication.changes, report)


def plan_removal(aws: Aws, workflow_name: str) -> list[Change]:
    return removal_changes(aws, workflow_name)


def remove(aws: Aws, workflow_name: str, changes: list[Change], report: Callable[[Change], None]) -> None:
    apply_changes(aws, workflow_name, changes, report)
