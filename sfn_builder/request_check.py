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
from types import MappingProxyType
from typing import Any

from .problems import did_you_mean
from .steps.base import Expr

_MAPPINGS = (dict, MappingProxyType)  # concrete types: much cheaper to test than collections.abc.Mapping


def check_request(request: Mapping[str, Any], shape: Any, json_members: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with `request` for `shape`, as 'Member.Path: message' lines."""
    problems: list[str] = []
    _check(request, shape, (), json_members, problems)
    return problems


def check_parameters(parameters: Mapping[str, Any], shape: Any) -> list[str]:
    """`check_request` for emitted ASL Parameters: a `Key.$` member is known at run time only."""
    return check_request(_as_request(parameters), shape)


def _as_request(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key.removesuffix(".$"): Expr(item) if key.endswith(".$") else _as_request(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_as_request(item) for item in value]
    return value


def _label(path: tuple[str | int, ...], shape: Any) -> str:
    """`ProcessingInputs[0].S3Input` (built only when there is something to say)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or shape.name


def _check(value: Any, shape: Any, path: tuple, json_members: frozenset[str], problems: list[str]) -> None:
    if type(value) is Expr or (type(value) is str and "${" in value):
        return  # known at run time only
    kind = shape.type_name
    if kind == "string":
        if type(value) is not str:
            problems.append(f"{_label(path, shape)}: expected a string, found {value!r}")
        else:
            problems.extend(f"{_label(path, shape)}: {problem}" for problem in _string_problems(shape, value))
    elif kind == "structure":
        if not isinstance(value, _MAPPINGS):
            problems.append(f"{_label(path, shape)}: expected a structure, found {type(value).__name__}")
            return
        members = shape.members
        given = {_member_name(key, members): key for key in value}
        problems.extend(
            f"{_label(path, shape)}: missing required member {required}"
            for required in shape.required_members
            if required not in given
        )
        for name, key in given.items():
            if name not in members:
                hint = did_you_mean(key, list(members))
                message = f"{shape.name} has no member {key}" + (f" ({hint})" if hint else "")
                problems.append(f"{_label((*path, key), shape)}: {message}")
            elif not (key in json_members and not path):  # Step Functions serialises JSON there itself
                _check(value[key], members[name], (*path, key), frozenset(), problems)
    elif kind == "list":
        if not isinstance(value, list | tuple):
            problems.append(f"{_label(path, shape)}: expected a list, found {type(value).__name__}")
            return
        problems.extend(f"{_label(path, shape)}: {message}" for message in _bounds(len(value), shape, "items"))
        for index, item in enumerate(value):
            _check(item, shape.member, (*path, index), frozenset(), problems)
    elif kind == "map":
        if not isinstance(value, _MAPPINGS):
            problems.append(f"{_label(path, shape)}: expected a mapping, found {type(value).__name__}")
            return
        problems.extend(f"{_label(path, shape)}: {message}" for message in _bounds(len(value), shape, "entries"))
        for key, item in value.items():
            _check(key, shape.key, (*path, f"key {key!r}"), frozenset(), problems)
            _check(item, shape.value, (*path, key), frozenset(), problems)
    elif kind in ("integer", "long", "float", "double"):
        whole = kind in ("integer", "long")
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            expected = "a whole number" if whole else "a number"
            problems.append(f"{_label(path, shape)}: expected {expected}, found {value!r}")
        else:
            problems.extend(_range(value, shape, _label(path, shape)))
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{_label(path, shape)}: expected true or false, found {value!r}")


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
