"""The alert topic's subscriptions: an endpoint SNS accepts for its protocol, and what SNS needs
beyond the subscription to deliver there.

SNS refuses a malformed endpoint only when `create` subscribes it (after the topic and rules
exist), and accepts a queue or function that then never receives an alert: both are said here,
at the endpoint's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .model import Notifications
from .problems import Problem, Severity


def _arn(service: str, resource: str) -> re.Pattern[str]:
    """An ARN of the service's resource, in any partition and region."""
    return re.compile(rf"arn:aws[a-z\-]*:{service}:[a-z0-9\-]+:\d{{12}}:{resource}\Z")


_EMAIL = (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z"), "an e-mail address", "ml-oncall@example.com")
_ADDRESSES = {  # protocol: (pattern, what it is, an example)
    "email": _EMAIL,
    "email-json": _EMAIL,
    "sms": (re.compile(r"\+?[0-9][0-9 \-]{5,18}[0-9]\Z"), "a phone number", "+15555550100"),
    "http": (re.compile(r"http://[^\s/]+\S*\Z"), "an http:// URL", "http://alerts.example.com/hook"),
    "https": (re.compile(r"https://[^\s/]+\S*\Z"), "an https:// URL", "https://alerts.example.com/hook"),
    "sqs": (_arn("sqs", r"[\w\-]{1,80}(\.fifo)?"), "an SQS queue ARN", "arn:aws:sqs:eu-west-1:111122223333:ml-alerts"),
    "lambda": (
        _arn("lambda", r"function:[\w\-]{1,64}(:[\w\-$]+)?"),
        "a Lambda function ARN",
        "arn:aws:lambda:eu-west-1:111122223333:function:page-oncall",
    ),
    "firehose": (
        _arn("firehose", r"deliverystream/[\w.\-]{1,64}"),
        "a Firehose delivery stream ARN",
        "arn:aws:firehose:eu-west-1:111122223333:deliverystream/ml-alerts",
    ),
    "application": (
        _arn("sns", r"endpoint/\S+"),
        "a mobile platform endpoint ARN",
        "arn:aws:sns:eu-west-1:111122223333:endpoint/GCM/ml-oncall/0123abcd-4567-89ef-0123-456789abcdef",
    ),
}
# What the receiving end must allow before SNS can deliver an alert there (`create` does not change it).
_GRANTS = {
    "sqs": "the queue's policy must let sns.amazonaws.com send messages (sqs:SendMessage) from this topic",
    "lambda": "the function's policy must let sns.amazonaws.com invoke it (lambda:InvokeFunction) from this topic",
}


def subscription_problems(notifications: Notifications | None) -> Iterator[Problem]:
    """Each subscription's endpoint against its protocol."""
    if notifications is None:
        return
    for n, subscription in enumerate(notifications.subscriptions):
        path = ("notifications", "topic", "subscriptions", n, "endpoint")
        protocol, endpoint = subscription.protocol, subscription.endpoint
        if protocol not in _ADDRESSES:
            continue
        pattern, what, example = _ADDRESSES[protocol]
        if not pattern.match(endpoint):
            yield Problem(f"{protocol} subscriptions deliver to {what}, not {endpoint!r}", path, hint=f"e.g. {example}")
        elif protocol == "firehose":
            yield Problem(
                "SNS delivers to a Firehose stream only through a subscription role, which sfn-build does not make",
                path,
                hint="subscribe the stream to the topic yourself, or deliver to an sqs or lambda endpoint",
            )
        elif protocol in _GRANTS:
            yield Problem(
                f"alerts reach {endpoint} only if {_GRANTS[protocol]}",
                path,
                hint="grant it where the queue or function is defined: create subscribes it and changes nothing there",
                severity=Severity.WARNING,
            )
