"""`training`: a SageMaker Training job (createTrainingJob.sync)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import Step, Workflow
from ..problems import Problem
from .base import Arns, JobEvents, ResultShape, StepKind, check_s3_uri, job_name, require, string_map, tag_list
from .sagemaker_common import check_common, environment, job_statements, max_runtime_seconds, vpc_config, without_none


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
    has_result = True
    error_prefix = "SageMaker"
    general_error = "AmazonSageMakerException"
    runs_job = True
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
        for name, spec in channels(step):
            path = ("steps", step.name, "inputs", name)
            yield from check_s3_uri(
                spec["source"], path if isinstance(step.config["inputs"][name], str) else (*path, "source")
            )

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        vpc = vpc_config(step)
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
                "AlgorithmSpecification": {"TrainingImage": config.get("image"), "TrainingInputMode": "File"},
                "HyperParameters": string_map(config["hyperparameters"]) if config.get("hyperparameters") else None,
                "InputDataConfig": input_config or None,
                "OutputDataConfig": {"S3OutputPath": config.get("output")},
                "ResourceConfig": {
                    "InstanceCount": config.get("instance_count", 1),
                    "InstanceType": config.get("instance_type"),
                    "VolumeSizeInGB": config.get("volume_size_gb", 30),
                },
                "Environment": environment(step),
                "VpcConfig": vpc,
                "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds(step)},
                "Tags": tag_list(workflow),
            }
        )
