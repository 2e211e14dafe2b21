"""State machine versions and the alias that routes executions to them.

`create` publishes the state machine's revision as a version when no version
holds it yet and moves the alias to it: at once, or gradually (canary or
linear, watching CloudWatch alarms and moving back when one goes off). Older
versions beyond the ones kept are removed. `rollback` moves the alias to an
earlier version. Running executions keep the version they started with.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import Deployment
from ..naming import PART_ALIAS
from .aws import Aws, AwsError, call, missing
from .resources import normalised_logging, revision

ALARM_POLL_SECONDS = 30.0


@dataclass(frozen=True)
class Alias:
    """An alias as it is: the versions it routes to (number -> percent) and every version there is."""

    arn: str
    routing: dict[int, int]
    versions: list[int]

    @property
    def version(self) -> int:
        return primary(self.routing)


def primary(routing: dict[int, int]) -> int:
    """The version that gets the most executions (the newest of equals)."""
    return max(routing, key=lambda number: (routing[number], number))


def machine_arn_of(alias_arn: str) -> str:
    return alias_arn.rsplit(":", 1)[0]


def version_arn(machine_arn: str, number: int) -> str:
    return f"{machine_arn}:{number}"


def number_of(version_arn: str) -> int:
    return int(version_arn.rsplit(":", 1)[1])


def read_alias(aws: Aws, alias_arn: str) -> Alias | None:
    """The alias, with the versions there are (None when it or its state machine does not exist)."""
    routing = routing_of(aws, alias_arn)
    if routing is None:
        return None
    return Alias(alias_arn, routing, versions(aws, machine_arn_of(alias_arn)))


def routing_of(aws: Aws, alias_arn: str) -> dict[int, int] | None:
    """The versions the alias routes to (number -> percent); None when it does not exist."""
    found = missing(
        aws.client("stepfunctions").describe_state_machine_alias,
        ("ResourceNotFound", "StateMachineDoesNotExist"),
        what=f"state machine alias {alias_arn}",
        stateMachineAliasArn=alias_arn,
    )
    if found is None:
        return None
    return {number_of(r["stateMachineVersionArn"]): r["weight"] for r in found["routingConfiguration"]}


def versions(aws: Aws, machine_arn: str) -> list[int]:
    """The state machine's version numbers, oldest first."""
    listed = every(
        aws.client("stepfunctions").list_state_machine_versions,
        "stateMachineVersions",
        what=f"the versions of {machine_arn}",
        stateMachineArn=machine_arn,
    )
    return sorted(number_of(v["stateMachineVersionArn"]) for v in listed)


def every(operation: Callable[..., Any], key: str, *, what: str, **kwargs: Any) -> list[dict[str, Any]]:
    """All the items of a listing that botocore has no paginator for, page by page."""
    items: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = call(operation, what=what, **kwargs, **token)
        items.extend(page[key])
        if not page.get("nextToken"):
            return items
        token = {"nextToken": page["nextToken"]}


def version_revision(aws: Aws, machine_arn: str, number: int) -> str:
    """What a version holds, as `resources.revision` digests it."""
    arn = version_arn(machine_arn, number)
    found = call(aws.client("stepfunctions").describe_state_machine, what=f"version {arn}", stateMachineArn=arn)
    return revision(
        {
            "definition": json.loads(found["definition"]),
            "role": found["roleArn"],
            "logging": normalised_logging(found.get("loggingConfiguration")),
            "type": found["type"],
        }
    )


def version_for(aws: Aws, machine_arn: str, wanted: str) -> int:
    """The version holding the revision `wanted`: the newest one if it does, else one published now
    from the state machine (which `create` has just updated)."""
    sfn = aws.client("stepfunctions")
    existing = versions(aws, machine_arn)
    if existing and version_revision(aws, machine_arn, existing[-1]) == wanted:
        return existing[-1]
    published = call(
        sfn.publish_state_machine_version,
        what=f"state machine {machine_arn} (PublishStateMachineVersion)",
        stateMachineArn=machine_arn,
        description=f"published by sfn-build ({wanted})",
    )
    number = number_of(published["stateMachineVersionArn"])
    if version_revision(aws, machine_arn, number) != wanted:
        raise AwsError(
            f"the state machine {machine_arn} changed while sfn-build published it: run `sfn-build create` again"
        )
    return number


