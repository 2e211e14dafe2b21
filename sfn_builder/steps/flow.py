"""Steps that steer the flow instead of calling a service: choice, wait, succeed, fail."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Step, Workflow
from ..problems import Problem
from .base import StepKind

COMPARISONS = (
    "equals",
    "not_equals",
    "greater_than",
    "greater_than_or_equal",
    "less_than",
    "less_than_or_equal",
    "matches",
    "is_present",
    "is_null",
)
COMBINATORS = ("all", "any", "not")


class Choice(StepKind):
    type = "choice"

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        if not step.config.get("choices"):
            yield Problem("a choice step needs 'choices'", ("steps", step.name))
            return
        for n, rule in enumerate(step.config["choices"]):
            yield from _check_condition(rule, ("steps", step.name, "choices", n))


def _check_condition(rule: dict, path: tuple) -> Iterator[Problem]:
    tests = [key for key in (*COMPARISONS, *COMBINATORS) if key in rule]
    if len(tests) != 1:
        found = ", ".join(tests) if tests else "none"
        yield Problem(
            f"a rule has exactly one test ({', '.join(COMPARISONS)}, or all/any/not); found {found}",
            path,
        )
        return
    test = tests[0]
    if test in COMPARISONS and "when" not in rule:
        yield Problem(f"the test '{test}' needs 'when': the path of the value it tests", path)
    if test in COMBINATORS and "when" in rule:
        yield Problem(f"'{test}' combines rules; put 'when' inside them", (*path, "when"))
    if test in ("all", "any"):
        for n, inner in enumerate(rule[test]):
            yield from _check_condition(inner, (*path, test, n))
    elif test == "not":
        yield from _check_condition(rule["not"], (*path, "not"))


class Wait(StepKind):
    type = "wait"

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        given = [key for key in ("seconds", "until") if key in step.config]
        if len(given) != 1:
            yield Problem(
                "a wait step takes exactly one of 'seconds' or 'until'",
                ("steps", step.name),
                hint="seconds: 10m waits ten minutes; until: 2026-01-01T00:00:00Z waits for a time",
            )


class Succeed(StepKind):
    type = "succeed"


class Fail(StepKind):
    type = "fail"
