"""Durations as the spec writes them: `30s`, `90m`, `2h`, `1d`, or seconds."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"^([0-9]+)([smhd])\Z")


def parse_duration(value: int | str) -> int:
    """Seconds in a duration; raises ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, float) and value.is_integer():  # `3.` in YAML: an integer to JSON Schema, too
        value = int(value)
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"{value} is not a positive number of seconds")
        return value
    match = _PATTERN.match(value.strip()) if isinstance(value, str) else None
    if not match or not int(match.group(1)):
        raise ValueError(f"{value!r} is not a duration")
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: int) -> str:
    """The shortest exact spelling of a duration: 7200 -> '2h'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
