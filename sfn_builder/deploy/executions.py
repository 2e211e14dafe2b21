"""Executions of a published workflow: start one, follow its progress, say why it failed."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..asl import joined
from ..history import state_of
from ..markers import ALREADY_DONE
from ..model import Workflow
from ..naming import REUSE_ROLES, gate_role, marker_role, part_role
from ..part_history import part_execution, spliced
from .aws import Aws, AwsError, call
from .publish import arns_of
from .resources import alias_arn, state_machine_arn
from .rollout import primary, routing_of, version_arn

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Progress:
    """One line of an execution's progress; `state` "" is the execution itself."""

    state: str
    event: str  # "entered" | "succeeded" | "failed" | "retrying" | "caught" | "reused" | "cached" | "items"
    detail: str = ""


def execution_name() -> str:
    """`sfn-build-<UTC time>-<6 hex>`: readable, and unique."""
    return f"sfn-build-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def resumed_name(earlier: str) -> str:
    """`<first execution's name>-r<6 hex>` (at most 80 characters): the name shows the lineage."""
    first = re.sub(r"(-r[0-9a-f]{6})+\Z", "", earlier)
    return f"{first[:71]}-r{secrets.token_hex(3)}"


def find_execution(aws: Aws, workflow: Workflow, wanted: str | None) -> dict[str, Any]:
    """An execution of the workflow by name or ARN; the most recent one for None."""
    if wanted:
        executions = state_machine_arn(workflow, arns_of(aws)).replace(":stateMachine:", ":execution:", 1)
        arn = wanted if wanted.startswith("arn:") else f"{executions}:{wanted}"
        try:
            return describe_execution(aws, arn)
        except AwsError as error:
            if "ExecutionDoesNotExist" not in str(error):
                raise
            raise AwsError(
                f"{workflow.name} has no execution {wanted}: `sfn-build status SPEC` lists the recent ones"
            ) from None
    recent = recent_executions(aws, workflow, limit=1)
    if not recent:
        raise AwsError(f"{workflow.name} has no executions yet: there is nothing to resume")
    return describe_execution(aws, recent[0]["executionArn"])


def definition_run_by(aws: Aws, execution_arn: str, *, with_parts: bool = False) -> dict[str, Any]:
    """The definition an execution ran (the state machine may have changed since); `with_parts`: with
    the states of the parts it started beside its own (asl.joined), for reading states by name."""
    found = call(
        aws.client("stepfunctions").describe_state_machine_for_execution,
        what=f"execution {execution_arn}",
        executionArn=execution_arn,
    )
    definition = json.loads(found["definition"])
    if not with_parts or not any(part_role(name) for name in definition.get("States", {})):
        return definition
    by_id: dict[int, dict[str, Any]] = {}
    parts = []
    for event in _history(aws, execution_arn):
        by_id[event["id"]] = event
        child = part_execution(event, by_id)
        if child is not None:
            parts.append(definition_run_by(aws, child, with_parts=True))
    return joined(definition, parts)


def version(definition: dict[str, Any] | None) -> str | None:
    """A definition's short digest: which published definition an execution ran."""
    if definition is None:
        return None
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:8]


def resumed_from(aws: Aws, execution: dict[str, Any]) -> str | None:
    """The execution a `sfn-build resume` execution resumed (from its input); None for others."""
    if not re.search(r"-r[0-9a-f]{6}\Z", execution.get("name", "")):
        return None
    given = describe_execution(aws, execution["executionArn"]).get("input") or "{}"
    try:
        earlier = json.loads(given).get("sfn_build_resumed_from")
    except (ValueError, AttributeError):
        return None
    return earlier if isinstance(earlier, str) else None


def redrive(aws: Aws, execution_arn: str) -> None:
    sfn = aws.client("stepfunctions")
    call(sfn.redrive_execution, what=f"execution {execution_arn} (RedriveExecution)", executionArn=execution_arn)


