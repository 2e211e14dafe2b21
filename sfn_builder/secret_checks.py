"""A warning for each secret written into a spec's text fields.

Whatever a spec gives a job (environment, Batch parameters, hyperparameters,
arguments, commands, `request:` members) is stored in the state machine's definition and in every
execution's history, readable by anyone who may describe them. A literal that
looks like a credential, or sits under a credential's name, draws a warning at
its line pointing to Secrets Manager or SSM (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .masking import looks_secret, secret_name
from .model import Workflow
from .problems import Path, Problem, Severity
from .request_overrides import FIELD as REQUEST_FIELD
from .yaml_meaning import TEXT_FIELDS

SCANNED_FIELDS = (*TEXT_FIELDS, REQUEST_FIELD)

_HINT = (
    "keep it in Secrets Manager or SSM Parameter Store and give the job its name (for example "
    "DB_PASSWORD_SECRET: churn/db) to read at start, with the job's role allowed to read it; see docs/security.md"
)


def secret_problems(workflow: Workflow) -> list[Problem]:
    problems: dict[Path, Problem] = {}
    for step in workflow.steps.values():
        for field in SCANNED_FIELDS:
            if field not in step.config:
                continue
            root = ("defaults", "sagemaker", field) if field in step.inherited else ("steps", step.name, field)
            for path in _secrets(step.config[field], root):
                problems.setdefault(path, _warning(path))
    return list(problems.values())


def _secrets(value: Any, path: Path) -> Iterator[Path]:
    if isinstance(value, dict):
        pair = _named_pair(value)
        if pair is not None:  # an API's {Name, Value} entry (a Batch environment variable, say)
            name, value_key = pair
            if _literal(value[value_key]) and secret_name(name) and not _reference(value[value_key]):
                yield (*path, value_key)
            return
        for key, member in value.items():
            if _literal(member) and ((secret_name(str(key)) and not _reference(member)) or looks_secret(member)):
                yield (*path, key)
            else:
                yield from _secrets(member, (*path, key))
    elif isinstance(value, list | tuple):
        named = False
        for index, item in enumerate(value):
            if _literal(item) and ((named and not _reference(item)) or looks_secret(item) or _flag_with_value(item)):
                yield (*path, index)
            elif isinstance(item, dict | list):
                yield from _secrets(item, (*path, index))
            named = isinstance(item, str) and item.startswith("-") and "=" not in item and secret_name(item)
    elif _literal(value) and looks_secret(value):
        yield path


def _named_pair(value: dict) -> tuple[str, str] | None:
    """(name, the value's key) of a {Name: ..., Value: ...} mapping (either case), else None."""
    keys = {str(key).lower(): key for key in value}
    if len(value) != 2 or set(keys) != {"name", "value"} or not isinstance(value[keys["name"]], str):
        return None
    return value[keys["name"]], keys["value"]


def _flag_with_value(text: str) -> bool:
    flag, _, rest = text.partition("=")
    return flag.startswith("-") and bool(rest) and secret_name(flag) and not _reference(rest)


def _reference(text: str) -> bool:
    """A secret's name or ARN rather than the secret: `arn:...`, `churn/db`, `/prod/db/password`."""
    return text.startswith("arn:") or ("/" in text and " " not in text and not looks_secret(text))


def _literal(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and "${" not in value


def _warning(path: Path) -> Problem:
    return Problem(
        "this looks like a secret written in the spec: it would be stored in plain text in the state machine's "
        "definition and in every execution's history",
        path,
        hint=_HINT,
        severity=Severity.WARNING,
    )
