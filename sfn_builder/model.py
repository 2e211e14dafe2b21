"""Model: the validated spec as immutable, fully resolved values.

Defaults are applied here (`defaults.sagemaker`, `defaults.timeout`,
`defaults.retry`), `dependencies:` lines are folded into each step's `needs`,
and nothing downstream reads the YAML again.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .asl import DEFAULT_MAX_ATTEMPTS
from .durations import parse_duration

if TYPE_CHECKING:
    from .templates import Reference

TERMINAL_TARGETS = ("succeed", "fail")
SAGEMAKER_TYPES = ("processing", "training", "tuning", "transform", "model", "register")
TASK_TYPES = (*SAGEMAKER_TYPES, "pipeline", "endpoint", "batch", "lambda", "sns", "workflow")
SAGEMAKER_DEFAULT_FIELDS = (
    "image",
    "role",
    "instance_type",
    "instance_count",
    "volume_size_gb",
    "max_runtime",
    "env",
    "network",
    "entrypoint",
    "code_bucket",
    "kms",
    "network_isolation",
)
# Defaults a step's own value adds to rather than replaces: `kms.output` on a step keeps the default
# volume key (encryption is not dropped by saying more).
MERGED_DEFAULT_FIELDS = ("kms",)

_AIRFLOW_SIDE = re.compile(r"^\s*(\[[^\]]*\]|[^\s\[\]>]+)\s*\Z")


@dataclass(frozen=True)
class InputField:
    name: str
    type: str
    has_default: bool
    default: Any = None
    description: str | None = None
    allowed: tuple[Any, ...] | None = None  # `enum:`: the only values an execution may give


@dataclass(frozen=True)
class RetryPolicy:
    errors: tuple[str, ...]
    interval: int | None = None
    max_attempts: int | None = None
    backoff_rate: float | None = None
    max_delay: int | None = None
    jitter: str | None = None


CATCH_THEN = ("fail", "fallback", "continue")  # what happens once a catch's handler path is done


@dataclass(frozen=True)
class CatchRule:
    """`next` runs with the error; `then` says how the flow goes on after it (see docs/design.md)."""

    errors: tuple[str, ...]
    next: str
    then: str = "fail"

    @property
    def goes_on(self) -> bool:
        """The flow goes on past the failed step without its result (`then: continue`, `next: succeed`)."""
        return self.next == "succeed" or (self.then == "continue" and self.next != "fail")

    @property
    def fallback(self) -> str | None:
        """The step whose result stands in for the failed step's."""
        return self.next if self.then == "fallback" and self.next not in TERMINAL_TARGETS else None


@dataclass(frozen=True)
class ForEach:
    items: Any  # a literal list, or a template string referencing one, or an s3:// URI (see `source`)
    max_concurrency: int | None = None
    source: ItemSource | None = None  # items read from S3 (a Distributed Map)
    tolerated_failure_percentage: float | None = None
    results: str | None = None  # s3://bucket/prefix/ where a Distributed Map writes the items' results
    format: str | None = None  # how an S3 file of items is written, as the spec says (else from its name)
    mode: str | None = None  # "inline" or "distributed" as the spec says; None: sfn-build chooses
    distributed: bool = False  # runs as a Distributed Map (see `runs_distributed`)


@dataclass(frozen=True)
class ItemSource:
    """Items in S3: a file (`format` json, jsonl, csv or manifest; None when its name does not say) or,
    for a key ending in '/', every object under that prefix (`format` "objects")."""

    bucket: str
    key: str  # may hold ${input.NAME} templates
    format: str | None


@dataclass(frozen=True)
class Cache:
    """Reuse a completed job with an equal request: any age (None), or at most `expire_after` seconds old."""

    expire_after: int | None = None


CACHE_TYPES = ("processing", "training", "transform", "batch")