def route(aws: Aws, alias_arn: str, routing: dict[int, int], *, exists: bool) -> None:
    """Point the alias at these versions (number -> percent), creating it when it does not exist."""
    sfn = aws.client("stepfunctions")
    machine_arn = machine_arn_of(alias_arn)
    config = [
        {"stateMachineVersionArn": version_arn(machine_arn, number), "weight": weight}
        for number, weight in sorted(routing.items(), key=lambda item: -item[1])
    ]
    if exists:
        call(
            sfn.update_state_machine_alias,
            what=f"alias {alias_arn}",
            stateMachineAliasArn=alias_arn,
            routingConfiguration=config,
        )
    else:
        name = alias_arn.rsplit(":", 1)[1]
        call(
            sfn.create_state_machine_alias,
            what=f"alias {alias_arn}",
            name=name,
            routingConfiguration=config,
            description=f"The version that {name} executions run (made by sfn-build)",
        )


def deployment_of(spec: dict[str, Any]) -> Deployment:
    """The model's Deployment from the alias resource's spec (module `resources`)."""
    return Deployment(spec["type"], spec["percent"], spec["interval"], tuple(spec["alarms"]))


class RolledBack(AwsError):
    """An alarm went off during a gradual deployment, and the alias went back."""


def deploy(
    aws: Aws,
    alias: Alias | None,
    alias_arn: str,
    target: int,
    deployment: Deployment,
    *,
    waits: bool,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> None:
    """Move the alias to `target`: at once when there is nothing to move from, else step by step,
    waiting each interval (`waits`: for real; the emulator's time is virtual) with the alarms watched."""
    if alias is None or deployment.type == "all_at_once" or alias.routing == {target: 100}:
        route(aws, alias_arn, {target: 100}, exists=alias is not None)
        return
    previous = alias.version if alias.version != target else max(n for n in alias.routing if n != target)
    _missing_alarms(aws, deployment.alarms)
    for share in deployment.shares():
        routing = {target: share, previous: 100 - share} if share < 100 else {target: 100}
        route(aws, alias_arn, routing, exists=True)
        if share == 100:
            return
        say(
            f"  {alias_arn.rsplit(':', 2)[-1]}: {share}% of executions to version {target}, "
            f"{100 - share}% to version {previous}"
        )
        firing = _watch(aws, deployment, waits)
        if firing:
            route(aws, alias_arn, {previous: 100}, exists=True)
            raise RolledBack(
                f"the alarm {firing} went into ALARM while version {target} took {share}% of the executions: "
                f"the alias routes to version {previous} again (version {target} stays published; "
                "`sfn-build create` tries again)"
            )


def _watch(aws: Aws, deployment: Deployment, waits: bool) -> str | None:
    """The first alarm in ALARM during one interval (None when none went off)."""
    deadline = time.monotonic() + ((deployment.interval or 0) if waits else 0)
    while True:
        firing = _firing(aws, deployment.alarms)
        if firing or time.monotonic() >= deadline:
            return firing
        time.sleep(min(ALARM_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _firing(aws: Aws, alarms: tuple[str, ...]) -> str | None:
    states = _alarm_states(aws, alarms)
    return next((name for name in alarms if states.get(name) == "ALARM"), None)


def _missing_alarms(aws: Aws, alarms: tuple[str, ...]) -> None:
    states = _alarm_states(aws, alarms)
    missing = [name for name in alarms if name not in states]
    if missing:
        raise AwsError(
            f"the CloudWatch alarm {missing[0]} does not exist in {aws.region}: a deployment cannot watch it "
            "(create the alarm, or fix rollout.deployment.alarms)"
        )


def _alarm_states(aws: Aws, alarms: tuple[str, ...]) -> dict[str, str]:
    """Each alarm that exists, by name: its state (OK, ALARM, INSUFFICIENT_DATA)."""
    if not alarms:
        return {}
    found = call(
        aws.client("cloudwatch").describe_alarms,
        what="the deployment's alarms",
        AlarmNames=list(alarms),
        AlarmTypes=["MetricAlarm", "CompositeAlarm"],
    )
    return {a["AlarmName"]: a["StateValue"] for a in [*found["MetricAlarms"], *found.get("CompositeAlarms", [])]}


def prune(aws: Aws, machine_arn: str, keep: int) -> list[int]:
    """Remove the versions older than the `keep` newest that no alias routes to; the ones removed."""
    sfn = aws.client("stepfunctions")
    existing = versions(aws, machine_arn)
    routed = _routed(aws, machine_arn)
    removed = [n for n in existing[: max(0, len(existing) - keep)] if n not in routed]
    for number in removed:  # ConflictException: an alias made meanwhile routes to it
        arn = version_arn(machine_arn, number)
        missing(
            sfn.delete_state_machine_version, ("ConflictException",), what=f"version {arn}", stateMachineVersionArn=arn
        )
    return removed


def prune_part_aliases(aws: Aws, machine_arn: str, started: list[str], keep: int) -> None:
    """Remove the aliases of a split workflow's parts that no version kept of its state machine starts
    (`started`: the `<part>:<alias>` names its newest definition starts), then the versions of those parts
    beyond the `keep` newest that no alias routes to. The kept versions' definitions are read only when a
    part has an alias the newest does not start."""
    sfn = aws.client("stepfunctions")
    head = machine_arn.rsplit(":", 1)[0]  # arn:...:stateMachine
    parts = sorted({name.rsplit(":", 1)[0] for name in started})
    others = [
        item["stateMachineAliasArn"]
        for part in parts
        for item in aliases(aws, f"{head}:{part}")
        if _qualified_name(item["stateMachineAliasArn"]) not in started
    ]
    if not others:
        return
    kept: set[str] = set()
    for number in versions(aws, machine_arn):
        arn = version_arn(machine_arn, number)
        found = call(sfn.describe_state_machine, what=f"version {arn}", stateMachineArn=arn)
        kept |= {f"{match.group(1)}:{match.group(2)}" for match in PART_ALIAS.finditer(found["definition"])}
    removed = [arn for arn in others if _qualified_name(arn) not in kept]
    for arn in removed:
        missing(sfn.delete_state_machine_alias, ("ResourceNotFound",), what=f"alias {arn}", stateMachineAliasArn=arn)
    for part in parts:
        prune(aws, f"{head}:{part}", keep)


def _qualified_name(arn: str) -> str:
    """`<state machine>:<qualifier>` of a version or alias ARN."""
    return arn.split(":stateMachine:", 1)[1]


def _routed(aws: Aws, machine_arn: str) -> set[int]:
    routed: set[int] = set()
    for item in aliases(aws, machine_arn):
        alias = read_alias(aws, item["stateMachineAliasArn"])
        routed |= set(alias.routing) if alias else set()
    return routed


def aliases(aws: Aws, machine_arn: str) -> list[dict[str, Any]]:
    """The state machine's aliases (ListStateMachineAliases items)."""
    sfn = aws.client("stepfunctions")
    listing = sfn.list_state_machine_aliases
    return every(listing, "stateMachineAliases", what=f"the aliases of {machine_arn}", stateMachineArn=machine_arn)


def rollback_target(alias: Alias | None, alias_arn: str, to: int | None) -> int:
    """The version a rollback moves the alias to: `to`, or the newest one older than what it routes to."""
    label = _label(alias_arn)
    if alias is None:
        raise AwsError(f"{label} does not exist here: run `sfn-build create` first")
    if to is None:
        earlier = [number for number in alias.versions if number < alias.version]
        if not earlier:
            raise AwsError(
                f"{label} routes to version {alias.version}, the oldest version kept: there is nothing to roll back to"
            )
        to = earlier[-1]
    elif to not in alias.versions:
        kept = ", ".join(map(str, alias.versions)) or "none"
        raise AwsError(f"there is no version {to} of {label.split(' ')[-1]} to roll back to (versions kept: {kept})")
    return to


def live_version(aws: Aws, alias_arn: str) -> str | None:
    """What the alias routes to, in a line (None when there is no alias)."""
    alias = read_alias(aws, alias_arn)
    if alias is None:
        return None
    newest = alias.versions[-1] if alias.versions else None
    note = "" if newest is None or alias.routing == {newest: 100} else f"; the newest version is {newest}"
    return f"{alias_arn.rsplit(':', 1)[1]} routes to {routes(alias.routing)}{note}"


def routes(routing: dict[int, int]) -> str:
    """Where an alias routes executions (version -> percent): `version 2`, or
    `version 3 (10%) + version 2 (90%)`."""
    if len(routing) == 1:
        return f"version {next(iter(routing))}"
    ordered = sorted(routing.items(), key=lambda item: -item[1])
    return " + ".join(f"version {number} ({weight}%)" for number, weight in ordered)


def _label(alias_arn: str) -> str:
    machine, name = alias_arn.rsplit(":", 2)[-2:]
    return f"the alias {name} of {machine}"
