"""Why a choice led to `fail`, in words and run-time values, for its alert and its Fail's cause.

A reason is a list of text and `Value`s (JSONPaths read when the alert is sent). Only values
that exist whenever the route is taken are read: the subject and the threshold of a plain
comparison, which Step Functions evaluated to take it (a comparison on a path that is not
there fails the execution instead). Rules that combine others (`all`, `any`, `not`) and
presence tests are named, not valued.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .templates import parse_path, parse_template

_TESTS = {
    "equals": ("equals", "does not equal"),
    "not_equals": ("does not equal", "equals"),
    "greater_than": ("is greater than", "is not greater than"),
    "greater_than_or_equal": ("is at least", "is less than"),
    "less_than": ("is less than", "is not less than"),
    "less_than_or_equal": ("is at most", "is greater than"),
    "matches": ("matches", "does not match"),
}


@dataclass(frozen=True)
class Value:
    """A value read from the state when the alert is sent."""

    path: str


Reason = list[str | Value]
PathOf = Callable[[Any], str]  # a parsed reference -> its JSONPath


def matched(choice: str, rule: dict[str, Any], path_of: PathOf) -> Reason:
    """The choice took a route to `fail` because this rule held."""
    return [f"The choice {choice} led to fail: ", *_describe(rule, path_of, held=True), "."]


def unmatched(choice: str, rules: list[dict[str, Any]], path_of: PathOf) -> Reason:
    """No rule held, and the default is `fail`."""
    reason: Reason = [f"No rule of the choice {choice} matched"]
    for n, rule in enumerate(rules):
        reason += [": " if n == 0 else "; ", *_describe(rule, path_of, held=False)]
    return [*reason, "."]


def _describe(rule: dict[str, Any], path_of: PathOf, held: bool) -> Reason:
    test = next((t for t in _TESTS if t in rule), None)
    if "when" not in rule or test is None:
        return [f"{_shown(rule)} {'held' if held else 'did not hold'}"]
    subject = rule["when"]
    value = rule[test]
    reference = parse_template(value).single_reference if isinstance(value, str) else None
    literal = json.dumps(value, ensure_ascii=False)
    threshold: Reason = [Value(path_of(reference)), f" ({reference.dotted})"] if reference else [literal]
    words = _TESTS[test][0 if held else 1]
    return [f"{subject} (", Value(path_of(parse_path(subject))), f") {words} ", *threshold]


def _shown(rule: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in rule.items() if k != "next"}, ensure_ascii=False, separators=(", ", ": "))
