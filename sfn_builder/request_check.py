"""Check request bodies against the service models that ship with botocore.

Before anything is written, each task's request is walked alongside its API's
input shape: unknown and missing members, types, lengths, ranges, patterns and
enums. Values only known at run time (`${...}` templates, compiler
expressions) are checked for their place in the shape, not their content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from typing import Any

from .problems import did_you_mean
from .steps.base import Expr


def check_request(request: Mapping[str, Any], shape: Any, json_members: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with `request` for `shape`, as 'Member.Path: message' lines."""
    return list(_check(request, shape, "", json_members))


def _dynamic(value: Any) -> bool:
    return isinstance(value, Expr) or (isinstance(value, str) and "${" in value)


def _check(value: Any, shape: Any, where: str, json_members: frozenset[str]) -> Iterator[str]:
    if _dynamic(value):
        return
    kind = shape.type_name
    label = where or shape.name
    if kind == "structure":
        if not isinstance(value, Mapping):
            yield f"{label}: expected a structure, found {type(value).__name__}"
            return
        members = shape.members
        given = {_member_name(key, members): key for key in value}
        for required in shape.required_members:
            if required not in given:
                yield f"{label}: missing required member {required}"
        for name, key in given.items():
            path = f"{where}.{key}" if where else key
            if name not in members:
                hint = did_you_mean(key, list(members))
                yield f"{path}: {shape.name} has no member {key}" + (f" ({hint})" if hint else "")
            elif key in json_members and not where:
                continue  # Step Functions serialises JSON here itself
            else:
                yield from _check(value[key], members[name], path, frozenset())
    elif kind == "list":
        if not isinstance(value, list | tuple):
            yield f"{label}: expected a list, found {type(value).__name__}"
            return
        yield from (f"{label}: {message}" for message in _bounds(len(value), shape, "items"))
        for index, item in enumerate(value):
            yield from _check(item, shape.member, f"{label}[{index}]", frozenset())
    elif kind == "map":
        if not isinstance(value, Mapping):
            yield f"{label}: expected a mapping, found {type(value).__name__}"
            return
        yield from (f"{label}: {message}" for message in _bounds(len(value), shape, "entries"))
        for key, item in value.items():
            yield from _check(key, shape.key, f"{label} key {key!r}", frozenset())
            yield from _check(item, shape.value, f"{label}.{key}", frozenset())
    elif kind == "string":
        if not isinstance(value, str):
            yield f"{label}: expected a string, found {value!r}"
            return
        for problem in _string_problems(shape, value):
            yield f"{label}: {problem}"
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"{label}: expected a whole number, found {value!r}"
            return
        yield from _range(value, shape, label)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield f"{label}: expected a number, found {value!r}"
            return
        yield from _range(value, shape, label)
    elif kind == "boolean" and not isinstance(value, bool):
        yield f"{label}: expected true or false, found {value!r}"


def _member_name(key: str, members: Mapping[str, Any]) -> str:
    if key in members:
        return key
    lowered = key[:1].lower() + key[1:]
    return lowered if lowered in members else key


def _bounds(size: int, shape: Any, noun: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        yield f"has {size} {noun}, at least {low} needed"
    if high is not None and size > high:
        yield f"has {size} {noun}, at most {high} allowed"


def _range(value: float, shape: Any, label: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield f"{label}: {value} is below the minimum {low}"
    if high is not None and value > high:
        yield f"{label}: {value} is above the maximum {high}"


@lru_cache(maxsize=16384)
def _string_problems(shape: Any, value: str) -> tuple[str, ...]:
    """Problems of a string for a string shape (the same values recur across steps)."""
    problems = []
    if shape.enum and value not in shape.enum:
        hint = did_you_mean(value, shape.enum)
        problems.append(f"{value!r} is not one of {', '.join(shape.enum[:12])}" + (f" ({hint})" if hint else ""))
    problems.extend(_bounds(len(value), shape, "characters"))
    pattern = _pattern(shape.metadata.get("pattern"))
    if pattern is not None and not pattern.search(value):
        problems.append(f"{value!r} does not match the pattern {shape.metadata['pattern']}")
    return tuple(problems)


@cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    """botocore patterns are Java regexes; ones Python cannot read are skipped."""
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None
