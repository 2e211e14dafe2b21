"""Names the compiler makes: job-name prefixes, state names, result keys.

Job names are `<workflow>-<step>-<12 hex>`: the hex is the last group of a
fresh UUID (48 random bits), evaluated by Step Functions on every attempt, so
a retry or another Map item gets a new name; two jobs of the same step share
a name with a chance of about n^2 / 2^49 after n runs (2e-6 after 36,500).
Workflow and step parts are at most 24 characters each, so a name fits
SageMaker's 63-character limit. A longer name is shortened to its start plus
4 hex characters of its hash, which keeps two long names that share a start
apart.
"""

from __future__ import annotations

import hashlib
import re

WORKFLOW_PREFIX_LENGTH = 24
STEP_PREFIX_LENGTH = 24
UNIQUE_SUFFIX = "States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 4)"
MODEL_PREFIX_LENGTHS = (16, 13)  # model names end in a 32-hex execution hash
TAG_WORKFLOW = "sfn-build:workflow"
TAG_EXECUTION = "sfn-build:execution"


def short_name(name: str, limit: int) -> str:
    """`name` in letters, digits and single hyphens, at most `limit` long."""
    clean = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "x"
    if len(clean) <= limit:
        return clean
    digest = hashlib.sha1(name.encode()).hexdigest()[:4]
    return clean[: limit - 5].rstrip("-") + "-" + digest


def workflow_prefix(workflow: str) -> str:
    """What every job of this workflow's name starts with (before the hyphen)."""
    return short_name(workflow, WORKFLOW_PREFIX_LENGTH)


def job_prefix(workflow: str, step: str) -> str:
    return f"{workflow_prefix(workflow)}-{short_name(step, STEP_PREFIX_LENGTH)}"


def model_prefix(workflow: str, step: str) -> str:
    """The start of a model's name: 30 characters at most, before a 32-hex hash."""
    wf_length, step_length = MODEL_PREFIX_LENGTHS
    return f"{short_name(workflow, wf_length)}-{short_name(step, step_length)}"


def job_name_expression(workflow: str, step: str) -> str:
    """An intrinsic that yields a fresh, valid job name on every attempt."""
    return f"States.Format('{job_prefix(workflow, step)}-{{}}', {UNIQUE_SUFFIX})"


def result_keys(step_names: list[str]) -> dict[str, str]:
    """The key under `$.steps` that holds each step's result: a JSONPath-safe name."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for name in step_names:
        key = name.replace("-", "_")
        if key[0].isdigit():
            key = "_" + key
        base, n = key, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        keys[name] = key
    return keys


def aux_state(step: str, role: str) -> str:
    """A state the compiler adds for a step; a '.' never occurs in step names."""
    return f"{step}.{role}"


def resource_name(workflow: str, suffix: str = "", limit: int = 64) -> str:
    """`<workflow>-<suffix>`, at most `limit` long (the workflow part shortened when needed)."""
    tail = f"-{suffix}" if suffix else ""
    if len(workflow) + len(tail) <= limit:
        return workflow + tail
    return short_name(workflow, limit - len(tail)) + tail
