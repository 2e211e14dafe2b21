"""`training`: a SageMaker Training job (createTrainingJob.sync)."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from ..code_bundles import archive_uri, bundle, code_problems
from ..model import Step, Workflow
from ..problems import Path, Problem, Severity, did_you_mean
from .base import (
    JOB_NAME_OWNED,
    ROLE_OWNED,
    Arns,
    JobEvents,
    ResultShape,
    StepKind,
    check_s3_uri,
    job_name,
    require,
    string_map,
    tag_list,
)
from .sagemaker_common import (
    check_common,
    environment,
    job_statements,
    kms_key,
    max_runtime_seconds,
    network_isolation,
    vpc_config,
    without_none,
)

# Script mode: the SageMaker SDK's framework estimators (PyTorch, TensorFlow, scikit-learn, XGBoost...)
# name the program and the archive of its source directory in these hyperparameters, JSON-encoded, and the
# framework images' training toolkit downloads, unpacks and runs it.
SCRIPT_MODE = ("sagemaker_program", "sagemaker_submit_directory")


def hyperparameters(step: Step, workflow: Workflow) -> dict[str, Any]:
    """The step's hyperparameters as strings, with script mode's when it has `code:`."""
    values = string_map(step.config.get("hyperparameters") or {})
    archive = archive_uri(step, workflow)
    if archive is not None:
        program, directory = SCRIPT_MODE
        values.update({program: json.dumps(step.config.get("entry_point")), directory: json.dumps(archive)})
    return values


def _code_problems(step: Step, bucket_path: Path) -> Iterator[Problem]:
    """`code:` and `entry_point` go together, the entry point is a file of the code, and script mode's
    hyperparameters are not the spec's to set."""
    base = ("steps", step.name)
    entry_point = step.config.get("entry_point")
    if step.code_directory is None:
        if entry_point is not None:
            yield Problem(
                "entry_point names a file of the step's code:, and the step has none",
                (*base, "entry_point"),
                hint="add code: <directory> (relative to this file) that holds it",
            )
        return
    if entry_point is None:
        yield Problem(
            "code: is run in script mode by the framework image, which needs the entry_point to run",
            (*base, "code"),
            hint="write entry_point: train.py (a file of the code directory)",
        )
    for name in SCRIPT_MODE:
        if name in (step.config.get("hyperparameters") or {}):
            yield Problem(
                f"the hyperparameter {name} is what code: and entry_point set",
                (*base, "hyperparameters", name),
                hint="remove it",
                on_key=True,
            )
    problems = list(code_problems(step, bucket_path))
    yield from problems
    if entry_point is not None and not problems:
        names = bundle(step.code_directory).names
        if entry_point not in names:
            yield Problem(
                f"{entry_point!r} is not a file of the code directory {step.code_directory}",
                (*base, "entry_point"),
                hint=did_you_mean(entry_point, names) or "name the script the framework image runs",
            )


def channels(step: Step) -> list[tuple[str, dict[str, Any]]]:
    """Each channel as (name, {source, content_type?, mode?, distribution?})."""
    return [
        (name, {"source": spec} if isinstance(spec, str) else dict(spec))
        for name, spec in step.config.get("inputs", {}).items()
    ]


