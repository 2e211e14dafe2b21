"""A task's request against the 256 KiB Step Functions gives a state's input.

A task's effective input is its Parameters, rendered; past 256 KiB (UTF-8 JSON) the execution ends
with `States.DataLimitExceeded`, which no Retry or Catch handles, so no step alert runs. What the
spec writes literally into a request is known before publishing: its size is the least the
request can be (a `${...}` value counts only for its text around the references).
"""

from __future__ import annotations

import json
from typing import Any

from .steps.base import Expr
from .templates import parsed

STATE_LIMIT = 256 * 1024  # bytes of UTF-8 JSON a state's input or output may hold

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
# ASCII-escaped JSON is at least as long as its UTF-8 (an escape is 6 or 12 bytes, a character 2 to 4)
_QUICK = json.JSONEncoder(separators=(",", ":"), default=str)


def oversized_member(request: dict[str, Any]) -> tuple[tuple[str | int, ...], int] | None:
    """None when the request's literal values fit a state's input; else the deepest member that
    alone is too large (the request itself, `()`, when only together they are) and the request's
    least size in bytes."""
    if len(_QUICK.encode(request)) <= STATE_LIMIT:
        return None  # the quick test: even with its references written out, it fits
    least = _literal_bytes(request)
    if least <= STATE_LIMIT:
        return None
    member: tuple[str | int, ...] = ()
    value: Any = request
    while isinstance(value, dict | list):
        members = value.items() if isinstance(value, dict) else enumerate(value)
        largest = next(((key, item) for key, item in members if _literal_bytes(item) > STATE_LIMIT), None)
        if largest is None:
            break
        member, value = (*member, largest[0]), largest[1]
    return member, least


def _literal_bytes(value: Any) -> int:
    """Bytes of compact UTF-8 JSON that `value` takes at least, whatever its references hold."""
    if isinstance(value, Expr):
        return 2  # a run-time value: at least an empty string's quotes
    template = parsed(value) if isinstance(value, str) and "${" in value else None
    if template is not None:
        return 1 if template.single_reference else _encoded_bytes(template.literal_text())
    if isinstance(value, dict):
        inner = sum(_encoded_bytes(key) + 1 + _literal_bytes(item) for key, item in value.items())
        return 2 + inner + max(len(value) - 1, 0)
    if isinstance(value, list | tuple):
        return 2 + sum(_literal_bytes(item) for item in value) + max(len(value) - 1, 0)
    return _encoded_bytes(value)


def _encoded_bytes(value: Any) -> int:
    return len(_COMPACT.encode(value).encode("utf-8", "surrogatepass"))