@dataclass(frozen=True)
class Step:
    """One step, with its type's fields in `config` (defaults applied)."""

    name: str
    type: str
    index: int
    needs: tuple[str, ...] = ()
    timeout: int | None = None
    retry: tuple[RetryPolicy, ...] = ()
    catch: tuple[CatchRule, ...] = ()
    comment: str | None = None
    for_each: ForEach | None = None
    cache: Cache | None = None
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    inherited: frozenset[str] = frozenset()  # config keys that came from defaults.sagemaker
    folder: str = ""  # of the file that defines the step: its `code:` directory is relative to it

    @property
    def code_directory(self) -> str | None:
        """The `code:` directory, as a path from the current directory (None: the step has none)."""
        code = self.config.get("code")
        return os.path.normpath(os.path.join(self.folder, code)) if isinstance(code, str) else None

    @property
    def is_task(self) -> bool:
        return self.type in TASK_TYPES

    @cached_property
    def references(self) -> tuple[Reference, ...]:
        """Every reference the step makes (module `results`), read by much of the build: found once."""
        from .results import step_references

        return tuple(step_references(self))

    @property
    def attempts(self) -> int:
        """How many times the step may run: once, plus every retry its policies allow."""
        return 1 + sum(DEFAULT_MAX_ATTEMPTS if p.max_attempts is None else p.max_attempts for p in self.retry)

    @property
    def may_be_skipped(self) -> bool:
        """A catch lets the flow go on without this step's result."""
        return any(c.goes_on for c in self.catch)

    @property
    def targets(self) -> tuple[str, ...]:
        """Steps this one can jump to: choice `next`/`default`, catch `next`."""
        names: list[str] = [c.next for c in self.catch]
        if self.type == "choice":
            names += [rule["next"] for rule in self.config.get("choices", ())]
            if self.config.get("default"):
                names.append(self.config["default"])
        return tuple(dict.fromkeys(n for n in names if n not in TERMINAL_TARGETS))


def stands_in_for(handler: Step, failed: Step) -> bool:
    """A fallback's result can take the failed step's place: a step of the same type (and for_each),
    or a lambda whose payload holds the members read (not for a for_each step's list)."""
    if handler.type == failed.type:
        return (handler.for_each is None) == (failed.for_each is None)
    return handler.type == "lambda" and handler.for_each is None and failed.for_each is None


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str


@dataclass(frozen=True)
class Notifications:
    topic_arn: str | None
    topic_name: str | None
    subscriptions: tuple[Subscription, ...] = ()
    on_execution: tuple[str, ...] = ()
    on_jobs: tuple[str, ...] = ()
    format: str = "simple"


@dataclass(frozen=True)
class Schedule:
    expression: str
    timezone: str | None = None
    input: Mapping[str, Any] | None = None
    enabled: bool = True
    description: str | None = None


@dataclass(frozen=True)
class Logging:
    level: str = "ERROR"
    include_execution_data: bool = False
    retention_days: int = 30


@dataclass(frozen=True)
class Deployment:
    """How the alias moves to a new version: at once, or by `percent` every `interval` seconds."""

    type: str = "all_at_once"
    percent: int | None = None
    interval: int | None = None
    alarms: tuple[str, ...] = ()

    def shares(self) -> list[int]:
        """The new version's percent at each step, ending at 100."""
        if self.type == "canary" and self.percent:
            return [self.percent, 100]
        if self.type == "linear" and self.percent:
            return [*range(self.percent, 100, self.percent), 100]
        return [100]

    def describe(self) -> str:
        if self.type == "all_at_once":
            return "all at once"
        minutes = (self.interval or 0) // 60
        watch = f", watching {', '.join(self.alarms)}" if self.alarms else ""
        step = "first" if self.type == "canary" else "more every"
        return f"{self.type}: {self.percent}% {step} {minutes} min{watch}"


@dataclass(frozen=True)
class Rollout:
    """Versions and the alias the schedules start (module `deploy.drivers.aliases`)."""

    alias: str = "live"
    keep_versions: int = 10
    deployment: Deployment = field(default_factory=Deployment)


