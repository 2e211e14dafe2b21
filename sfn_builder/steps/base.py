"""What a step type is: one class per type owns its checks, its request body,
the API that body is checked against, and the shape of its result.

Request bodies are plain data: literal values, strings that may hold
`${...}` templates, and `Expr` values (JSONPath or intrinsic functions the
compiler writes itself). The build stage renders them into Parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..model import Step, Workflow
from ..naming import EXECUTION_HASH, TAG_EXECUTION, TAG_WORKFLOW, job_name_expression, job_prefix, owned_tags
from ..problems import Path, Problem
from ..templates import parsed
from .polling import Polling, Switch


class Expr(str):
    """A JSONPath or intrinsic expression; rendered under a `KEY.$` key."""

    __slots__ = ()


# Jobs are tagged with a hash of the execution's ARN, not the ARN: execution names may
# hold characters (`( ) ! '`, any Unicode symbol) that tag values refuse.
EXECUTION_TAG = Expr(EXECUTION_HASH)
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}\Z")
_BUCKET = re.compile(r"^(?!xn--)(?!.*-s3alias\Z)[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]\Z")
_ARN = re.compile(r"^arn:aws[a-z\-]*:([a-z0-9\-]+):([a-z0-9\-]*):(\d{12})?:(.+)\Z")


@dataclass(frozen=True)
class Arns:
    """Builds ARNs in the account and region a workflow is published to.

    For CloudFormation the parts are `${AWS::Partition}`-style placeholders.
    """

    partition: str
    region: str
    account: str

    def arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account if in_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def managed_rule(self, name: str) -> str:
        """The EventBridge rule Step Functions manages to wait for .sync jobs."""
        return self.arn("events", f"rule/{name}")


@dataclass(frozen=True)
class JobEvents:
    """The EventBridge events a job-running step type emits when a job changes state."""

    source: str
    detail_type: str
    name_field: str
    status_field: str
    statuses: dict[str, str]  # spec status (Failed, Stopped, Completed) -> the event's status
    reason_field: str
    reason_statuses: frozenset[str]  # event statuses whose events always carry the reason (AWS's docs)
    console: str  # the job's console page: a path with <region>, and <job> or <id>
    exact_name: bool = False  # the job is named exactly (an endpoint), not by a prefix with a unique end


def statement(actions: list[str], resources: list[str], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """One Allow statement (actions and resources sorted, so policies compare equal)."""
    body: dict[str, Any] = {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": sorted(set(resources))}
    if condition:
        body["Condition"] = condition
    return body


@dataclass(frozen=True)
class ResultShape:
    """Where a step's result is described: a botocore output shape."""

    service: str
    shape: str
    capitalize: bool = False  # Step Functions returns Batch members in PascalCase


