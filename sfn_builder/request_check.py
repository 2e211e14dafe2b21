"""Check request bodies against the service models that ship with botocore.

Before anything is written, each task's request is walked alongside its API's
input shape: unknown and missing members, types, lengths, ranges, patterns and
enums. Values only known at run time (`${...}` templates, compiler
expressions) are checked for their place in the shape, not their content; the
templates met on the way are handed to the caller (`run_time`), which checks
what they resolve to (see `runtime_types`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any

from .problems import did_you_mean
from .steps.base import Expr

_MAPPINGS = (dict, MappingProxyType)  # concrete types: much cheaper to test than collections.abc.Mapping


RunTimeValue = tuple[str, Any, tuple]  # a `${...}` string, the shape that receives it, its member path


class _Findings(list):
    """The problems found ('Member.Path: message'), where each was found, and the run-time values met."""

    def __init__(self, run_time: list[RunTimeValue]) -> None:
        super().__init__()
        self.run_time = run_time
        self.places: list[tuple[tuple, bool]] = []  # (member path, whether the member's name is wrong)

    def add(self, path: tuple, shape: Any, message: str, *, name_wrong: bool = False) -> None:
        self.append(f"{_label(path, shape)}: {message}")
        self.places.append((path, name_wrong))


def check_request(
    request: Mapping[str, Any],
    shape: Any,
    json_members: frozenset[str] = frozenset(),
    run_time: list[RunTimeValue] | None = None,
) -> list[str]:
    """What is wrong with `request` for `shape`, as 'Member.Path: message' lines.

    Every `${...}` string met is added to `run_time` with its shape and path.
    """
    return [message for _, message, _ in located_problems(request, shape, json_members, run_time)]


def located_problems(
    request: Mapping[str, Any],
    shape: Any,
    json_members: frozenset[str] = frozenset(),
    run_time: list[RunTimeValue] | None = None,
) -> list[tuple[tuple, str, bool]]:
    """`check_request`'s problems, each with the member path where it was found and whether it is
    the member's name that is wrong (an unknown member) rather than its value."""
    problems = _Findings([] if run_time is None else run_time)
    _checker(shape)(request, (), problems, json_members)
    return [(path, message, name_wrong) for (path, name_wrong), message in zip(problems.places, problems, strict=True)]


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


Checker = Callable[[Any, tuple, list[str], frozenset[str]], None]


def _at_run_time(value: Any, shape: Any, path: tuple, problems: Any) -> bool:
    """Whether the value is known at run time only (a template is noted for the caller)."""
    if type(value) is str and "${" in value:
        problems.run_time.append((value, shape, path))
        return True
    return type(value) is Expr


@cache
def _checker(shape: Any) -> Checker:
    """A check of values against `shape`, made once per shape (members are looked up when used:
    shapes can be recursive). `skip` names top-level members Step Functions serialises itself."""
    kind = shape.type_name
    if kind == "string":
        return _string_checker(shape)
    if kind == "structure":
        return _structure_checker(shape)
    if kind in ("list", "map"):
        return _collection_checker(shape, kind)
    if kind in ("integer", "long", "float", "double"):
        return _number_checker(shape, kind)
    if kind == "boolean":

        def check_boolean(value: Any, path: tuple, problems: list[str], skip: frozenset[str]) -> None:
            if not isinstance(value, bool) and not _at_run_time(value, shape, path, problems):
                problems.add(path, shape, f"expected true or false, found {value!r}")

        return check_boolean
    return lambda value, path, problems, skip: None


def _string_checker(shape: Any) -> Checker:
    def check_string(value: Any, path: tuple, problems: list[str], skip: frozenset[str]) -> None:
        if type(value) is str:
            if "${" in value:
                problems.run_time.append((value, shape, path))
            else:
                for problem in _string_problems(shape, value):
                    problems.add(path, shape, problem)
        elif type(value) is not Expr:
            problems.add(path, shape, f"expected a string, found {value!r}")

    return check_string


def _structure_checker(shape: Any) -> Checker:
    members = shape.members
    required = tuple(shape.required_members)

    def check_structure(value: Any, path: tuple, problems: list[str], skip: frozenset[str]) -> None:
        if not isinstance(value, _MAPPINGS):
            if not _at_run_time(value, shape, path, problems):
                problems.add(path, shape, f"expected a structure, found {type(value).__name__}")
            return
        given = {_member_name(key, members): key for key in value}
        for name in required:
            if name not in given:
                problems.add(path, shape, f"missing required member {name}")
        for name, key in given.items():
            member = members.get(name)
            if member is None:
                names = [n[:1].upper() + n[1:] for n in members] if key[:1].isupper() else list(members)
                hint = did_you_mean(key, names)  # spelled as the key is: Batch members in either case
                message = f"{shape.name} has no member {key}" + (f" ({hint})" if hint else "")
                problems.add((*path, key), shape, message, name_wrong=True)
            elif key not in skip:
                _checker(member)(value[key], (*path, key), problems, _NONE)

    return check_structure


