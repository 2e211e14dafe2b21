"""Names the compiler makes: job-name prefixes, state names, result keys.

Job names (SageMaker and Batch jobs, nested executions) are
`<workflow>--<step>-<12 hex>`; model names are `<workflow>--<step>-<32 hex>`;
tuning job names, which SageMaker allows 32 characters, `<workflow>--<step>-<8 hex>`
with shorter parts.

- Each part is a *slug*: lowercase letters, digits and single hyphens.
  SageMaker lowercases job names in ARNs, which is why slugs are lowercase:
  one IAM resource pattern covers a step's jobs, and no other workflow's.
- The workflow part is one-to-one: a workflow name that is not its own slug
  (upper case, `_`, too long) is cut and followed by 8 hex characters of its
  SHA-256, so two workflows never share a prefix (but for a 2^-32 chance).
  The step part only has to be readable: `clean_events` is `clean-events`
  (a name too long is cut and hashed); two steps of one workflow that differ
  only in case or `_`/`-` share a prefix, which grants nothing across
  workflows.
- A slug never holds `--`, so the workflow part ends at the first `--`:
  `<workflow>--` of one workflow is never a prefix of another workflow's job
  names (`churn` + `training_clean_events` and `churn-training` +
  `clean_events` give `churn--training-clean-events-...` and
  `churn-training--clean-events-...`).
- The 12 hex characters are the last group of a fresh `States.UUID()`,
  evaluated on every attempt and Map item, so a retry gets a new name.

Every name fits its API for every spec the schema accepts: the limits are
below, and tests check them against botocore's models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

WORKFLOW_SLUG_LENGTH = 24
STEP_SLUG_LENGTH = 23
MODEL_SLUG_LENGTHS = (16, 12)  # model names end in a 32-hex execution hash
TUNING_SLUG_LENGTHS = (12, 9)  # tuning job names (at most 32 characters) end in 8 hex
SEPARATOR = "--"  # between the workflow and the step part; never inside a slug
UNIQUE_SUFFIX = "States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 4)"
SHORT_UNIQUE_SUFFIX = "States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 0)"  # 8 hex
EXECUTION_HASH = "States.Hash($$.Execution.Id, 'MD5')"
TAG_WORKFLOW = "sfn-build:workflow"
TAG_EXECUTION = "sfn-build:execution"
TAG_CACHE_KEY = "sfn-build:cache-key"
CACHE_LOOKUP = "cache-lookup"  # the cache lookup function: <workflow>-cache-lookup
RESERVED_TAG_PREFIXES = ("aws:", "sfn-build:")
RESUME_INPUT = "sfn_build_resume"  # execution input: {result key: recorded result} of steps to reuse
RESERVED_INPUT_PREFIX = "sfn_build"
# The longest names this module makes (tests check these bounds against botocore):
JOB_NAME_MAX = WORKFLOW_SLUG_LENGTH + len(SEPARATOR) + STEP_SLUG_LENGTH + 1 + 12  # 63
MODEL_NAME_MAX = MODEL_SLUG_LENGTHS[0] + len(SEPARATOR) + MODEL_SLUG_LENGTHS[1] + 1 + 32  # 63
TUNING_NAME_MAX = TUNING_SLUG_LENGTHS[0] + len(SEPARATOR) + TUNING_SLUG_LENGTHS[1] + 1 + 8  # 32
_HASH_LENGTH = 8


def owned_tags(spec_tags: Mapping[str, str], ours: Mapping[str, str]) -> dict[str, str]:
    """The spec's tags with sfn-build's own: a spec can never set or override a reserved key.

    Validation already refuses reserved keys; this is what keeps ownership unforgeable
    for any caller (AWS tag keys are case-sensitive, but a look-alike is dropped too).
    """
    kept = {key: value for key, value in spec_tags.items() if not key.lower().startswith(RESERVED_TAG_PREFIXES)}
    return {**ours, **kept}


def slug(name: str, limit: int, *, one_to_one: bool = True) -> str:
    """`name` as lowercase letters, digits and single hyphens, at most `limit` long.

    `one_to_one` hashes every name that is not its own slug, so distinct names never share one.
    """
    clean = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if len(clean) <= limit and (clean == name or (clean and not one_to_one)):
        return clean
    import hashlib  # loads OpenSSL: only when a name is hashed

    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    start = clean[: max(0, limit - _HASH_LENGTH - 1)].rstrip("-")
    return f"{start}-{digest}" if start else digest


def workflow_prefix(workflow: str) -> str:
    """What every job name of this workflow starts with, separator included."""
    return slug(workflow, WORKFLOW_SLUG_LENGTH) + SEPARATOR


def workflow_name_starts(workflow: str) -> frozenset[str]:
    """How every SageMaker name sfn-build makes for the workflow starts (jobs and endpoint configurations,
    models, tuning jobs), separator included: no other workflow's names start so (no slug holds it)."""
    lengths = (WORKFLOW_SLUG_LENGTH, MODEL_SLUG_LENGTHS[0], TUNING_SLUG_LENGTHS[0])
    return frozenset(slug(workflow, length) + SEPARATOR for length in lengths)


def job_prefix(workflow: str, step: str) -> str:
    """The start of every job name of one step (without the trailing hyphen)."""
    return workflow_prefix(workflow) + slug(step, STEP_SLUG_LENGTH, one_to_one=False)