def history(aws: Aws, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of an execution, oldest first, with its parts' where they ran (module `part_history`)."""
    return spliced(_history(aws, execution_arn), lambda child: _history(aws, child))


@dataclass(frozen=True)
class ItemCounts:
    """How a Distributed Map run's items stand (DescribeMapRun's `itemCounts`)."""

    done: int
    failed: int  # of those done: failed, timed out or aborted
    running: int
    total: int

    def __str__(self) -> str:
        return f"{self.done:,} of {self.total:,} done" + (f", {self.failed:,} failed" if self.failed else "")


def item_counts(aws: Aws, map_run_arn: str) -> ItemCounts | None:
    """A Map run's item counts; None when they cannot be read (the caller may lack states:DescribeMapRun)."""
    try:
        counts = call(
            aws.client("stepfunctions").describe_map_run, what=f"map run {map_run_arn}", mapRunArn=map_run_arn
        )["itemCounts"]
    except AwsError:
        return None
    failed = counts["failed"] + counts["timedOut"] + counts["aborted"]
    return ItemCounts(counts["succeeded"] + failed, failed, counts["running"], counts["total"])


def map_runs(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(state, Map run ARN) of each Distributed Map run an execution's events started, in order."""
    by_id: dict[int, dict[str, Any]] = {}
    found = []
    for event in events:
        by_id[event["id"]] = event
        if event["type"] == "MapRunStarted":
            found.append((state_of(event, by_id), event["mapRunStartedEventDetails"]["mapRunArn"]))
    return found


def start_execution(aws: Aws, workflow: Workflow, execution_input: dict[str, Any], name: str) -> str:
    """Start an execution of what the schedules start: the alias (the state machine before `create`
    made one)."""
    alias = alias_arn(workflow, arns_of(aws))
    if routing_of(aws, alias) is None:
        started = _on_state_machine(aws, workflow, "start_execution", name=name, input=json.dumps(execution_input))
    else:
        started = call(
            aws.client("stepfunctions").start_execution,
            what=f"state machine {workflow.name}",
            stateMachineArn=alias,
            name=name,
            input=json.dumps(execution_input),
        )
    return started["executionArn"]


def describe_execution(aws: Aws, execution_arn: str) -> dict[str, Any]:
    return call(
        aws.client("stepfunctions").describe_execution, what=f"execution {execution_arn}", executionArn=execution_arn
    )


def follow(aws: Aws, execution_arn: str) -> Iterator[Progress]:
    """The execution's progress as it happens, until it ends, with the steps of the parts it starts
    while they run (parts that run at the same time are followed together).

    A Distributed Map's items run in child executions: how many are done shows as it passes each tenth
    of them, and when the Map run ends. It polls every FIRST_POLL seconds while events arrive, twice as
    long after each quiet poll up to LONGEST_POLL, and on AWS never makes more than CALLS_PER_SECOND
    calls a second (Step Functions refills GetExecutionHistory's quota at 5 a second in some regions)."""
    follower = _Follower(aws)
    main = _Followed(execution_arn, part=False)
    delay = FIRST_POLL
    while True:
        ended = describe_execution(aws, execution_arn)["status"] in TERMINAL
        read_before = follower.events_read
        yield from follower.news(main)
        for part in list(follower.running.values()):
            if part.arn in follower.running:  # not ended while reading the one before
                yield from follower.news(part)
        for map_run in list(follower.map_runs):
            yield from follower.items(map_run)
        if ended:
            return
        delay = FIRST_POLL if follower.events_read > read_before else min(2 * delay, LONGEST_POLL)
        if not aws.local:
            delay = max(delay, (2 + len(follower.running) + len(follower.map_runs)) / CALLS_PER_SECOND)
        time.sleep(delay)


FIRST_POLL, LONGEST_POLL, CALLS_PER_SECOND = 0.5, 5.0, 4


def failure(aws: Aws, execution_arn: str) -> tuple[str, str, str] | None:
    """(failing state, error, cause) of a failed execution."""
    reader = HistoryReader()
    for event in history(aws, execution_arn):
        reader.read(event)
    return reader.failure


def deployed_definition(aws: Aws, workflow: Workflow) -> dict[str, Any] | None:
    """The definition executions start with here: the version the alias routes the most executions to
    (before there is an alias, the state machine's); None when there is none."""
    try:
        routing = routing_of(aws, alias_arn(workflow, arns_of(aws)))
        if routing is None:
            found = _on_state_machine(aws, workflow, "describe_state_machine")
        else:
            version = version_arn(state_machine_arn(workflow, arns_of(aws)), primary(routing))
            found = call(aws.client("stepfunctions").describe_state_machine, what=version, stateMachineArn=version)
    except AwsError:
        return None
    return json.loads(found["definition"])


def running_executions(aws: Aws, workflow: Workflow) -> list[dict[str, Any]]:
    return _on_state_machine(aws, workflow, "list_executions", statusFilter="RUNNING", maxResults=100)["executions"]


def stop_execution(aws: Aws, execution_arn: str) -> None:
    call(
        aws.client("stepfunctions").stop_execution,
        what=f"execution {execution_arn}",
        executionArn=execution_arn,
        error="sfn-build.Stopped",
        cause="Stopped with `sfn-build stop`.",
    )


def recent_executions(aws: Aws, workflow: Workflow, limit: int = 10) -> list[dict[str, Any]]:
    return _on_state_machine(aws, workflow, "list_executions", maxResults=limit)["executions"]


class HistoryReader:
    """Reads history events in order, naming the state each one belongs to."""

    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self.failing: set[str] = set()  # states whose last attempt failed
        self.block_failed = False  # a Parallel or Map state failed (its events name no state): its exit is a catch
        self.last_state_failure: tuple[str, str, str] | None = None
        self.execution_failure: tuple[str, str, str] | None = None

    @property
    def failure(self) -> tuple[str, str, str] | None:
        """(state, error, cause): the last failure of a state that was not retried, else the execution's."""
        return self.last_state_failure or self.execution_failure

    def read(self, event: dict[str, Any]) -> Progress | None:
        """The progress an event shows; a step's gates show only when they reuse a result (or fail); the
        states that run a split workflow's parts never (their steps show)."""
        progress = self._read(event)
        if progress is not None and part_role(progress.state):
            return None
        role = gate_role(progress.state) if progress is not None else None
        if progress is not None and marker_role(progress.state):  # shown only when the markers table failed
            return progress if progress.event == "failed" and ALREADY_DONE[0] not in progress.detail else None
        if progress is None or role is None or progress.event == "failed":
            return progress
        if role in REUSE_ROLES and progress.event == "succeeded":
            source = "the earlier execution's result" if role == "resumed" else "a cached job's result"
            return Progress(progress.state.rpartition(".")[0], REUSE_ROLES[role], source)
        return None

    def _read(self, event: dict[str, Any]) -> Progress | None:
        self.by_id[event["id"]] = event
        kind = event["type"]
        if "stateEnteredEventDetails" in event:
            return Progress(event["stateEnteredEventDetails"]["name"], "entered")
        if "stateExitedEventDetails" in event:
            state = event["stateExitedEventDetails"]["name"]
            if state in self.failing or (self.block_failed and kind in ("ParallelStateExited", "MapStateExited")):
                self.failing.discard(state)
                self.block_failed = False
                return Progress(state, "caught", "the error goes on to its catch")
            if state.endswith(".failed"):  # the Pass that names a failed step for its block's failure path
                return None
            return Progress(state, "succeeded")
        if kind == "TaskScheduled":
            state = state_of(event, self.by_id)
            if state not in self.failing:
                return None
            self.failing.discard(state)
            if self.last_state_failure and self.last_state_failure[0] == state:
                self.last_state_failure = None
            return Progress(state, "retrying")
        if kind in ("ParallelStateFailed", "MapStateFailed"):  # what failed inside one has said so already
            self.block_failed = True  # so its exit, when a catch takes the error, says so
            return None
        if kind.endswith(("Failed", "TimedOut", "Aborted")) and not kind.startswith("MapIteration"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            error, cause = details.get("error", kind), details.get("cause", "")
            if kind.startswith("Execution"):
                self.execution_failure = (state_of(event, self.by_id), error, cause)  # a Fail state's, or ""
                return Progress("", "failed", f"{error}: {cause}".strip(": "))
            state = state_of(event, self.by_id)
            if part_role(state):  # a part failed as its step did: the step's failure tells it
                return None
            self.failing.add(state)
            self.last_state_failure = (state, error, cause)
            return Progress(state, "failed", f"{error}: {cause}".strip(": "))
        return None


_TASK_ENDS = frozenset({"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskAborted"})
_MAP_RUN_ENDS = frozenset({"MapRunSucceeded", "MapRunFailed", "MapRunAborted"})


@dataclass
class _Followed:
    """An execution being followed: what was read of it, and the running parts it started (by the
    state that started each)."""

    arn: str
    part: bool
    reader: HistoryReader = field(default_factory=HistoryReader)
    seen: int = 0
    parts: dict[str, str] = field(default_factory=dict)


class _Follower:
    """Reads the news of an execution and of the parts it starts, in the order they happened: a part's
    steps come after the event that started it, and an ended part's last steps before the event that
    says so."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.running: dict[str, _Followed] = {}  # parts started and not yet ended, by execution ARN
        self.map_runs: dict[str, tuple[str, int]] = {}  # running Map runs: their state, the tenths shown
        self.events_read = 0

    def news(self, followed: _Followed) -> Iterator[Progress]:
        for event in _events_after(self.aws, followed.arn, followed.seen):
            self.events_read += 1
            followed.seen = max(followed.seen, event["id"])
            progress = followed.reader.read(event)
            if event["type"] in _MAP_RUN_ENDS:  # how many items were done, before how the run ended
                for arn, (state, _) in list(self.map_runs.items()):
                    if state == state_of(event, followed.reader.by_id):
                        yield from self.items(arn, ended=True)
            if progress is not None and not (followed.part and progress.state == ""):
                yield progress
            child = part_execution(event, followed.reader.by_id)
            if child is not None:
                followed.parts[state_of(event, followed.reader.by_id)] = child
                self.running[child] = _Followed(child, part=True)
                yield from self.news(self.running[child])
            elif event["type"] in _TASK_ENDS and followed.parts:
                ended = followed.parts.pop(state_of(event, followed.reader.by_id), None)
                if ended in self.running:
                    yield from self.news(self.running.pop(ended))
            elif event["type"] == "MapRunStarted":
                arn = event["mapRunStartedEventDetails"]["mapRunArn"]
                self.map_runs[arn] = (state_of(event, followed.reader.by_id), 0)

    def items(self, map_run_arn: str, *, ended: bool = False) -> Iterator[Progress]:
        """How many of a Distributed Map's items are done: each time it passes a tenth more of them,
        and once when its Map run ends (then it is no longer followed)."""
        state, shown = self.map_runs.pop(map_run_arn)
        counts = item_counts(self.aws, map_run_arn)
        if counts is None:  # not allowed to read it: the steps still show
            return
        tenths = counts.done * 10 // counts.total if counts.total else 0
        if ended or tenths > shown:
            yield Progress(state, "items", str(counts) if ended else f"{counts}, {counts.running:,} running")
        if not ended:
            self.map_runs[map_run_arn] = (state, max(tenths, shown))


def _events_after(aws: Aws, execution_arn: str, seen: int) -> list[dict[str, Any]]:
    """The events after event `seen`, oldest first: read newest first, page by page, until an
    event already seen (so following a long execution reads each event about once)."""
    found: dict[int, dict[str, Any]] = {}  # by id: a page may repeat events that arrived meanwhile
    for events in _history_pages(aws, execution_arn, reverseOrder=True):
        fresh = [event for event in events if event["id"] > seen]
        found.update((event["id"], event) for event in fresh)
        if len(fresh) < len(events):
            break
    return [found[key] for key in sorted(found)]


def _history(aws: Aws, execution_arn: str) -> list[dict[str, Any]]:
    """The whole event history."""
    return [event for events in _history_pages(aws, execution_arn) for event in events]


def _history_pages(aws: Aws, execution_arn: str, **options: Any) -> Iterator[list[dict[str, Any]]]:
    """The events of each page of GetExecutionHistory, in the order asked for."""
    sfn = aws.client("stepfunctions")
    token: dict[str, str] = {}
    while True:
        page = call(
            sfn.get_execution_history,
            what=f"execution {execution_arn}",
            executionArn=execution_arn,
            maxResults=1000,
            **options,
            **token,
        )
        yield page["events"]
        if not page.get("nextToken"):
            return
        token = {"nextToken": page["nextToken"]}


def _on_state_machine(aws: Aws, workflow: Workflow, operation: str, **kwargs: Any) -> dict[str, Any]:
    """A Step Functions call on the workflow's state machine; a missing one says to create it."""
    arn = state_machine_arn(workflow, arns_of(aws))
    try:
        return call(
            getattr(aws.client("stepfunctions"), operation),
            what=f"state machine {workflow.name}",
            stateMachineArn=arn,
            **kwargs,
        )
    except AwsError as error:
        if "StateMachineDoesNotExist" in str(error):
            raise AwsError(
                f"the state machine {workflow.name} does not exist here: run `sfn-build create` first"
            ) from None
        raise