@dataclass(frozen=True)
class Workflow:
    name: str
    steps: Mapping[str, Step]
    type: str = "standard"
    parallelism: str = "exact"  # "exact": each step waits for exactly its needs; "nested": Parallel states only
    description: str | None = None
    execution_role: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    inputs: tuple[InputField, ...] = ()
    notifications: Notifications | None = None
    schedules: tuple[Schedule, ...] = ()
    logging: Logging | None = None
    rollout: Rollout = field(default_factory=Rollout)

    def input_field(self, name: str) -> InputField | None:
        return next((f for f in self.inputs if f.name == name), None)


def parse_airflow(line: str) -> list[tuple[str, str]] | None:
    """Edges of one Airflow-style line: `a >> [b, c] >> d`; None when malformed."""
    sides = line.split(">>")
    if len(sides) < 2:
        return None
    groups: list[list[str]] = []
    for side in sides:
        match = _AIRFLOW_SIDE.match(side)
        if not match:
            return None
        token = match.group(1)
        names = [n.strip() for n in token.strip("[]").split(",")] if token.startswith("[") else [token]
        if not all(names):
            return None
        groups.append(names)
    return [(a, b) for left, right in itertools.pairwise(groups) for a in left for b in right]


def build_workflow(data: Mapping[str, Any], folder_of: Callable[[str], str] = lambda step: "") -> Workflow:
    """The model of a spec that passed validation; `folder_of` names the folder of the file that defines a
    step (the spec's, or one it includes)."""
    defaults = data.get("defaults", {})
    sagemaker_defaults = defaults.get("sagemaker", {})
    extra_needs: dict[str, list[str]] = {}
    for line in data.get("dependencies", []):
        for before, after in parse_airflow(line) or []:
            extra_needs.setdefault(after, []).append(before)

    steps: dict[str, Step] = {}
    for index, (name, raw) in enumerate(data["steps"].items()):
        step_type = raw["type"]
        config = {k: v for k, v in raw.items() if k not in _COMMON_FIELDS}
        inherited = set()
        if step_type in SAGEMAKER_TYPES:
            for key in SAGEMAKER_DEFAULT_FIELDS:
                if key in sagemaker_defaults and key not in config and _takes(step_type, key):
                    config[key] = sagemaker_defaults[key]
                    inherited.add(key)
                elif key in MERGED_DEFAULT_FIELDS and key in sagemaker_defaults and _takes(step_type, key):
                    config[key] = {**sagemaker_defaults[key], **config[key]}
        needs = list(dict.fromkeys([*raw.get("needs", []), *extra_needs.get(name, [])]))
        is_task = step_type in TASK_TYPES
        if "retry" in raw or not is_task:
            retry = raw.get("retry", [])
        else:
            retry = [r for r in (_scoped(policy, step_type) for policy in defaults.get("retry", [])) if r]
        steps[name] = Step(
            name=name,
            type=step_type,
            index=index,
            needs=tuple(needs),
            timeout=_timeout(raw, defaults, config) if is_task else None,
            retry=tuple(_retry(r) for r in retry),
            catch=tuple(CatchRule(tuple(c["errors"]), c["next"], c.get("then", "fail")) for c in raw.get("catch", [])),
            comment=raw.get("comment"),
            for_each=_for_each(raw.get("for_each"), data.get("type", "standard") == "standard"),
            cache=_cache(raw.get("cache", defaults.get("cache") if _cacheable(raw) else None)),
            config=MappingProxyType(config),
            inherited=frozenset(inherited),
            folder=folder_of(name),
        )
    return Workflow(
        name=data["name"],
        steps=MappingProxyType(steps),
        type=data.get("type", "standard"),
        parallelism=data.get("parallelism", "exact"),
        description=data.get("description"),
        execution_role=data.get("execution_role"),
        tags=MappingProxyType(dict(data.get("tags", {}))),
        inputs=tuple(
            InputField(
                name,
                spec["type"],
                "default" in spec,
                spec.get("default"),
                spec.get("description"),
                tuple(spec["enum"]) if "enum" in spec else None,
            )
            for name, spec in data.get("input", {}).items()
        ),
        notifications=_notifications(data.get("notifications"), data.get("type", "standard")),
        schedules=_schedules(data.get("schedule")),
        logging=Logging(**data["logging"]) if "logging" in data else None,
        rollout=_rollout(data.get("rollout", {})),
    )


