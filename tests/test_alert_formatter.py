"""The alert formatter Lambda, with recorded EventBridge events."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import boto3
from botocore.stub import Stubber
from conftest import ROOT

sys.path.insert(0, str(ROOT / "lambdas"))
import alert_formatter

EVENTS = Path(__file__).parent / "events"


def event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def describe_returning(job: dict):
    calls = []

    def describe(kind: str, name: str) -> dict:
        calls.append((kind, name))
        return job

    describe.calls = calls
    return describe


def test_a_failed_processing_job_shows_its_reason_exit_message_and_links():
    describe = describe_returning(
        {"FailureReason": "AlgorithmError: See job logs", "ExitMessage": "auc 0.61 is below 0.8\n"}
    )
    subject, message = alert_formatter.format_alert(event("sagemaker-processing-failed"), "churn-training", describe)
    assert describe.calls == [("Processing", "churn-training-evaluate-4f2a9c0d1e3b")]
    assert subject == "sfn-build: churn-training: processing job Failed"
    assert (
        "The SageMaker processing job churn-training-evaluate-4f2a9c0d1e3b of workflow churn-training ended "
        "Failed at 2026-11-20T03:41:07Z." in message
    )
    assert "Failure reason: AlgorithmError: See job logs" in message
    assert "Exit message: auc 0.61 is below 0.8" in message
    assert "sagemaker/home?region=eu-west-1#/processing-jobs/churn-training-evaluate-4f2a9c0d1e3b" in message
    assert (
        "log-group/$252Faws$252Fsagemaker$252FProcessingJobs$3FlogStreamNameFilter$3Dchurn-training-evaluate" in message
    )


def test_a_stopped_training_job_without_a_reason_says_so():
    subject, message = alert_formatter.format_alert(
        event("sagemaker-training-stopped"), "churn-training", describe_returning({"FailureReason": ""})
    )
    assert subject == "sfn-build: churn-training: training job Stopped"
    assert "Failure reason: -" in message
    assert "#/jobs/churn-training-train-8e1d2c3b4a5f" in message


def test_a_job_that_cannot_be_described_still_alerts():
    def broken(kind: str, name: str) -> dict:
        raise RuntimeError("AccessDenied")

    _, message = alert_formatter.format_alert(event("sagemaker-processing-failed"), "churn-training", broken)
    assert "Failure reason: AlgorithmError: See job logs for more information" in message
    assert "(The job could not be described: AccessDenied)" in message


def test_a_failed_batch_job_shows_the_container_and_its_logs():
    subject, message = alert_formatter.format_alert(event("batch-job-failed"), "feature-fanout", describe_returning({}))
    assert subject == "sfn-build: feature-fanout: batch job FAILED"
    assert "Status reason: Essential container in task exited" in message
    assert "Container: OutOfMemoryError: Container killed due to memory usage" in message
    assert "Exit code: 137" in message
    assert "batch/home?region=eu-west-1#jobs/detail/4c7a3f6e-1b2d-4e8f-9a0b-1c2d3e4f5a6b" in message
    assert "$252Faws$252Fbatch$252Fjob$3FlogStreamNameFilter$3Ds3-copy$252Fdefault$252F4c7a3f6e" in message


def test_a_failed_execution_shows_the_error_and_the_reason_inside_the_cause():
    subject, message = alert_formatter.format_alert(event("execution-failed"), "churn-training", describe_returning({}))
    assert subject == "sfn-build: churn-training: execution FAILED"
    assert "Error: evaluate.Failed" in message
    assert "Cause: Step evaluate failed. States.TaskFailed" in message
    assert "#/v2/executions/details/arn:aws:states:eu-west-1:111122223333:execution:churn-training:" in message


class RecordingSns:
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, **message: str) -> dict:
        self.published.append(message)
        return {"MessageId": "1"}


def test_the_handler_describes_the_job_and_publishes_to_the_topic(monkeypatch):
    monkeypatch.setenv("TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:churn-training-alerts")
    monkeypatch.setenv("WORKFLOW", "churn-training")
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    sns = RecordingSns()
    name = "churn-training-evaluate-4f2a9c0d1e3b"
    with Stubber(sagemaker) as stub:
        stub.add_response(
            "describe_processing_job",
            {
                "ProcessingJobName": name,
                "ProcessingJobArn": f"arn:aws:sagemaker:eu-west-1:111122223333:processing-job/{name}",
                "ProcessingJobStatus": "Failed",
                "FailureReason": "AlgorithmError: exit 1",
                "ExitMessage": "no rows for 2026-11-19",
                "ProcessingResources": {
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
                },
                "AppSpecification": {"ImageUri": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn:1"},
                "CreationTime": "2026-11-20T03:30:00Z",
            },
            {"ProcessingJobName": name},
        )
        monkeypatch.setattr(boto3, "client", lambda service, **_: {"sagemaker": sagemaker, "sns": sns}[service])
        result = alert_formatter.handler(event("sagemaker-processing-failed"), None)
        stub.assert_no_pending_responses()
    assert result == {"subject": "sfn-build: churn-training: processing job Failed"}
    (published,) = sns.published
    assert published["TopicArn"] == "arn:aws:sns:eu-west-1:111122223333:churn-training-alerts"
    assert published["Subject"] == "sfn-build: churn-training: processing job Failed"
    assert "Failure reason: AlgorithmError: exit 1" in published["Message"]
    assert "Exit message: no rows for 2026-11-19" in published["Message"]


def test_the_deployed_package_holds_the_handler():
    from sfn_builder.deploy.resources import formatter_zip

    package = zipfile.ZipFile(io.BytesIO(formatter_zip()))
    assert package.namelist() == ["alert_formatter.py"]
    assert package.read("alert_formatter.py") == (ROOT / "lambdas" / "alert_formatter.py").read_bytes()
    assert formatter_zip() == formatter_zip()  # byte-identical: a second create sees no code change
