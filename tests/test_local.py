"""The embedded local AWS: the README's main command on a machine with no account."""

from __future__ import annotations

import pytest
from conftest import ROOT

EXAMPLE = str(ROOT / "workflows" / "churn-training.yaml")


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """Keep this test's emulator record away from the user's (and stop it afterwards)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    from sfn_builder.deploy import local

    local.stop()


def test_create_local_starts_the_emulator_publishes_and_keeps_it(private_cache, cli):
    assert cli("local", "status")[0] == 1
    code, out, err = cli("create", EXAMPLE, "--local", "--yes")
    assert code == 0, err
    assert "using the local AWS emulator at http://127.0.0.1:" in err
    assert "created state machine churn-training" in out
    assert "created EventBridge Scheduler schedule churn-training-schedule" in out
    assert "State machine: arn:aws:states:us-east-1:123456789012:stateMachine:churn-training" in out
    code, out, _ = cli("local", "status")
    assert code == 0 and "local AWS emulator running at" in out
    code, out, _ = cli("plan", EXAMPLE, "--local")
    assert code == 0 and "No changes: churn-training is up to date." in out
    code, out, _ = cli("local", "stop")
    assert code == 0 and out.startswith("stopped")
    assert cli("local", "status")[0] == 1


def test_execute_local_runs_the_published_workflow_with_simulated_jobs(private_cache, cli):
    assert cli("create", EXAMPLE, "--local", "--yes")[0] == 0
    code, out, err = cli("execute", EXAMPLE, "--local", "--wait")
    assert code == 0, err
    assert "jobs are not run" in err
    lines = out.strip().splitlines()
    for step in ("clean_events", "train", "evaluate", "quality_gate", "register"):
        assert f"{step}: succeeded" in lines
    assert lines[-1] == "Execution SUCCEEDED"


def test_execute_local_with_a_failing_job_retries_alerts_and_fails(private_cache, cli):
    assert cli("create", EXAMPLE, "--local", "--yes")[0] == 0
    code, out, _ = cli("execute", EXAMPLE, "--local", "--wait", "--fail", "train=SageMaker.AmazonSageMakerException")
    assert code == 1
    lines = out.strip().splitlines()
    assert "train: retrying" in lines  # the spec retries train once
    assert lines.index("train.alert: succeeded") < lines.index("train.failed: entered")
    assert "register: entered" not in lines
    assert lines[-1] == "Failed in train: SageMaker.AmazonSageMakerException: simulated failure of train"
    code, out, _ = cli("status", EXAMPLE, "--local")
    assert [line.split()[2] for line in out.strip().splitlines()] == ["FAILED"]


def test_job_outcomes_need_the_local_emulator(cli):
    code, _, err = cli("execute", EXAMPLE, "--fail", "train")
    assert code == 2
    assert "add --local" in err
