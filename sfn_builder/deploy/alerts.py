"""Alert rules: which events become alerts, and the text people receive.

One message per execution that ends badly (docs/design.md, "Alerts"):

- a step failure the workflow catches is alerted by the workflow itself (its
  `<step>.alert` task knows the step, the error and the cause), after which
  the execution fails with a known error (`<step>.Failed`, a `fail` step's
  error, ...);
- the execution rule (`on_execution`, by default FAILED, TIMED_OUT and
  ABORTED for Standard workflows) matches this state machine's Execution
  Status Change events *except* those whose error is one the workflow already
  alerted for: so a failure no Catch sees (`States.Runtime`,
  `States.DataLimitExceeded`), a time-out or an abort sends one message, and a
  caught failure does not send a second. An event without an error (as in
  AWS's published samples) is alerted.

`on_jobs` matches the job-state change events of each kind of job the
workflow starts, by the job-name prefix of each step that starts them (so
another workflow's jobs never alert here).

With the simple format an input transformer writes a JSON message. EventBridge
does not escape values it places inside a quoted template, so only values
that cannot hold quotes, backslashes or newlines (names, statuses, times,
ARNs) are placed inside quotes; free text (a job's failure reason) is placed
unquoted, where EventBridge inserts it as a JSON string, and only for
statuses whose events always carry it. With the detailed format the events
go to the alert formatter Lambda instead, which adds reasons, causes and links.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..asl import FAILED_ERROR_SUFFIX, alerted_errors, fail_causes
from ..model import Workflow
from ..naming import PART_STATE_PREFIX, workflow_name_starts
from ..steps import KINDS
from ..steps.base import JobEvents

EXECUTION_SOURCE = "aws.states"
EXECUTION_DETAIL_TYPE = "Step Functions Execution Status Change"
EVENT_PATTERN_LIMIT = 2048  # characters of a rule's event pattern (EventBridge's default quota)
CONSOLE = "https://console.aws.amazon.com"
EXECUTION_PAGE = "/states/home?region=<region>#/v2/executions/details/<arn>"


@dataclass(frozen=True)
class AlertRule:
    """One EventBridge rule: its name suffix, pattern, and (simple format) transformer."""

    suffix: str
    description: str
    pattern: dict[str, Any]
    transformer: dict[str, Any]


def alert_rules(
    workflow: Workflow, state_machine_arn: str, definition: dict[str, Any], parts: Iterable[dict[str, Any]] = ()
) -> list[AlertRule]:
    """The workflow's alert rules; `parts`: the definitions of its parts, whose step alerts count too."""
    notifications = workflow.notifications
    if notifications is None:
        return []
    rules = []
    if notifications.on_execution:
        rules.append(_execution_rule(workflow, state_machine_arn, [definition, *parts], notifications.on_execution))
    if notifications.on_jobs:
        for events, prefixes in _job_kinds(workflow).values():
            statuses = [events.statuses[s] for s in notifications.on_jobs if s in events.statuses]
            with_reason = [s for s in statuses if s in events.reason_statuses]
            without = [s for s in statuses if s not in events.reason_statuses]
            # A status whose events may lack the reason gets a rule of its own, so the others keep it.
            for group, named in ((with_reason, False), (without, bool(with_reason))):
                if group:
                    rules.append(_job_rule(workflow, events, prefixes, group, named))
    return rules


