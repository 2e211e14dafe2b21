"""Steps that poll (`StepKind.polling`): what the loop asks, and how often (module `poll_states` builds it)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..durations import parse_duration
from ..model import Step
from ..problems import Problem


@dataclass(frozen=True)
class Polling:
    """A step whose API returns at once while the work goes on (module `poll_states`): its task starts
    the work, then a loop waits `poll` seconds, describes it, and ends on a final status."""

    started: Mapping[str, str]  # what the start's result keeps: name -> JSONPath in that result
    describe: str  # the resource that describes the work (its parameters: `StepKind.describe_parameters`)
    status: str  # the describe result's status member
    succeeded: tuple[str, ...]
    failed: Mapping[str, str]  # a final status -> the error its step fails with
    stop: tuple[str, Mapping[str, str]] | None  # what stops the work when the step times out (member -> JSONPath)
    timed_out: str  # the error of a step whose work outlasted its timeout
    noun: str  # what the work is called in messages: "pipeline execution"
    # A success status is a failure when this member of the describe result is still what it was before
    # the start (the `Switch` probe read it): (member, error). An endpoint back InService on its previous
    # configuration has rolled its update back.
    unchanged: tuple[str, str] | None = None


@dataclass(frozen=True)
class Switch:
    """After the start: whether the target exists (a describe call, which fails when it does not) decides
    between a create and an update call. The probe's result is kept at `$.poll.previous`."""

    probe: tuple[str, Mapping[str, Any]]  # (resource, parameters): request data, as `StepKind.request` makes
    missing: tuple[str, ...]  # the errors of a probe that finds nothing
    create: tuple[str, Mapping[str, Any]]
    update: tuple[str, Mapping[str, Any]]


POLL_LIMIT = 1_000  # polls per run at most: POLL_EVENTS history events each, of the 25,000 AWS allows
POLL_EVENTS = 11  # a poll's wait (2), describe task (5), status choice (2) and count (2)


DEFAULT_POLL_SECONDS = 60
MIN_POLL_SECONDS = 10


def poll_seconds(step: Step) -> int:
    """Seconds between status checks: the step's `poll`, else a minute (longer when the timeout would
    take more than POLL_LIMIT polls, shorter when the timeout is, down to MIN_POLL_SECONDS)."""
    if "poll" in step.config:
        return parse_duration(step.config["poll"])
    timeout = step.timeout or 0
    if timeout and timeout < DEFAULT_POLL_SECONDS:
        return max(MIN_POLL_SECONDS, timeout)
    return max(DEFAULT_POLL_SECONDS, math.ceil(timeout / POLL_LIMIT))


def polls_allowed(step: Step) -> int:
    """How many status checks fit in the step's timeout."""
    return max(1, math.ceil((step.timeout or 0) / poll_seconds(step)))


def check_polling(step: Step) -> Iterator[Problem]:
    """`poll` is at least MIN_POLL_SECONDS, at most the timeout, and the timeout holds at most POLL_LIMIT
    polls."""
    if "poll" not in step.config:
        return
    seconds = poll_seconds(step)
    if seconds < MIN_POLL_SECONDS:
        yield Problem(
            f"poll is {seconds}s: the status is checked every {MIN_POLL_SECONDS}s at most",
            ("steps", step.name, "poll"),
            hint="write poll: 1m (or more for work that takes hours)",
        )
    elif step.timeout is not None and seconds > step.timeout:
        yield Problem(
            f"poll is {seconds:,}s, longer than the step's timeout ({step.timeout:,}s): the first status check "
            "would come after the step has timed out",
            ("steps", step.name, "poll"),
            hint="poll more often than the timeout, or leave poll out",
        )
    elif polls_allowed(step) > POLL_LIMIT:
        yield Problem(
            f"a timeout of {step.timeout}s at one poll every {seconds}s is {polls_allowed(step):,} polls; a run "
            f"polls {POLL_LIMIT:,} times at most (each adds about 11 events to the execution's history, which "
            "AWS limits to 25,000)",
            ("steps", step.name, "poll"),
            hint=f"poll every {math.ceil((step.timeout or 0) / POLL_LIMIT)}s or more, or leave poll out",
        )