def model_prefix(workflow: str, step: str) -> str:
    """The start of a model's name: 30 characters at most, before a 32-hex hash."""
    wf_length, step_length = MODEL_SLUG_LENGTHS
    return f"{slug(workflow, wf_length)}{SEPARATOR}{slug(step, step_length, one_to_one=False)}"


def tuning_prefix(workflow: str, step: str) -> str:
    """The start of a tuning job's name (SageMaker allows 32 characters), before 8 fresh hex."""
    wf_length, step_length = TUNING_SLUG_LENGTHS
    return f"{slug(workflow, wf_length)}{SEPARATOR}{slug(step, step_length, one_to_one=False)}"


def tuning_name_expression(workflow: str, step: str) -> str:
    """An intrinsic that yields a fresh, valid tuning job name on every attempt."""
    return f"States.Format('{tuning_prefix(workflow, step)}-{{}}', {SHORT_UNIQUE_SUFFIX})"


def job_name_expression(workflow: str, step: str) -> str:
    """An intrinsic that yields a fresh, valid job name on every attempt."""
    return f"States.Format('{job_prefix(workflow, step)}-{{}}', {UNIQUE_SUFFIX})"


def model_name_expression(workflow: str, step: str) -> str:
    """An intrinsic that yields the same model name whenever one execution computes it."""
    return f"States.Format('{model_prefix(workflow, step)}-{{}}', {EXECUTION_HASH})"


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


# A step's states that decide whether its job runs: hidden where a run is shown step by step.
GATE_ROLES = ("resume", "cache", "cache-hit")
# A step's states that put an earlier result in place of its job, and how a run shows them.
REUSE_ROLES = {"resumed": "reused", "cached": "cached"}


# A step's states that wait for and signal completion markers (module `markers`), and a Parallel's
# state that clears them: hidden like gates.
MARKER_ROLES = ("signal", "signal-one", "waiters", "notify", "notify-one", "signalled", "markers-cleared")
MARKER_ROLE_PREFIXES = ("after-", "read-", "got-", "markers-cleared-", "sent-")


# The calls of a step that polls (module `poll_states`) besides its start: the status check, the stop
# that runs only when the work outlasts the step's timeout, and a create-or-update decision's calls.
POLL_CHECK_ROLE, POLL_STOP_ROLE = "check", "stop"
POLL_SWITCH_ROLES = ("exists", "create", "update")  # the probe, and the two calls it chooses between
POLL_CALL_ROLES = (POLL_CHECK_ROLE, POLL_STOP_ROLE, *POLL_SWITCH_ROLES)


def gate_role(state: str) -> str | None:
    """The role of a step's gate, reuse or marker state (`train.cache-hit` -> "cache-hit"), else None."""
    role = state.rpartition(".")[2] if "." in state else ""
    if role in GATE_ROLES or role in REUSE_ROLES or marker_role(state):
        return role
    return None


def part_role(state: str) -> bool:
    """Whether a state starts a split workflow's part or passes its failure on (module `split`)."""
    return state.startswith(PART_STATE_PREFIX)


def marker_role(state: str) -> bool:
    """Whether a state waits for, signals or clears completion markers."""
    role = state.rpartition(".")[2] if "." in state else ""
    return role in MARKER_ROLES or role.startswith(MARKER_ROLE_PREFIXES)


def aux_state(step: str, role: str) -> str:
    """A state the compiler adds for a step; a '.' never occurs in step names."""
    return f"{step}.{role}"


def short_name(name: str, limit: int) -> str:
    """`name` in letters, digits and single hyphens, at most `limit` long (case kept)."""
    clean = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "x"
    if len(clean) <= limit:
        return clean
    import hashlib

    digest = hashlib.sha1(name.encode()).hexdigest()[:4]
    return clean[: limit - 5].rstrip("-") + "-" + digest


def resource_name(workflow: str, suffix: str = "", limit: int = 64) -> str:
    """`<workflow>-<suffix>`, at most `limit` long (the workflow part shortened when needed)."""
    tail = f"-{suffix}" if suffix else ""
    if len(workflow) + len(tail) <= limit:
        return workflow + tail
    return short_name(workflow, limit - len(tail)) + tail


def secrets_definition(workflow: str, step: str) -> str:
    """The Batch job definition `create` registers for a batch step with `secrets:` (module `deploy.drivers.
    job_definitions`): its job definition's copy with them."""
    return resource_name(workflow, short_name(step, 64), limit=128)


def part_machine(workflow: str, number: int) -> str:
    """The state machine of a workflow's part `number` (module `split`)."""
    return resource_name(workflow, f"part-{number}", limit=80)


def part_alias(text: str) -> str:
    """The alias of a part's state machine that runs this definition of it (`text`: its compact JSON, module
    `asl`): named by its digest, so that a version of the workflow's state machine starts the parts it was
    published with (a rollback too)."""
    import hashlib

    return "r-" + hashlib.sha256(text.encode()).hexdigest()[:16]


PART_ALIAS = re.compile(r"stateMachine:([A-Za-z0-9_.-]+):(r-[0-9a-f]{16})\b")  # a part alias in a definition's text


PART_STATE_PREFIX = "workflow.part-"


def part_state(number: int) -> str:
    """The parent's state that runs part `number` ('workflow.' never starts a step's own state)."""
    return f"{PART_STATE_PREFIX}{number}"


def markers_table(workflow: str) -> str:
    """`<workflow>-markers`: the DynamoDB table of a workflow's completion markers (module `markers`)."""
    return resource_name(workflow, "markers")