def _alerted_by_suffix(alerted: list[str], definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """The execution rule's exclusion of the errors the workflow alerted for, when their list passes the
    pattern's size limit: every `<step>.Failed` by its suffix (a part's own failure, `workflow.part-N.
    Failed`, which nothing alerted for, taken back by its prefix), and a `fail` step's own error by its
    cause (EventBridge cannot exclude a suffix and a list from one field; fields are matched together)."""
    detail: dict[str, Any] = {
        "error": [{"anything-but": {"suffix": FAILED_ERROR_SUFFIX}}, {"prefix": PART_STATE_PREFIX}, {"exists": False}]
    }
    others = [error for error in alerted if not error.endswith(FAILED_ERROR_SUFFIX)]
    causes = sorted({cause for definition in definitions for cause in fail_causes(definition, others)})
    if causes:
        detail["cause"] = [{"anything-but": causes}, {"exists": False}]
    return detail


def _execution_rule(
    workflow: Workflow, state_machine_arn: str, definitions: list[dict[str, Any]], statuses: tuple[str, ...]
) -> AlertRule:
    """Executions of the workflow's own state machine (a part's failure fails it too: one alert)."""
    detail: dict[str, Any] = {"stateMachineArn": [state_machine_arn], "status": list(statuses)}
    pattern = {"source": [EXECUTION_SOURCE], "detail-type": [EXECUTION_DETAIL_TYPE], "detail": detail}
    alerted = sorted({error for definition in definitions for error in alerted_errors(definition)})
    if alerted:
        detail["error"] = [{"anything-but": alerted}, {"exists": False}]
        if len(json.dumps(pattern)) > EVENT_PATTERN_LIMIT:
            detail.update(_alerted_by_suffix(alerted, definitions))
    paths = {
        "execution": "$.detail.name",
        "status": "$.detail.status",
        "arn": "$.detail.executionArn",
        "time": "$.time",
        "region": "$.region",
    }
    sentence = (
        f"sfn-build: the execution <execution> of workflow {workflow.name} ended <status> at <time>, "
        "with no step alert before it: its page shows the error and the state it stopped in."
    )
    template = _json_template({"alert": sentence, "execution": CONSOLE + EXECUTION_PAGE})
    return AlertRule(
        "execution-alerts",
        f"Alerts when an execution of {workflow.name} ends {', '.join(statuses)} without a step alert",
        pattern,
        {"InputPathsMap": paths, "InputTemplate": template},
    )


def _job_rule(
    workflow: Workflow, events: JobEvents, prefixes: list[str], statuses: list[str], named: bool
) -> AlertRule:
    """One rule for some statuses of one kind of job; `named` puts the statuses in its name."""
    # "SageMaker Processing Job", "Batch Job", "SageMaker Pipeline Execution" (of a Model Building Pipeline)
    kind = events.detail_type.removesuffix(" State Change").removesuffix(" Status Change")
    kind = kind.replace(" Model Building ", " ")
    service, job = kind.split(" ", 1)
    label = f"{service} {job.lower()}"  # "SageMaker processing job"
    paths = {
        "job": f"$.detail.{events.name_field}",
        "status": f"$.detail.{events.status_field}",
        "time": "$.time",
        "region": "$.region",
    }
    if "<id>" in events.console:
        paths["id"] = "$.detail.jobId"
    members: dict[str, Any] = {
        "alert": f"sfn-build: the {label} <job> of workflow {workflow.name} ended <status> at <time>."
    }
    if set(statuses) <= events.reason_statuses:  # every matching event carries the reason
        paths["reason"] = f"$.detail.{events.reason_field}"
        members["reason"] = Unquoted("reason")
    members["job"] = CONSOLE + events.console
    suffix = "-".join([_slug(kind), *(s.lower() for s in statuses if named)])
    names: list[Any] = list(prefixes) if events.exact_name else [{"prefix": p} for p in prefixes]
    detail = {events.name_field: names, events.status_field: statuses}
    pattern = {"source": [events.source], "detail-type": [events.detail_type], "detail": detail}
    starts = [next((s for s in workflow_name_starts(workflow.name) if p.startswith(s)), None) for p in prefixes]
    if len(json.dumps(pattern)) > EVENT_PATTERN_LIMIT and not events.exact_name and None not in starts:
        # past EventBridge's size: the workflow's part of the names (no other workflow's names start so):
        # the same jobs, since the rule is for this kind of job only
        detail[events.name_field] = [{"prefix": start} for start in sorted(set(starts))]
    return AlertRule(
        suffix + "-alerts",
        f"Alerts when a {label} of {workflow.name} ends {', '.join(statuses)}",
        pattern,
        {"InputPathsMap": paths, "InputTemplate": _json_template(members)},
    )


def _job_kinds(workflow: Workflow) -> dict[str, tuple[JobEvents, list[str]]]:
    """Each kind of job event the workflow's steps emit (by detail-type), with their job-name prefixes."""
    kinds: dict[str, tuple[JobEvents, list[str]]] = {}
    for step in workflow.steps.values():
        events = KINDS[step.type].job_events
        if events is not None:
            prefix = KINDS[step.type].job_prefix(workflow, step)
            kinds.setdefault(events.detail_type, (events, []))[1].append(prefix if events.exact_name else prefix + "-")
    return kinds


def matching_messages(rules: list[AlertRule], event: dict[str, Any]) -> list[tuple[AlertRule, str]]:
    """Each rule whose pattern matches `event`, with the message its transformer makes of it."""
    from moto.events.models import EventPattern  # EventBridge's matching, as moto implements it

    return [
        (rule, transform(event, rule.transformer))
        for rule in rules
        if EventPattern.load(json.dumps(rule.pattern)).matches_event(event)
    ]


class Unquoted(str):
    """A variable placed outside quotes: EventBridge inserts its value as JSON, escaped."""


def _json_template(members: dict[str, Any]) -> str:
    """An InputTemplate for a JSON object; `<var>` inside strings is replaced as it is."""
    parts = []
    for key, value in members.items():
        rendered = f"<{value}>" if isinstance(value, Unquoted) else json.dumps(value)
        parts.append(f"{json.dumps(key)}: {rendered}")
    return "{" + ", ".join(parts) + "}"


def transform(event: dict[str, Any], transformer: dict[str, Any]) -> str:
    """What EventBridge sends for `event` through an input transformer (for simulation and tests).

    As EventBridge does: a variable inside quotes gets the value's text unescaped,
    one outside quotes gets its JSON, and a path the event lacks yields nothing.
    """
    values = {name: _at(event, path) for name, path in transformer.get("InputPathsMap", {}).items()}
    template = transformer["InputTemplate"]
    out, quoted, index = [], False, 0
    while index < len(template):
        char = template[index]
        match = re.match(r"<([A-Za-z0-9_.\-]+)>", template[index:])
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if value is not _MISSING:
                out.append((value if isinstance(value, str) else json.dumps(value)) if quoted else json.dumps(value))
            index += match.end()
            continue
        if char == "\\" and quoted:
            out.append(template[index : index + 2])
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        out.append(char)
        index += 1
    return "".join(out)


_MISSING = object()


def _at(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")
