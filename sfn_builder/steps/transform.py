"""`transform`: a SageMaker Batch Transform job (createTransformJob.sync)."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from ..model import Step, Workflow
from ..problems import Problem
from .base import JOB_NAME_OWNED, Arns, JobEvents, ResultShape, StepKind, check_s3_uri, job_name, require, tag_list
from .model_step import model_problems, served_model
from .sagemaker_common import check_common, environment, job_statements, kms_key, without_none


class Transform(StepKind):
    type = "transform"
    resource = "arn:aws:states:::sagemaker:createTransformJob.sync"
    api = ("sagemaker", "CreateTransformJob")
    result = ResultShape("sagemaker", "DescribeTransformJobResponse")
    summary = ("TransformJobName", "TransformJobArn", "TransformJobStatus")
    echoes_request = True
    has_result = True
    error_prefix = "SageMaker"
    general_error = "AmazonSageMakerException"
    runs_job = True
    owned_members = MappingProxyType({
        "TransformJobName": JOB_NAME_OWNED,
        "ModelName": "write the model as the step's `model:` (a model step's name, or a SageMaker model's)",
    })
    job_events = JobEvents(
        "aws.sagemaker",
        "SageMaker Transform Job State Change",
        "TransformJobName",
        "TransformJobStatus",
        {"Failed": "Failed", "Stopped": "Stopped", "Completed": "Completed"},
        "FailureReason",
        frozenset({"Failed"}),
        "/sagemaker/home?region=<region>#/transform-jobs/<job>",
    )

    def iam_statements(self, step: Step, workflow: Workflow, arns: Arns) -> list[dict[str, Any]]:
        return job_statements(
            arns, workflow, step, "transform-job", "TransformJob", "StepFunctionsGetEventsForSageMakerTransformJobsRule"
        )

    def checks(self, step: Step, workflow: Workflow) -> Iterator[Problem]:
        yield from require(step, self, "model", "input", "output", "instance_type")
        yield from check_common(self, step)
        for key in ("input", "output"):
            yield from check_s3_uri(step.config.get(key), ("steps", step.name, key))
        yield from model_problems(step, workflow, "the transform uses")

    def request(self, step: Step, workflow: Workflow) -> dict[str, Any]:
        config = step.config
        return without_none(
            {
                "TransformJobName": job_name(workflow, step),
                "ModelName": served_model(step, workflow),
                "TransformInput": without_none(
                    {
                        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": config.get("input")}},
                        "ContentType": config.get("content_type"),
                        "SplitType": config.get("split_type"),
                    }
                ),
                "TransformOutput": without_none(
                    {"S3OutputPath": config.get("output"), "KmsKeyId": kms_key(step, "output")}
                ),
                "TransformResources": without_none(
                    {
                        "InstanceCount": config.get("instance_count", 1),
                        "InstanceType": config.get("instance_type"),
                        "VolumeKmsKeyId": kms_key(step, "volume"),
                    }
                ),
                "Environment": environment(step),
                "Tags": tag_list(workflow),
            }
        )
