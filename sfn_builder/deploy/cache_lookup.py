"""The cache lookup Lambda: finds a completed job with the same request, so a step need not start one.

Deployed by `create` (stdlib and boto3 only) when a step has `cache:`. The state
machine sends the step's request without its generated job name and tags; the
cache key is the SHA-256 of that request as canonical JSON (sorted keys, no
spaces). It lists the step's completed jobs (by the job-name prefix, newer than the
expiry) and returns the newest one tagged with the key, described as the
synchronous task would have returned it:

    {"hit": true|false, "key": "<64 hex>", "result": <Describe*Job response> | null}

Every job the step starts is tagged `sfn-build:cache-key` with the key, so the next
execution finds it. Lookups never fail a step: any error is a miss.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

TAG = "sfn-build:cache-key"
CANDIDATES = 100  # newest completed jobs looked at
SAGEMAKER = {  # kind -> (list call, name field, describe call, summaries key, arn field)
    "processing": ("list_processing_jobs", "ProcessingJobName", "describe_processing_job", "ProcessingJobSummaries",
                   "ProcessingJobArn"),
    "training": ("list_training_jobs", "TrainingJobName", "describe_training_job", "TrainingJobSummaries",
                 "TrainingJobArn"),
    "transform": ("list_transform_jobs", "TransformJobName", "describe_transform_job", "TransformJobSummaries",
                  "TransformJobArn"),
}


def cache_key(request: Any) -> str:
    """The canonical key of a request: SHA-256 of its JSON with sorted keys and no spaces."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def handler(event: dict[str, Any], context: Any = None, clients: Any = None) -> dict[str, Any]:
    key = cache_key(event["request"])
    try:
        result = find(event, key, clients or _boto3_clients(), time.time())
    except Exception as error:
        print(f"cache lookup failed, running the job: {type(error).__name__}: {error}")
        result = None
    return {"hit": result is not None, "key": key, "result": result}


def find(event: dict[str, Any], key: str, clients: Any, now: float) -> dict[str, Any] | None:
    expire_after = event.get("expire_after")
    after = datetime.fromtimestamp(now - expire_after, UTC) if expire_after else None
    if event["kind"] == "batch":
        return _batch(clients("batch"), event, key, after)
    return _sagemaker(clients("sagemaker"), event, key, after)


def _sagemaker(sagemaker: Any, event: dict[str, Any], key: str, after: datetime | None) -> dict[str, Any] | None:
    list_call, name_field, describe_call, summaries, arn_field = SAGEMAKER[event["kind"]]
    options: dict[str, Any] = {"NameContains": event["prefix"], "StatusEquals": "Completed", "MaxResults": 100,
                               "SortBy": "CreationTime", "SortOrder": "Descending"}
    if after is not None:
        options["CreationTimeAfter"] = after
    jobs = getattr(sagemaker, list_call)(**options)[summaries][:CANDIDATES]
    for job in jobs:
        tags = sagemaker.list_tags(ResourceArn=job[arn_field]).get("Tags", [])
        if any(tag["Key"] == TAG and tag["Value"] == key for tag in tags):
            described = getattr(sagemaker, describe_call)(**{name_field: job[name_field]})
            described.pop("ResponseMetadata", None)
            return json.loads(json.dumps(described, default=_epoch_millis))
    return None


def _batch(batch: Any, event: dict[str, Any], key: str, after: datetime | None) -> dict[str, Any] | None:
    found = batch.list_jobs(
        jobQueue=event["request"]["JobQueue"], filters=[{"name": "JOB_NAME", "values": [event["prefix"] + "*"]}]
    )["jobSummaryList"]
    done = [job for job in found if job.get("status") == "SUCCEEDED"]
    if after is not None:
        done = [job for job in done if job.get("createdAt", 0) / 1000 > after.timestamp()]
    done.sort(key=lambda job: job.get("createdAt", 0), reverse=True)
    for chunk in range(0, min(len(done), CANDIDATES), 100):
        for job in batch.describe_jobs(jobs=[j["jobId"] for j in done[chunk : chunk + 100]])["jobs"]:
            if job.get("tags", {}).get(TAG) == key:
                return job
    return None


def _epoch_millis(value: Any) -> Any:
    """Times as Step Functions' SageMaker integration returns them: epoch milliseconds."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    raise TypeError(type(value).__name__)


def _boto3_clients() -> Any:
    import boto3  # in the Lambda runtime

    return boto3.client