def _rollout(data: Mapping[str, Any]) -> Rollout:
    given = data.get("deployment", {})
    deployment = Deployment(
        type=given.get("type", "all_at_once"),
        percent=given.get("percent"),
        interval=parse_duration(given["interval"]) if "interval" in given else None,
        alarms=tuple(given.get("alarms", ())),
    )
    return Rollout(alias=data.get("alias", "live"), keep_versions=data.get("keep_versions", 10), deployment=deployment)


_COMMON_FIELDS = ("type", "needs", "timeout", "retry", "catch", "comment", "for_each", "cache")
_FIELDS_BY_TYPE = {
    "processing": set(SAGEMAKER_DEFAULT_FIELDS),
    "training": set(SAGEMAKER_DEFAULT_FIELDS) - {"entrypoint"},
    "tuning": set(SAGEMAKER_DEFAULT_FIELDS) - {"entrypoint"},
    "transform": {"instance_type", "instance_count", "env", "kms"},
    "model": {"image", "role", "env", "network", "network_isolation"},
    "register": {"image", "env"},
}


def _takes(step_type: str, key: str) -> bool:
    return key in _FIELDS_BY_TYPE[step_type]


JOB_TYPES = ("processing", "training", "tuning", "transform", "pipeline", "batch", "workflow")  # tasks that wait


def _scoped(policy: Mapping[str, Any], step_type: str) -> dict[str, Any] | None:
    """A default retry policy as it applies to one step type: the error names that type can raise."""
    from .error_names import applies_to

    errors = [name for name in policy["errors"] if applies_to(name, step_type)]
    return {**policy, "errors": errors} if errors else None


