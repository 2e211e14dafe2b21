"""Amazon States Language rules that every definition `compile` writes must follow.

A finding here is a bug in sfn-build, never the spec's fault: the spec checks
should have refused what leads to it. `compile` runs these rules on its own
output and writes nothing when one fails. They are the rules AWS enforces at
CreateStateMachine or at run time that our own output could break: transitions
(every target exists, every state is reachable, every non-terminal state goes
on), catch-alls, paths (`.$` keys hold paths or intrinsics; reference paths
where ASL requires them), and numbers (within ASL's bounds; `compile` refuses
infinity and NaN when it writes the JSON). The test suite holds them against
statelint, which implements the ASL specification.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

MAX_SECONDS = 99_999_999
MAX_DELAY_SECONDS = 31_622_400
_TERMINAL = ("Succeed", "Fail")
_GOES_ON = ("Task", "Pass", "Wait", "Parallel", "Map")
_REFERENCE_PATH_FIELDS = ("ResultPath", "ItemsPath", "TimestampPath", "SecondsPath", "Variable")
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]|@")
# In a definition's compact JSON text, a `.$` key whose value does not open a path or an intrinsic (a
# string value's own quotes are escaped there, so only keys end in `.$":`).
_LITERAL_PATH_VALUE = re.compile(r'\.\$":(?!"(?:\$|States\.))')
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
_BOUNDS = {
    "TimeoutSeconds": (1, MAX_SECONDS),
    "HeartbeatSeconds": (1, MAX_SECONDS),
    "IntervalSeconds": (1, MAX_SECONDS),
    "MaxAttempts": (0, MAX_SECONDS),
    "MaxDelaySeconds": (1, MAX_DELAY_SECONDS),
    "Seconds": (0, MAX_SECONDS),
    "MaxConcurrency": (0, None),
}


def asl_findings(definition: dict[str, Any], text: str | None = None) -> list[str]:
    """Every rule the definition breaks, as 'State: what is wrong' lines. With the definition's compact
    JSON `text`, payloads are walked only when the text shows a `.$` key holding something else than
    a path or an intrinsic (a definition holds thousands of keys: one scan of the text is quicker)."""
    return _block(definition, "", payloads=text is None or _LITERAL_PATH_VALUE.search(text) is not None)


def _block(block: dict[str, Any], where: str, *, payloads: bool) -> list[str]:
    states: dict[str, Any] = block.get("States", {})
    findings = []
    start = block.get("StartAt")
    if start not in states:
        findings.append(f"{where or 'definition'}: StartAt {start!r} is not a state")
    for name, state in states.items():
        found = _state(state, states, payloads=payloads)
        for index, retrier in enumerate(state.get("Retry", ())):
            found += [f"Retry[{index}].{finding}" for finding in _bounds(retrier)]
        if found:
            findings += [f"{name}: {finding}" for finding in found]
        for index, branch in enumerate(state.get("Branches", ())):
            findings += _block(branch, f"{name}.Branches[{index}]", payloads=payloads)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                findings += _block(state[key], f"{name}.{key}", payloads=payloads)
    if start in states:
        unreachable = set(states) - _reachable(start, states)
        findings += [f"{name}: no transition leads to this state" for name in sorted(unreachable)]
    return findings


def _targets(state: dict[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for rule in state.get("Choices", []):
        if "Next" in rule:
            yield rule["Next"]
    for catcher in state.get("Catch", []):
        yield catcher.get("Next", "")


def _reachable(start: str, states: dict[str, Any]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for target in _targets(states[stack.pop()]):
            if target in states and target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _state(state: dict[str, Any], states: dict[str, Any], *, payloads: bool) -> list[str]:
    """What is wrong with one state (a definition has thousands: the common case is quick)."""
    kind = state.get("Type")
    found = [f"the transition to {target!r} leads to no state of this block" for target in _targets(state)
             if target not in states]  # fmt: skip
    if kind in _GOES_ON and ("Next" in state) == bool(state.get("End")):
        found.append("a state that goes on needs exactly one of Next and End")
    if kind == "Choice":
        if not state.get("Choices"):
            found.append("a Choice state needs at least one rule")
        for rule in state.get("Choices", ()):
            found += _choice_rule(rule)
    elif kind in _TERMINAL:
        if "Next" in state or "End" in state:
            found.append(f"a {kind} state ends its block: it takes no Next or End")
        if kind == "Fail":
            for a, b in (("Error", "ErrorPath"), ("Cause", "CausePath")):
                if a in state and b in state:
                    found.append(f"a Fail state takes {a} or {b}, not both")
    elif kind == "Wait" and "Timestamp" in state and not _TIMESTAMP.match(str(state["Timestamp"])):
        found.append(f"Timestamp {state['Timestamp']!r} is not an RFC 3339 time")
    for field in ("Retry", "Catch"):
        if field in state:
            found += _catch_all_last(state[field], field)
    for field in _REFERENCE_PATH_FIELDS:
        value = state.get(field)
        if type(value) is str and _INDEFINITE.search(value):
            found.append(f"{field} {value!r} must be a reference path (no wildcards, filters or slices)")
    for field in ("Parameters", "ResultSelector", "ItemSelector"):
        if payloads and field in state:
            found += _payload(state[field], field)
    found += _bounds(state)
    return found


def _catch_all_last(entries: list[dict[str, Any]], field: str) -> list[str]:
    last = len(entries) - 1
    return [
        f"{field}[{index}]: States.ALL must stand alone in the last {field} entry"
        for index, entry in enumerate(entries)
        if "States.ALL" in (errors := entry.get("ErrorEquals", ())) and (len(errors) > 1 or index != last)
    ]


def _choice_rule(rule: dict[str, Any]) -> Iterator[str]:
    for key in ("And", "Or"):
        for inner in rule.get(key, []):
            yield from _choice_rule(inner)
    if "Not" in rule:
        yield from _choice_rule(rule["Not"])
    variable = rule.get("Variable")
    if isinstance(variable, str) and _INDEFINITE.search(variable):
        yield f"Variable {variable!r} must be a reference path"
    for key, value in rule.items():
        if key.endswith("Path") and isinstance(value, str) and _INDEFINITE.search(value):
            yield f"{key} {value!r} must be a reference path"


def _payload(value: Any, where: str) -> list[str]:
    """A key ending in `.$` holds a path (`$...`), a context path (`$$...`) or an intrinsic."""
    if not _has_literal_path_key(value):  # the common case, found without naming where each value is
        return []
    findings = []
    stack = [(value, where)]
    while stack:
        node, at = stack.pop()
        if type(node) is dict:
            for key, item in node.items():
                if _literal_path_key(key, item):
                    findings.append(f"{at}.{key} is a path key, but its value {item!r} is not a path or intrinsic")
                if type(item) is dict or type(item) is list:
                    stack.append((item, f"{at}.{key}"))
        else:
            stack.extend(
                (item, f"{at}[{n}]") for n, item in enumerate(node) if type(item) is dict or type(item) is list
            )
    return findings


def _has_literal_path_key(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, item in items:
            if type(key) is str and _literal_path_key(key, item):
                return True
            if type(item) is dict or type(item) is list:
                stack.append(item)
    return False


def _literal_path_key(key: str, value: Any) -> bool:
    return key.endswith(".$") and not (type(value) is str and value.startswith(("$", "States.")))


def _bounds(fields: dict[str, Any]) -> list[str]:
    """ASL's counted fields (of a state or a retrier) are whole numbers within their bounds."""
    found = []
    for key, value in fields.items():
        limits = _BOUNDS.get(key)
        if limits is not None:
            if isinstance(value, int | float) and not isinstance(value, bool):
                low, high = limits
                whole = math.isfinite(value) and value == int(value)
                if not whole or value < low or (high is not None and value > high):
                    found.append(f"{key}: {value} is not a whole number from {low} to {high or 'any'}")
        elif key == "BackoffRate" and isinstance(value, int | float) and not value >= 1:
            found.append(f"BackoffRate: {value} is below 1")
    return found
