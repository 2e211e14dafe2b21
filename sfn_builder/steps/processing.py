"""`processing`: a SageMaker Processing job (createProcessingJob.sync)."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..code_bundles import ARCHIVE, archive_uri, code_problems
from ..model import Step, Workflow
from ..problems import Path, Problem, Severity, did_you_mean
from .base import (
    JOB_NAME_OWNED,
    ROLE_OWNED,
    Arns,
    JobEvents,
    ResultShape,
    StepKind,
    as_text,
    check_s3_uri,
    job_name,
    literal,
    literal_prefix,
    require,
    statement,
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

CONTAINER_ROOT = "/opt/ml/processing/"
CODE_INPUT = "code"
CODE_ARCHIVE = f"{CONTAINER_ROOT}input/{CODE_INPUT}/{ARCHIVE}"
# `code:` unpacked and the entrypoint run in it, as the SageMaker SDK's FrameworkProcessor does (runproc.sh)
RUN_IN_CODE = f'mkdir -p /opt/ml/code && tar -xzf {CODE_ARCHIVE} -C /opt/ml/code && cd /opt/ml/code && exec "$@"'


def input_names(step: Step) -> list[str]:
    return [i.get("name") or f"input-{n}" for n, i in enumerate(step.config.get("inputs", []), start=1)]


def output_names(step: Step) -> list[str]:
    return [o.get("name") or f"output-{n}" for n, o in enumerate(step.config.get("outputs", []), start=1)]


def container_arguments(step: Step) -> list[Any] | None:
    """`arguments` as ContainerArguments: a mapping becomes --key value pairs, in order."""
    arguments = step.config.get("arguments")
    if arguments is None:
        return None
    if isinstance(arguments, dict):
        pairs: list[Any] = []
        for key, value in arguments.items():  # a key is literal text: its ${ is not a reference
            pairs += [f"--{key}".replace("${", "$${"), as_text(value)]
        return pairs
    return [as_text(value) for value in arguments]


def report_uri(step: Step) -> str | None:
    """The S3 URI of the step's report file (may hold templates)."""
    report = step.config.get("report")
    if not report:
        return None
    names = output_names(step)
    output = step.config["outputs"][names.index(report["output"])]
    return output["destination"].rstrip("/") + "/" + report["file"].lstrip("/")