def _timeout(raw: Mapping[str, Any], defaults: Mapping[str, Any], config: Mapping[str, Any]) -> int:
    """A task's timeout: its own; else (for a step that waits for a job) defaults.timeout, else the
    type's built-in one; stretched to cover the job's own max_runtime plus an hour to start up."""
    if "timeout" in raw:
        return parse_duration(raw["timeout"])
    if "timeout" in defaults and raw["type"] in JOB_TYPES:
        inherited = parse_duration(defaults["timeout"])
    else:
        inherited = {"lambda": 900, "sns": 60, "model": 600, "register": 600, "endpoint": 3600}.get(raw["type"], 86400)
    if config.get("max_runtime") is not None:
        rounds = -(-config.get("max_jobs", 10) // config.get("max_parallel_jobs", 2)) if raw["type"] == "tuning" else 1
        inherited = max(inherited, rounds * parse_duration(config["max_runtime"]) + 3600)
    return inherited


def _cacheable(raw: Mapping[str, Any]) -> bool:
    """Whether `defaults.cache` applies: a job step that does not run for_each."""
    return raw["type"] in CACHE_TYPES and "for_each" not in raw


def _cache(raw: Any) -> Cache | None:
    if raw is None or raw is False:
        return None
    return Cache(parse_duration(raw["expire_after"]) if isinstance(raw, Mapping) else None)


def _retry(raw: Mapping[str, Any]) -> RetryPolicy:
    return RetryPolicy(
        errors=tuple(raw["errors"]),
        interval=parse_duration(raw["interval"]) if "interval" in raw else None,
        max_attempts=raw.get("max_attempts"),
        backoff_rate=raw.get("backoff_rate"),
        max_delay=parse_duration(raw["max_delay"]) if "max_delay" in raw else None,
        jitter=raw["jitter"].upper() if "jitter" in raw else None,
    )


S3_ITEM_FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


# What an inline Map state can run (AWS's Map state, Inline mode): at most 40 items at once, and every
# item's events in the execution's history of at most 25,000.
INLINE_MAP_CONCURRENCY = 40
INLINE_MAP_ITEMS = 2_000
HISTORY_LIMIT = 25_000  # events in a Standard execution's history
# The fewest events an inline Map item of a task adds: its iteration's start and end, the task state's
# entry and exit, and the task scheduled, started and ended (and submitted, for a task that waits for
# a job: see `item_events`).
EVENTS_PER_ITEM = 7
# What a step outside the items adds at most in a run without retries: its resume gate and task (entry,
# exit, scheduled, started, submitted, ended), or its signals to the steps that wait for it.
EVENTS_PER_STEP = 12


def runs_distributed(
    items: Any, max_concurrency: int | None, from_s3: bool, standard: bool, mode: str | None = None
) -> bool:
    """Whether a for_each runs as a Distributed Map (each item a child execution) rather than inline:
    items in S3, or `mode: distributed`; without a mode, in a Standard workflow, more items at once than
    an inline Map runs (`max_concurrency` over 40, or a literal list of more than 40 items without one),
    or a literal list too long for one execution's history (and lists too long together with the other
    steps of their execution: module `history_budget`, when compiling). A list read at run time without
    `max_concurrency` over 40 runs inline.
    (`validate` refuses a mode that cannot be: inline items in S3, a Distributed Map in an Express
    workflow.)"""
    if from_s3 or mode is not None:
        return from_s3 or mode == "distributed"
    if not standard:  # an Express workflow cannot run a Distributed Map
        return False
    wide = not max_concurrency or max_concurrency > INLINE_MAP_CONCURRENCY
    if isinstance(items, list | tuple):
        return len(items) > INLINE_MAP_ITEMS or (wide and len(items) > INLINE_MAP_CONCURRENCY)
    return max_concurrency is not None and max_concurrency > INLINE_MAP_CONCURRENCY


def item_events(step: Step) -> int:
    """The fewest history events each item of the step's for_each adds when it runs inline (measured:
    7 for a lambda's, 8 for a processing job's)."""
    return EVENTS_PER_ITEM + (step.type in JOB_TYPES)


def _for_each(raw: Mapping[str, Any] | None, standard: bool) -> ForEach | None:
    if raw is None:
        return None
    items = raw["items"]
    source = None
    if isinstance(items, str) and items.startswith("s3://"):
        bucket, _, key = items[len("s3://") :].partition("/")
        if key.endswith("/") or not key:
            found = "objects"
        else:
            found = raw.get("format") or next((f for ext, f in S3_ITEM_FORMATS.items() if key.endswith(ext)), None)
        source = ItemSource(bucket, key, found)
    tolerated = raw.get("tolerated_failure_percentage")
    return ForEach(
        tuple(items) if isinstance(items, list) else items,
        raw.get("max_concurrency"),
        source,
        float(tolerated) if tolerated is not None else None,
        raw.get("results"),
        raw.get("format"),
        raw.get("mode"),
        runs_distributed(items, raw.get("max_concurrency"), source is not None, standard, raw.get("mode")),
    )


def _notifications(raw: Mapping[str, Any] | None, workflow_type: str) -> Notifications | None:
    """Execution alerts default to every way a Standard execution can end badly (Express ones send no events)."""
    if raw is None:
        return None
    topic = raw["topic"]
    subscriptions = () if isinstance(topic, str) else topic.get("subscriptions", [])
    return Notifications(
        topic_arn=topic if isinstance(topic, str) else None,
        topic_name=None if isinstance(topic, str) else topic["name"],
        subscriptions=tuple(Subscription(s["protocol"], s["endpoint"]) for s in subscriptions),
        on_execution=tuple(
            raw.get("on_execution", ["FAILED", "TIMED_OUT", "ABORTED"] if workflow_type == "standard" else [])
        ),
        on_jobs=tuple(raw.get("on_jobs", [])),
        format=raw.get("format", "simple"),
    )


def _schedules(raw: Any) -> tuple[Schedule, ...]:
    if raw is None:
        return ()
    entries = raw if isinstance(raw, list) else [raw]
    return tuple(
        Schedule(
            expression=e["expression"],
            timezone=e.get("timezone"),
            input=MappingProxyType(dict(e["input"])) if "input" in e else None,
            enabled=e.get("enabled", True),
            description=e.get("description"),
        )
        for e in entries
    )