class Training(StepKind):
    type = "training"
    resource = "arn:aws:states:::sagemaker:createTrainingJob.sync"
    api = ("sagemaker", "CreateTrainingJob")
    result = ResultShape("sagemaker", "DescribeTrainingJobResponse")
    summary = ("TrainingJobName", "TrainingJobArn", "TrainingJobStatus")
    echoes_request = True
    has_result = True
    error_prefix = "SageMaker"
    general_error = "AmazonSageMakerException"
    runs_job = True
    owned_members = MappingProxyType({"TrainingJobName": JOB_NAME_OWNED, "RoleArn": ROLE_OWNED})
    job_events = JobEvents(
        "aws.sagemaker",
        "SageMaker Training Job State Change",
        "TrainingJobName",
        "TrainingJobStatus",
        {"Failed": "Failed", "Stopped": "Stopped", "Completed": "Completed"},
        "FailureReason",
        frozenset({"Failed"}),
        "/sagemaker/home?region=<region>#/jobs/<job>",
    )

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        return job_statements(
            arns, workflow, step, "training-job", "TrainingJob", "StepFunctionsGetEventsForSageMakerTrainingJobsRule"
        )

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "image", "role", "instance_type", "output")
        yield from check_common(self, step)
        yield from check_s3_uri(step.config.get("output"), ("steps", step.name, "output"))
        yield from _spot_problems(step)
        yield from _metric_problems(step)
        yield from _code_problems(step, self.field_path(step, "code_bucket"))
        for name, spec in channels(step):
            path = ("steps", step.name, "inputs", name)
            yield from check_s3_uri(
                spec["source"], path if isinstance(step.config["inputs"][name], str) else (*path, "source")
            )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        vpc = vpc_config(step)
        spot = spot_config(step)
        input_config = [
            without_none(
                {
                    "ChannelName": name,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": spec["source"],
                            "S3DataDistributionType": spec.get("distribution", "FullyReplicated"),
                        }
                    },
                    "ContentType": spec.get("content_type"),
                    "InputMode": spec.get("mode"),
                }
            )
            for name, spec in channels(step)
        ]
        return without_none(
            {
                "TrainingJobName": job_name(workflow, step),
                "RoleArn": config.get("role"),
                "AlgorithmSpecification": without_none(
                    {
                        "TrainingImage": config.get("image"),
                        "TrainingInputMode": "File",
                        "MetricDefinitions": [
                            {"Name": name, "Regex": regex} for name, regex in config["metrics"].items()
                        ]
                        if config.get("metrics")
                        else None,
                    }
                ),
                "HyperParameters": hyperparameters(step, workflow) or None,
                "InputDataConfig": input_config or None,
                "OutputDataConfig": without_none(
                    {"S3OutputPath": config.get("output"), "KmsKeyId": kms_key(step, "output")}
                ),
                "ResourceConfig": without_none(
                    {
                        "InstanceCount": config.get("instance_count", 1),
                        "InstanceType": config.get("instance_type"),
                        "VolumeSizeInGB": config.get("volume_size_gb", 30),
                        "VolumeKmsKeyId": kms_key(step, "volume"),
                    }
                ),
                "Environment": environment(step),
                "VpcConfig": vpc,
                "EnableNetworkIsolation": network_isolation(step),
                "EnableManagedSpotTraining": True if spot is not None else None,
                "CheckpointConfig": {"S3Uri": spot["checkpoints"]} if spot and spot.get("checkpoints") else None,
                "StoppingCondition": without_none(
                    {
                        "MaxRuntimeInSeconds": max_runtime_seconds(step),
                        "MaxWaitTimeInSeconds": spot_max_wait_seconds(step) if spot is not None else None,
                    }
                ),
                "Tags": tag_list(workflow),
            }
        )


def spot_config(step: Step) -> dict[str, Any] | None:
    """The step's `spot:` as a mapping ({} for `spot: true`), None without spot training."""
    spot = step.config.get("spot")
    if not spot:
        return None
    return dict(spot) if isinstance(spot, Mapping) else {}


def spot_max_wait_seconds(step: Step) -> int:
    """MaxWaitTimeInSeconds: `spot.max_wait`, else the step's timeout (waiting for capacity included)."""
    from ..durations import parse_duration

    max_wait = (spot_config(step) or {}).get("max_wait")
    return parse_duration(max_wait) if max_wait is not None else int(step.timeout or max_runtime_seconds(step))


def _spot_problems(step: Step) -> Iterator[Problem]:
    spot = spot_config(step)
    if spot is None:
        return
    from ..durations import format_duration

    path = ("steps", step.name, "spot")
    max_wait, max_runtime = spot_max_wait_seconds(step), max_runtime_seconds(step)
    if max_wait < max_runtime:
        yield Problem(
            f"spot training waits at most {format_duration(max_wait)} in all, less than the job's max_runtime "
            f"({format_duration(max_runtime)}): SageMaker refuses it",
            (*path, "max_wait") if "max_wait" in spot else path,
            hint="raise spot.max_wait (the run plus the time spent waiting for spot capacity), or lower max_runtime",
        )
    elif step.timeout is not None and max_wait > step.timeout:
        yield Problem(
            f"spot.max_wait ({format_duration(max_wait)}) is longer than the step's timeout "
            f"({format_duration(step.timeout)}): the step times out before the job stops waiting",
            (*path, "max_wait"),
            hint="raise the step's timeout to at least spot.max_wait",
            severity=Severity.WARNING,
        )
    if spot.get("checkpoints") is not None:
        yield from check_s3_uri(spot["checkpoints"], (*path, "checkpoints"))


def _metric_problems(step: Step) -> Iterator[Problem]:
    for name, regex in (step.config.get("metrics") or {}).items():
        try:
            with warnings.catch_warnings():  # Python's own (a "possible nested set"): not SageMaker's concern
                warnings.simplefilter("ignore")
                groups = re.compile(regex).groups
        except re.error as error:
            groups, reason = None, str(error)
        else:
            reason = "" if groups == 1 else f"it has {groups} capturing groups"
        if groups != 1:
            yield Problem(
                f"metric {name!r}: {regex!r} is not a regular expression with one capturing group ({reason})",
                ("steps", step.name, "metrics", name),
                hint="capture the number, e.g. 'validation-auc=([0-9.]+)' (use (?:...) for other groups)",
            )
