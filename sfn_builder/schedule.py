"""Schedule expressions in EventBridge syntax: cron(...), rate(...), at(...)."""

from __future__ import annotations

import re
from datetime import datetime

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# name, low, high, names, extra single tokens allowed
_FIELDS = (
    ("minutes", 0, 59, [], ()),
    ("hours", 0, 23, [], ()),
    ("day-of-month", 1, 31, [], ("?", "L", "LW")),
    ("month", 1, 12, _MONTHS, ()),
    ("day-of-week", 1, 7, _DAYS, ("?", "L")),
    ("year", 1970, 2199, [], ()),
)
_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)\Z")
_CRON = re.compile(r"^cron\((.*)\)\Z")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)\Z")
_HINT = "write cron(0 3 * * ? *) (minutes hours day-of-month month day-of-week year) or rate(6 hours)"


def check_expression(expression: str, *, timezone: bool) -> tuple[str, str] | None:
    """(what is wrong, how to fix it), or None when the expression is valid."""
    text = expression.strip()
    if text != expression:
        return (f"{expression!r} has spaces or a line break around it, which AWS refuses", f"write {text!r}")
    if text.startswith("rate("):
        return _check_rate(text)
    if text.startswith("cron("):
        return _check_cron(text)
    if text.startswith("at("):
        if not timezone:
            return (
                "at(...) runs once and needs a timezone (an EventBridge Scheduler schedule)",
                "add timezone: UTC, or use cron(...)",
            )
        match = _AT.match(text)
        if not match:
            return (f"{expression!r} is not a valid at(...) expression", "write at(2026-01-31T03:00:00)")
        try:
            datetime.fromisoformat(match.group(1))
        except ValueError:
            return (f"{match.group(1)!r} is not a valid date and time", "write at(2026-01-31T03:00:00)")
        return None
    return (f"{expression!r} is not a schedule expression", _HINT)


def _check_rate(text: str) -> tuple[str, str] | None:
    match = _RATE.match(text)
    if not match:
        return (f"{text!r} is not a valid rate expression", "write rate(5 minutes), rate(1 hour) or rate(2 days)")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        return ("a rate must be at least 1", "write rate(1 minute) or more")
    singular = {"minute", "hour", "day"}
    plural = {u + "s" for u in singular}
    if unit not in singular | plural:
        return (f"'{unit}' is not a rate unit", "use minute(s), hour(s) or day(s)")
    if (value == 1) != (unit in singular):
        fixed = unit.rstrip("s") if value == 1 else unit + "s"
        return (f"write rate({value} {fixed}), not rate({value} {unit})", "EventBridge wants the singular for 1")
    return None


def _check_cron(text: str) -> tuple[str, str] | None:
    match = _CRON.match(text)
    if match is None:
        return (f"{text!r} is not a valid cron expression: it must end with ')'", _HINT)
    fields = match.group(1).split()
    if len(fields) != 6:
        return (f"a cron expression has 6 fields, this one has {len(fields)}", _HINT)
    for value, (name, low, high, names, extras) in zip(fields, _FIELDS, strict=True):
        error = _check_field(value, name, low, high, names, extras)
        if error:
            return (f"cron field {name} {value!r}: {error}", _HINT)
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            "one of day-of-month and day-of-week must be '?', and only one",
            "e.g. cron(0 3 * * ? *) for every day, cron(0 3 ? * MON-FRI *) for weekdays",
        )
    return None


def _check_field(value: str, name: str, low: int, high: int, names: list[str], extras: tuple) -> str | None:
    if value in extras or value == "*":
        return None
    for part in value.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            return f"'/{step}' is not a positive increment"
        if base == "*":
            continue
        if name == "day-of-month" and base.endswith("W") and base[:-1].isdigit():
            base = base[:-1]
        if name == "day-of-week" and "#" in base:
            day, _, nth = base.partition("#")
            if not (nth.isdigit() and 1 <= int(nth) <= 5):
                return f"'#{nth}' must be 1-5"
            base = day
        if name == "day-of-week" and base.endswith("L") and len(base) > 1:
            base = base[:-1]
        ends = base.split("-")
        if len(ends) > 2:
            return f"'{part}' is not a value or a range"
        for end in ends:
            number = _number(end, low, names)
            if number is None or not low <= number <= high:
                allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
                return f"'{end}' is out of range ({allowed})"
    return None


def _number(token: str, low: int, names: list[str]) -> int | None:
    if token.isdigit():
        return int(token)
    upper = token.upper()
    return names.index(upper) + low if upper in names else None