class StepKind:
    """Base of every step type; the defaults fit a step that is not a task."""

    type: ClassVar[str]
    resource: ClassVar[str | None] = None
    api: ClassVar[tuple[str, str] | None] = None  # (service, operation) the request is checked against
    json_members: ClassVar[frozenset[str]] = frozenset()  # members Step Functions takes as JSON
    result: ClassVar[ResultShape | None] = None
    summary: ClassVar[tuple[str, ...]] = ()  # result members always kept
    result_root: ClassVar[tuple[str, ...]] = ()  # where `${steps.X.PATH}` starts in the raw result
    # The result is the job's describe response, which repeats the members the request sets.
    echoes_request: ClassVar[bool] = False
    has_result: ClassVar[bool] = False
    runs_job: ClassVar[bool] = False  # starts a SageMaker or Batch job (named, tagged, .sync)
    # Request members derived from other fields, which `request:` may not set: member -> what to write.
    owned_members: ClassVar[Mapping[str, str]] = {}

    job_events: ClassVar[JobEvents | None] = None
    # The errors its integration raises are `<error_prefix>.<exception of api>`, or the general one.
    error_prefix: ClassVar[str | None] = None
    general_error: ClassVar[str | None] = None
    polling: ClassVar[Polling | None] = None
    # The other API calls its states make (a poll loop's): resource -> (service, operation), checked like `api`.
    calls: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def checks(self, step: Step, workflow: Workflow) -> Iterable[Problem]:
        return ()

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        """What the state machine's role needs to run this step (least privilege)."""
        return []

    def job_prefix(self, workflow: Workflow, step: Step) -> str:
        """What the names of the jobs this step starts begin with (without the trailing hyphen)."""
        return job_prefix(workflow.name, step.name)

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        raise NotImplementedError(f"{self.type} steps have no request")

    def poll_memory(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        """What a step that polls computes once per run, under `$.poll` (Parameters of a Pass state)."""
        return {}

    def switch(self, step: Step, workflow: Workflow) -> Switch | None:
        """For a step that polls: the create-or-update decision after its start call, if it has one."""
        return None

    def describe_parameters(self, step: Step) -> dict[str, Any]:
        """For a step that polls: the request of its describe call (request data, as `request` makes)."""
        return {}

    def field_path(self, step: Step, key: str) -> Path:
        """Where a field of the step was written: the step, or `defaults.sagemaker`."""
        if key in step.inherited:
            return ("defaults", "sagemaker", key)
        return ("steps", step.name, key)


JOB_NAME_OWNED = "sfn-build names the job after the workflow and step: the policy and alerts are scoped to that name"
ROLE_OWNED = "write the role as the step's `role:` (or defaults.sagemaker.role): iam:PassRole is granted for it"


def job_name(workflow: Workflow, step: Step) -> Expr:
    return Expr(job_name_expression(workflow.name, step.name))


def tag_list(workflow: Workflow) -> list[dict[str, Any]]:
    """SageMaker-style tags: the workflow, the execution's key (MD5 of its ARN), and the spec's tags."""
    return [{"Key": key, "Value": value} for key, value in tag_map(workflow).items()]


def tag_map(workflow: Workflow) -> dict[str, Any]:
    return owned_tags(workflow.tags, {TAG_WORKFLOW: workflow.name, TAG_EXECUTION: EXECUTION_TAG})


def as_text(value: Any) -> Any:
    """A scalar as the string an API wants (templates and expressions unchanged)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def literal(value: Any) -> str | None:
    """The value when it is a string with no `${...}`, else None."""
    template = parsed(value)
    return template.literal_text() if template is not None and template.is_literal else None


def literal_prefix(value: str) -> str:
    """The text before the first `${` (what can be checked before run time)."""
    return value.split("${", 1)[0]


def check_role(value: Any, path: Path, what: str = "role") -> Iterator[Problem]:
    text = literal(value)
    if text is not None and not _ROLE_ARN.match(text):
        yield Problem(
            f"{text!r} is not an IAM role ARN",
            path,
            hint=f"the {what} is written arn:aws:iam::<12-digit account>:role/<name>",
        )


def check_s3_uri(value: Any, path: Path) -> Iterator[Problem]:
    if not isinstance(value, str) or value.startswith("${"):
        return  # the whole URI comes from a reference
    known = literal_prefix(value)
    if not known.startswith("s3://"):
        yield Problem(f"{value!r} is not an S3 URI", path, hint="write s3://<bucket>/<prefix>")
        return
    rest = known[len("s3://") :]
    if "/" in rest or "${" not in value:  # the bucket name is all there
        bucket = rest.split("/", 1)[0]
        if not _BUCKET.match(bucket):
            yield Problem(
                f"{bucket!r} is not a valid S3 bucket name",
                path,
                hint="bucket names are 3-63 lowercase letters, digits, dots and hyphens",
            )


def check_arn(value: Any, path: Path, service: str, what: str, example: str) -> Iterator[Problem]:
    text = literal(value)
    if text is None:
        return
    match = _ARN.match(text)
    if not match or match.group(1) != service:
        yield Problem(f"{text!r} is not {what}", path, hint=f"for example {example}")


def require(step: Step, kind: StepKind, *keys: str) -> Iterator[Problem]:
    """Fields a step must have after defaults are applied."""
    for key in keys:
        if step.config.get(key) in (None, "", [], {}):
            where = " or defaults.sagemaker." + key if key in _SAGEMAKER_DEFAULTABLE else ""
            yield Problem(
                f"a {step.type} step needs '{key}'",
                ("steps", step.name),
                hint=f"set steps.{step.name}.{key}{where}",
            )


_SAGEMAKER_DEFAULTABLE = {"image", "role", "instance_type", "instance_count", "volume_size_gb"}


def string_map(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: as_text(value) for key, value in values.items()}