class Processing(StepKind):
    type = "processing"
    resource = "arn:aws:states:::sagemaker:createProcessingJob.sync"
    api = ("sagemaker", "CreateProcessingJob")
    result = ResultShape("sagemaker", "DescribeProcessingJobResponse")
    summary = ("ProcessingJobName", "ProcessingJobArn", "ProcessingJobStatus")
    echoes_request = True
    has_result = True
    error_prefix = "SageMaker"
    general_error = "AmazonSageMakerException"
    runs_job = True
    owned_members = MappingProxyType({"ProcessingJobName": JOB_NAME_OWNED, "RoleArn": ROLE_OWNED})
    job_events = JobEvents(
        "aws.sagemaker",
        "SageMaker Processing Job State Change",
        "ProcessingJobName",
        "ProcessingJobStatus",
        {"Failed": "Failed", "Stopped": "Stopped", "Completed": "Completed"},
        "FailureReason",
        frozenset({"Failed"}),
        "/sagemaker/home?region=<region>#/processing-jobs/<job>",
    )

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        statements = job_statements(
            arns,
            workflow,
            step,
            "processing-job",
            "ProcessingJob",
            "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
        )
        uri = report_uri(step)
        if uri is not None:  # the report is read back with s3:GetObject
            bucket, _, key = uri[len("s3://") :].partition("/")
            statements.append(
                statement(["s3:GetObject"], [f"arn:{arns.partition}:s3:::{bucket}/{literal_prefix(key)}*"])
            )
        return statements

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "image", "role", "instance_type")
        yield from check_common(self, step)
        base = ("steps", step.name)
        if kms_key(step, "output") and not step.config.get("outputs"):
            yield Problem(
                "kms.output encrypts the job's outputs, and the step has none",
                (*self.field_path(step, "kms"), "output"),
                hint="add outputs, or remove kms.output",
                severity=Severity.WARNING,
            )
        seen: dict[str, str] = {}  # SageMaker wants input and output names unique together
        for kind, items, local_key, s3_key in (
            ("inputs", step.config.get("inputs", []), "destination", "source"),
            ("outputs", step.config.get("outputs", []), "source", "destination"),
        ):
            names = input_names(step) if kind == "inputs" else output_names(step)
            for n, (item, name) in enumerate(zip(items, names, strict=True)):
                local = literal(item[local_key])
                if local is not None and not (local + "/").startswith(CONTAINER_ROOT):
                    yield Problem(
                        f"the container path {local!r} is not under {CONTAINER_ROOT}",
                        (*base, kind, n, local_key),
                        hint=f"SageMaker Processing copies data only under {CONTAINER_ROOT}, "
                        f"e.g. {CONTAINER_ROOT}{'input' if kind == 'inputs' else 'output'}/data",
                    )
                yield from check_s3_uri(item[s3_key], (*base, kind, n, s3_key))
                if name in seen:
                    both = f"two {kind} are" if seen[name] == kind else "an input and an output are both"
                    yield Problem(
                        f"{both} named {name!r}",
                        (*base, kind, n, "name"),
                        hint="SageMaker wants every input and output of a job named differently (unnamed ones are "
                        "input-1, ..., output-1, ...): rename one",
                    )
                seen[name] = kind
        yield from _code_problems(step, self.field_path(step, "code_bucket"))
        report = step.config.get("report")
        if report and step.for_each is not None:
            yield Problem(
                "a for_each step cannot have a report: every item's report would be kept in the workflow's "
                "state, which Step Functions limits to 256 KiB",
                (*base, "report"),
                hint="write one report in a step after the fan-out (e.g. one that aggregates the items' outputs)",
            )
        elif report and report["output"] not in output_names(step):
            yield Problem(
                f"the report's output {report['output']!r} is not an output of this step",
                (*base, "report", "output"),
                hint=did_you_mean(report["output"], output_names(step))
                or "name one of the step's outputs (unnamed outputs are output-1, output-2, ...)",
            )
        elif report:
            destination = step.config["outputs"][output_names(step).index(report["output"])]["destination"]
            bucket = destination[len("s3://") :].split("/", 1)[0] if destination.startswith("s3://") else ""
            if not bucket or "${" in bucket:
                yield Problem(
                    "the report's output must have a literal bucket to be read back",
                    (*base, "report", "output"),
                    hint="write the output's destination as s3://<bucket>/..., with templates only after the bucket",
                )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        inputs = [
            {
                "InputName": name,
                "S3Input": without_none(
                    {
                        "S3Uri": item["source"],
                        "LocalPath": item["destination"],
                        "S3DataType": "S3Prefix",
                        "S3InputMode": item.get("mode", "File"),
                        "S3DataDistributionType": item.get("distribution", "FullyReplicated"),
                    }
                ),
            }
            for item, name in zip(config.get("inputs", []), input_names(step), strict=True)
        ]
        entrypoint = list(config["entrypoint"]) if config.get("entrypoint") else None
        code = archive_uri(step, workflow)
        if code is not None and entrypoint is not None:
            inputs.append(
                {
                    "InputName": CODE_INPUT,
                    "S3Input": {
                        "S3Uri": code,
                        "LocalPath": CODE_ARCHIVE.rsplit("/", 1)[0],
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
            )
            entrypoint = ["/bin/sh", "-c", RUN_IN_CODE, "sfn-build-code", *entrypoint]
        outputs = [
            {
                "OutputName": name,
                "S3Output": {
                    "S3Uri": item["destination"],
                    "LocalPath": item["source"],
                    "S3UploadMode": item.get("upload_mode", "EndOfJob"),
                },
            }
            for item, name in zip(config.get("outputs", []), output_names(step), strict=True)
        ]
        vpc = vpc_config(step)
        return without_none(
            {
                "ProcessingJobName": job_name(workflow, step),
                "RoleArn": config.get("role"),
                "AppSpecification": without_none(
                    {
                        "ImageUri": config.get("image"),
                        "ContainerEntrypoint": entrypoint,
                        "ContainerArguments": container_arguments(step),
                    }
                ),
                "ProcessingResources": {
                    "ClusterConfig": without_none(
                        {
                            "InstanceCount": config.get("instance_count", 1),
                            "InstanceType": config.get("instance_type"),
                            "VolumeSizeInGB": config.get("volume_size_gb", 30),
                            "VolumeKmsKeyId": kms_key(step, "volume"),
                        }
                    )
                },
                "ProcessingInputs": inputs or None,
                "ProcessingOutputConfig": without_none({"Outputs": outputs, "KmsKeyId": kms_key(step, "output")})
                if outputs
                else None,
                "Environment": environment(step),
                "NetworkConfig": without_none({"VpcConfig": vpc, "EnableNetworkIsolation": network_isolation(step)})
                or None,
                "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds(step)},
                "Tags": tag_list(workflow),
            }
        )


def _code_problems(step: Step, bucket_path: Path) -> Iterator[Problem]:
    """`code:` runs the step's entrypoint, and takes the input name `code`."""
    if step.code_directory is None:
        return
    if not step.config.get("entrypoint"):
        yield Problem(
            "code: is run by the step's entrypoint, and the step has none",
            ("steps", step.name, "code"),
            hint="write the command that runs it from the code directory, e.g. entrypoint: [python3, clean.py]",
        )
    if CODE_INPUT in input_names(step):
        index = input_names(step).index(CODE_INPUT)
        yield Problem(
            f"the input name {CODE_INPUT!r} is the code directory's when the step has code:",
            ("steps", step.name, "inputs", index, "name"),
            hint="rename this input",
        )
    yield from code_problems(step, bucket_path)
