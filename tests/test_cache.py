"""`cache:`: a job whose request equals one that completed (within its expiry) is not started again."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import ROOT, compile_text
from test_resume import _jobs_started, _started

EXAMPLE = (ROOT / "workflows" / "churn-training.yaml").read_text()
CACHED = EXAMPLE.replace("  timeout: 2h\n", "  timeout: 2h\n  cache: {expire_after: 7d}\n", 1)
TWO_INPUTS = """
version: 1
name: two-inputs
input:
  day: {type: string, default: d1}
  model: {type: string, default: m1}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/r
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/i:1
    instance_type: ml.m5.xlarge
  cache: true
steps:
  features: {type: processing, entrypoint: [python, f.py], arguments: {day: "${input.day}"}}
  train: {type: training, needs: [features], hyperparameters: {model: "${input.model}"}, output: "s3://b-1/m/"}
  score:
    type: processing
    needs: [train]
    entrypoint: [python, s.py]
    inputs: [{source: "${steps.train.ModelArtifacts.S3ModelArtifacts}", destination: /opt/ml/processing/model}]
"""


def _path(out: str) -> dict[str, str]:
    rows = out[out.index("Path:") : out.index("Alerts published")].splitlines()[1:]
    return {line.split()[1]: line.split()[0] for line in rows if line.strip()}


def _simulate(cli, spec: str, cache, at: str, *extra: str) -> dict[str, str]:
    code, out, err = cli("simulate", spec, "--cache", str(cache), "--at", at, *extra)
    assert code == 0, err
    return _path(out)


def test_a_second_run_with_the_same_input_starts_no_cached_job_until_they_expire(cli, write_spec, tmp_path):
    spec, cache = write_spec(CACHED), tmp_path / "cache.json"
    first = _simulate(cli, spec, cache, "2026-11-01T03:00:00Z")
    jobs = ("clean_events", "clean_users", "shard_features", "train", "evaluate")
    assert all(first[job] == "ok" for job in jobs)
    second = _simulate(cli, spec, cache, "2026-11-07T03:00:00Z")
    assert all(second[job] == "cached" for job in jobs)
    assert second["register"] == "ok"  # a lambda step: not cached
    expired = _simulate(cli, spec, cache, "2026-11-08T03:00:10Z")  # 7 days and 10 seconds after the jobs ran
    assert all(expired[job] == "ok" for job in jobs)


def test_changing_one_input_reruns_exactly_the_steps_whose_request_it_changes(cli, write_spec, tmp_path):
    spec, cache = write_spec(TWO_INPUTS), tmp_path / "cache.json"
    _simulate(cli, spec, cache, "2026-11-01T03:00:00Z")
    same = _simulate(cli, spec, cache, "2026-11-02T03:00:00Z")
    assert [same[s] for s in ("features", "train", "score")] == ["cached", "cached", "cached"]
    new_model = _simulate(cli, spec, cache, "2026-11-02T03:00:00Z", "--input", '{"model": "m2"}')
    # features does not read `model`; score reads train's new model artifact
    assert [new_model[s] for s in ("features", "train", "score")] == ["cached", "ok", "ok"]


def test_the_cache_key_leaves_out_names_and_tags_and_jobs_carry_it(write_spec):
    definition = compile_text(write_spec, TWO_INPUTS).definition
    lookup = definition["States"]["features.cache"]
    assert lookup["Parameters"]["FunctionName"] == "two-inputs-cache-lookup"
    payload = lookup["Parameters"]["Payload"]
    assert "ProcessingJobName.$" not in payload["request"] and "Tags" not in payload["request"]
    assert payload["kind"] == "processing" and payload["expire_after"] is None
    tags = definition["States"]["features"]["Parameters"]["Tags"]
    assert {"Key": "sfn-build:cache-key", "Value.$": "$.steps.features.key"} in tags


def test_the_second_local_execution_starts_no_cached_job(private_cache, cli, tmp_path):
    spec = tmp_path / "churn.yaml"
    spec.write_text(CACHED)
    code, out, err = cli("create", str(spec), "--local", "--yes")
    assert code == 0, err
    assert "created Lambda function churn-training-cache-lookup" in out
    code, out, _ = cli("execute", str(spec), "--local", "--wait")
    assert code == 0
    started = sorted(_jobs_started(_started(out)))
    assert started == ["clean_events", "clean_users", "evaluate", "shard_features", "train"]
    code, out, _ = cli("execute", str(spec), "--local", "--wait")
    assert code == 0 and "train: cached (a cached job's result)" in out
    assert _jobs_started(_started(out)) == []
    code, out, _ = cli("history", str(spec), "--local")
    assert "train           cached" in out
    code, out, _ = cli("plan", str(spec), "--local")
    assert "Cached steps, reusing a completed job with an equal request: clean_events (7d)" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "  copy: {type: batch, job_queue: q, job_definition: d, cache: true, for_each: {items: [a, b]}}",
            "runs for_each: its jobs cannot be cached yet",
        ),
        (
            "  copy: {type: batch, job_queue: q, job_definition: d, cache: true, command: [run, '${execution.name}']}",
            "its request reads ${execution...}, which differs in every execution",
        ),
    ],
)
def test_cache_where_it_cannot_work_is_said_at_the_line(write_spec, cli, text, message):
    _, _, err = cli("validate", write_spec(f"version: 1\nname: c\nsteps:\n{text}\n"))
    assert message in err and "spec.yaml:4:" in err


class _FakeSageMaker:
    def __init__(self, jobs):
        self.jobs = jobs

    def list_processing_jobs(self, **options):
        after = options.get("CreationTimeAfter")
        found = [j for j in self.jobs if after is None or j["CreationTime"] > after]
        summaries = [{"ProcessingJobName": j["name"], "ProcessingJobArn": j["name"]} for j in found]
        return {"ProcessingJobSummaries": summaries}

    def list_tags(self, ResourceArn):
        job = next(j for j in self.jobs if j["name"] == ResourceArn)
        return {"Tags": [{"Key": "sfn-build:cache-key", "Value": job["key"]}]}

    def describe_processing_job(self, ProcessingJobName):
        job = next(j for j in self.jobs if j["name"] == ProcessingJobName)
        return {"ProcessingJobName": job["name"], "CreationTime": job["CreationTime"]}


def test_the_deployed_lookup_finds_the_newest_job_with_the_key_within_the_expiry():
    from sfn_builder.deploy.cache_lookup import cache_key, handler

    request = {"AppSpecification": {"ImageUri": "i"}, "b": 1}
    key = cache_key(request)
    assert key == cache_key({"b": 1, "AppSpecification": {"ImageUri": "i"}})  # canonical: key order does not matter
    old = datetime(2026, 11, 1, tzinfo=UTC)
    fake = _FakeSageMaker([{"name": "wf--prep-1", "key": key, "CreationTime": old}])
    event = {"request": request, "kind": "processing", "prefix": "wf--prep", "expire_after": None}
    answer = handler(event, clients=lambda service: fake)
    assert answer["hit"] and answer["key"] == key
    assert answer["result"]["CreationTime"] == int(old.timestamp() * 1000)  # as Step Functions returns times
    assert not handler({**event, "request": {"b": 2}}, clients=lambda service: fake)["hit"]
    assert not handler({**event, "expire_after": 60}, clients=lambda service: fake)["hit"]  # years later

    def broken(service):
        raise RuntimeError("no network")

    assert handler(event, clients=broken) == {"hit": False, "key": key, "result": None}  # a failed lookup: a miss


def test_the_lookup_role_passes_parliament_and_the_machine_may_invoke_it(write_spec):
    from conftest import analyze_text
    from parliament import analyze_policy_string

    from sfn_builder.deploy.iam import cache_lookup_policy, execution_policy
    from sfn_builder.steps.base import Arns

    workflow = analyze_text(write_spec, TWO_INPUTS).workflow
    arns = Arns("aws", "eu-west-1", "111122223333")
    lookup = cache_lookup_policy(workflow, arns, "two-inputs-cache-lookup")
    assert analyze_policy_string(json.dumps(lookup)).findings == []
    invoke = [s for s in execution_policy(workflow, arns, None)["Statement"] if "lambda:InvokeFunction" in s["Action"]]
    assert invoke[0]["Resource"][0] == "arn:aws:lambda:eu-west-1:111122223333:function:two-inputs-cache-lookup"


def test_the_cloudformation_export_carries_the_lookup_function(write_spec, cli, tmp_path):
    out = tmp_path / "template.json"
    assert cli("compile", write_spec(TWO_INPUTS), "--format", "cloudformation", "-o", str(out))[0] == 0
    resources = json.loads(out.read_text())["Resources"]
    function = next(r for r in resources.values() if r["Type"] == "AWS::Lambda::Function")
    assert function["Properties"]["FunctionName"] == "two-inputs-cache-lookup"
    assert "def handler(" in function["Properties"]["Code"]["ZipFile"]
    assert "cache lookup" in function["Properties"]["Code"]["ZipFile"]


def test_lookups_are_not_task_steps_and_a_mock_file_has_them_miss(write_spec, cli, tmp_path):
    spec = write_spec(TWO_INPUTS)
    code, _, err = cli("simulate", spec, "--fail", "nosuch")
    assert code == 2 and "(tasks: features, score, train)" in err
    out = tmp_path / "mocks.json"
    assert cli("compile", spec, "--mock-config", "-o", str(out))[0] == 0
    mocks = json.loads(out.read_text())
    assert "FeaturesCacheFails" not in mocks["StateMachines"]["two-inputs"]["TestCases"]
    lookup = mocks["MockedResponses"]["FeaturesCacheSucceeds"]
    assert next(iter(lookup.values()))["Return"]["Payload"]["hit"] is False
