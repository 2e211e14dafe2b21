"""The alert topic: one sfn-build makes, or a statement in the policy of an existing one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ...naming import TAG_WORKFLOW
from ..aws import Aws, AwsError, call, missing
from ..locks import held
from ..resources import TOPIC, TOPIC_STATEMENT, Resource
from .base import Driver, check_owner, tag_changes, tag_dict, tag_list

PENDING = "PendingConfirmation"
WRITE_ATTEMPTS = 5


class TopicDriver(Driver):
    kind = TOPIC

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        sns, arn = aws.client("sns"), aws.arn("sns", name)
        found = missing(sns.get_topic_attributes, ("NotFound",), what=f"SNS topic {name}", TopicArn=arn)
        if found is None:
            return None
        tags = tag_dict(call(sns.list_tags_for_resource, what=f"SNS topic {name}", ResourceArn=arn)["Tags"])
        check_owner(self.kind, name, tags, workflow)
        return {
            "policy": json.loads(found["Attributes"].get("Policy", "{}")),
            "subscriptions": sorted([s["Protocol"], s["Endpoint"]] for s in _subscriptions(sns, arn)),
            "tags": tags,
        }

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        tagging = aws.client("resourcegroupstaggingapi")
        pages = tagging.get_paginator("get_resources").paginate(
            ResourceTypeFilters=["sns"], TagFilters=[{"Key": TAG_WORKFLOW, "Values": [workflow]}]
        )
        found = call(lambda: list(pages), what="tagged SNS topics")
        return [item["ResourceARN"].rsplit(":", 1)[1] for page in found for item in page["ResourceTagMappingList"]]

    def create(self, aws: Aws, resource: Resource) -> None:
        sns, spec = aws.client("sns"), resource.spec
        arn = call(
            sns.create_topic,
            what=resource.label,
            Name=resource.name,
            Tags=tag_list(spec["tags"]),
            Attributes={"Policy": json.dumps(spec["policy"])},
        )["TopicArn"]
        for protocol, endpoint in spec["subscriptions"]:
            call(sns.subscribe, what=resource.label, TopicArn=arn, Protocol=protocol, Endpoint=endpoint)

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        sns, spec, arn = aws.client("sns"), resource.spec, aws.arn("sns", resource.name)
        if spec["policy"] != actual["policy"]:
            call(
                sns.set_topic_attributes,
                what=resource.label,
                TopicArn=arn,
                AttributeName="Policy",
                AttributeValue=json.dumps(spec["policy"]),
            )
        wanted = {tuple(s) for s in spec["subscriptions"]}
        for subscription in _subscriptions(sns, arn):
            pair = (subscription["Protocol"], subscription["Endpoint"])
            if pair in wanted:
                wanted.discard(pair)
            elif subscription["SubscriptionArn"] != PENDING:  # AWS lets unconfirmed ones expire by themselves
                call(sns.unsubscribe, what=resource.label, SubscriptionArn=subscription["SubscriptionArn"])
        for protocol, endpoint in sorted(wanted):
            call(sns.subscribe, what=resource.label, TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        to_set, to_remove = tag_changes(spec["tags"], actual["tags"])
        if to_set:
            call(sns.tag_resource, what=resource.label, ResourceArn=arn, Tags=tag_list(to_set))
        if to_remove:
            call(sns.untag_resource, what=resource.label, ResourceArn=arn, TagKeys=to_remove)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        call(aws.client("sns").delete_topic, what=f"SNS topic {name}", TopicArn=aws.arn("sns", name))


class TopicStatementDriver(Driver):
    """This workflow's statement in the policy of a topic it does not own (named by ARN)."""

    kind = TOPIC_STATEMENT

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        policy = _policy(aws, name)
        statement = next((s for s in policy.get("Statement", []) if s.get("Sid") == _sid_in(name, workflow)), None)
        return {"statement": statement} if statement else None

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        return []  # found through the state machine's sfn-build:alert-topic tag (see changes)

    def create(self, aws: Aws, resource: Resource) -> None:
        self._write(aws, resource.name, resource.spec["statement"])

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        self._write(aws, resource.name, resource.spec["statement"])

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        self._write(aws, name, None, _sid_in(name, workflow))

    def _write(self, aws: Aws, topic: str, statement: dict[str, Any] | None, sid: str | None = None) -> None:
        """Read, change and write the topic's policy under a lock; then check the statement is as
        written (someone outside sfn-build may edit the policy at the same moment): if not, again."""
        sid = sid or (statement or {}).get("Sid")
        key = "topic-" + hashlib.sha256(topic.encode()).hexdigest()[:40]
        with held(aws, key, f"the policy of SNS topic {topic}"):
            for _ in range(WRITE_ATTEMPTS):
                policy = _policy(aws, topic) or {"Version": "2012-10-17", "Statement": []}
                statements = [s for s in policy.get("Statement", []) if s.get("Sid") != sid]
                if statement is not None:
                    statements.append(statement)
                policy["Statement"] = statements
                call(
                    aws.client("sns").set_topic_attributes,
                    what=f"the policy of SNS topic {topic}",
                    TopicArn=topic,
                    AttributeName="Policy",
                    AttributeValue=json.dumps(policy),
                )
                found = [s for s in _policy(aws, topic).get("Statement", []) if s.get("Sid") == sid]
                if found == ([statement] if statement is not None else []):
                    return
        raise AwsError(
            f"the policy of SNS topic {topic} kept changing while sfn-build wrote its statement {sid}: "
            "something else edits it at the same time; run the command again"
        )


def _policy(aws: Aws, topic: str) -> dict[str, Any]:
    found = missing(aws.client("sns").get_topic_attributes, ("NotFound",), what=f"SNS topic {topic}", TopicArn=topic)
    if found is None:
        raise AwsError(
            f"the notification topic {topic} does not exist: create it, or let sfn-build make one "
            "(notifications.topic: {name: ...})"
        )
    return json.loads(found["Attributes"].get("Policy", "{}"))


def _sid_in(topic: str, workflow: str) -> str:
    from ..resources import rules_statement

    return rules_statement(workflow, topic, [])["Sid"]


def _subscriptions(sns: Any, arn: str) -> list[dict[str, Any]]:
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
    return [s for page in call(lambda: list(pages), what=f"subscriptions of {arn}") for s in page["Subscriptions"]]