def _collection_checker(shape: Any, kind: str) -> Checker:
    is_list = kind == "list"
    expected, noun = ("a list", "items") if is_list else ("a mapping", "entries")

    def check_collection(value: Any, path: tuple, problems: list[str], skip: frozenset[str]) -> None:
        if not isinstance(value, list | tuple if is_list else _MAPPINGS):
            if not _at_run_time(value, shape, path, problems):
                problems.add(path, shape, f"expected {expected}, found {type(value).__name__}")
            return
        for message in _bounds(len(value), shape, noun):
            problems.add(path, shape, message)
        if is_list:
            check_item = _checker(shape.member)
            for index, item in enumerate(value):
                check_item(item, (*path, index), problems, _NONE)
            return
        check_key, check_value = _checker(shape.key), _checker(shape.value)
        for key, item in value.items():
            check_key(key, (*path, f"key {key!r}"), problems, _NONE)
            check_value(item, (*path, key), problems, _NONE)

    return check_collection


def _number_checker(shape: Any, kind: str) -> Checker:
    whole = kind in ("integer", "long")
    accepted = int if whole else int | float
    expected = "a whole number" if whole else "a number"

    def check_number(value: Any, path: tuple, problems: list[str], skip: frozenset[str]) -> None:
        if isinstance(value, bool) or not isinstance(value, accepted):
            if not _at_run_time(value, shape, path, problems):
                problems.add(path, shape, f"expected {expected}, found {value!r}")
        else:
            for message in _range(value, shape):
                problems.add(path, shape, message)

    return check_number


_NONE: frozenset[str] = frozenset()


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


def _range(value: float, shape: Any) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield f"{value} is below the minimum {low}"
    if high is not None and value > high:
        yield f"{value} is above the maximum {high}"


@lru_cache(maxsize=16384)
def _string_problems(shape: Any, value: str) -> tuple[str, ...]:
    """Problems of a string for a string shape (the same values recur across steps)."""
    problems = []
    if shape.enum and value not in shape.enum:
        hint = did_you_mean(value, shape.enum)
        problems.append(f"{value!r} is not one of {', '.join(shape.enum[:12])}" + (f" ({hint})" if hint else ""))
    problems.extend(_bounds(len(value), shape, "characters"))
    pattern = _pattern(shape.metadata.get("pattern"))
    if pattern is not None and not pattern(value):
        problems.append(f"{value!r} does not match the pattern {shape.metadata['pattern']}")
    return tuple(problems)


@cache
def _pattern(text: str | None) -> Callable[[str], Any] | None:
    """A test of a botocore pattern, a Java regex.

    AWS matches a pattern against the whole value unless it anchors itself (`^...`):
    `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*` refuses `rerun(2)`, though it occurs in it. `re` reads most
    patterns; one with Unicode classes (`\\p{L}` and the like) is read by `regex`, or, for an ASCII
    value, by `re` with the classes' ASCII members (importing `regex` takes 20 ms).
    """
    if not text:
        return None
    plain = _compiled_by_re(text)
    if plain is not None:
        return _matcher(plain, text)
    ascii_text = _ascii_classes(text)
    ascii_compiled = _compiled_by_re(ascii_text) if ascii_text is not None else None
    ascii_test = _matcher(ascii_compiled, text) if ascii_compiled is not None else None

    def test(value: str) -> Any:
        if ascii_test is not None and value.isascii():
            return ascii_test(value)
        unicode_test = _compiled_by_regex(text)
        return unicode_test(value) if unicode_test is not None else True

    return test


@cache
def _compiled_by_regex(text: str) -> Callable[[str], Any] | None:
    """A test of `text` by the `regex` package, which reads Java's Unicode classes (None if it cannot)."""
    import regex

    try:
        return _matcher(regex.compile(text), text)
    except regex.error:  # none of botocore's patterns today; a new one must not break compiling
        return None


def _compiled_by_re(text: str) -> re.Pattern[str] | None:
    """`text` compiled by `re`, or None when `re` cannot read it as Java does (a nested set warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        try:
            return re.compile(text)
        except (re.error, FutureWarning):
            return None


def _matcher(compiled: Any, text: str) -> Callable[[str], Any]:
    return compiled.search if text.startswith("^") else compiled.fullmatch


# The ASCII members of the Unicode classes botocore's patterns use: letters, separators, numbers.
_ASCII_MEMBERS = {"L": "A-Za-z", "Z": " ", "N": "0-9"}
_UNICODE_CLASS = re.compile(r"\\(?:p\{(\w+)\}|.)|(\[)|(\])", re.DOTALL)


def _ascii_classes(text: str) -> str | None:
    """`text` with each Unicode class as its ASCII members (a pattern for ASCII values), or None when it
    holds a class not known here."""
    depth, unknown = 0, False

    def replace(match: re.Match[str]) -> str:
        nonlocal depth, unknown
        name, opening, closing = match.groups()
        if opening:
            depth += 1
        elif closing:
            depth = max(depth - 1, 0)
        elif name is not None:
            if name not in _ASCII_MEMBERS:
                unknown = True
                return match.group(0)
            members = _ASCII_MEMBERS[name]
            return members if depth else f"[{members}]"
        return match.group(0)

    translated = _UNICODE_CLASS.sub(replace, text)
    return None if unknown or "\\P{" in text else translated


def pattern_problems(shape: Any, value: str) -> tuple[str, ...]:
    """What is wrong with a run-time string value for a string shape (length, pattern, enum)."""
    return _string_problems(shape, value)
