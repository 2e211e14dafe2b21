"""for_each over items in S3: a Distributed Map (items read by Step Functions, results written to S3)."""

from __future__ import annotations

import json

import pytest
from conftest import analyze_text, compile_text
from parliament import analyze_policy_string

from sfn_builder.deploy.iam import execution_policy
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import failure, success_case
from sfn_builder.steps.base import Arns

SPEC = """
version: 1
name: shard-scoring
input:
  run_date: {{type: string, default: latest}}
steps:
  score:
    type: lambda
    function: score-shard
    for_each:
      items: "{items}"
      max_concurrency: 500{extra}
    payload: {{shard: "${{item.shard}}", where: "${{item.uri}}"}}
  done:
    type: lambda
    needs: [score]
    function: tell
notifications:
  topic: {{name: scoring-alerts}}
"""


def spec(items: str, extra: str = "") -> str:
    return SPEC.format(items=items, extra=extra)


@pytest.mark.parametrize(
    ("items", "resource", "input_type"),
    [
        ("s3://ml-data/shards/list.json", "getObject", "JSON"),
        ("s3://ml-data/shards/${input.run_date}/list.jsonl", "getObject", "JSONL"),
        ("s3://ml-data/shards/list.csv", "getObject", "CSV"),
        ("s3://ml-data/shards/", "listObjectsV2", None),
    ],
)
def test_items_in_s3_are_read_by_a_distributed_map(write_spec, items, resource, input_type):
    compilation = compile_text(write_spec, spec(items))
    assert compilation.ok, [p.render() for p in compilation.problems]
    state = compilation.definition["States"]["score"]
    assert state["ItemReader"]["Resource"] == f"arn:aws:states:::s3:{resource}"
    assert state.get("ItemReader", {}).get("ReaderConfig", {}).get("InputType") == input_type
    assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert "ItemsPath" not in state and "Iterator" not in state and "Parameters" not in state
    assert state["ItemSelector"]["item.$"] == "$$.Map.Item.Value"
    assert state["ResultPath"] is None  # never into the state: it may be far larger than 256 KiB
    if "${" in items:
        assert state["ItemReader"]["Parameters"]["Key.$"].startswith("States.Format(")


def test_tolerated_failures_and_results_in_s3(write_spec):
    extra = "\n      tolerated_failure_percentage: 5\n      results: s3://ml-data/results/"
    state = compile_text(write_spec, spec("s3://ml-data/shards/list.json", extra)).definition["States"]["score"]
    assert state["ToleratedFailurePercentage"] == 5.0
    assert state["ResultWriter"] == {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "ml-data", "Prefix": "results/"},
    }


@pytest.mark.parametrize(
    ("items", "extra", "said"),
    [
        ("s3://ml-data/shards/list.txt", "", "cannot tell how the items"),
        ("s3://ml-data/${steps.done.Payload}/list.json", "", "may only use ${input.NAME}"),
        ("${input.run_date}", "\n      results: s3://ml-data/results/", "applies to items in S3 only"),
        ("${input.run_date}", "\n      format: csv", "applies to items in S3 only"),
        ("s3://ml-data/shards/", "\n      format: manifest", "is a prefix"),
    ],
)
def test_item_sources_sfn_build_cannot_run_are_refused_at_their_line(write_spec, items, extra, said):
    analysis = analyze_text(write_spec, spec(items, extra))
    assert any(said in p.message and p.position is not None for p in analysis.problems), [
        p.render() for p in analysis.problems
    ]


def test_results_of_items_in_s3_are_not_read_from_the_state(write_spec):
    reading = "function: tell\n    payload: {x: '${steps.score}'}"
    text = spec("s3://ml-data/shards/list.json").replace("function: tell", reading)
    analysis = analyze_text(write_spec, text)
    assert any("whose items are in S3" in p.message for p in analysis.problems)


def test_express_workflows_cannot_read_items_from_s3(write_spec):
    text = spec("s3://ml-data/shards/list.json").replace("name: shard", "type: express\nname: shard")
    analysis = analyze_text(write_spec, text)
    assert any("Express workflows cannot run" in p.message for p in analysis.problems)


def test_the_role_reads_the_items_writes_the_results_and_runs_its_own_children(write_spec):
    extra = "\n      results: s3://ml-data/results/"
    compilation = compile_text(write_spec, spec("s3://ml-data/shards/${input.run_date}/list.json", extra))
    policy = execution_policy(compilation.analysis.workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    grants: dict[str, list[str]] = {}
    for statement in policy["Statement"]:
        for action in statement["Action"]:
            grants[action] = sorted({*grants.get(action, []), *statement["Resource"]})
    assert grants["s3:GetObject"] == ["arn:aws:s3:::ml-data/results/*", "arn:aws:s3:::ml-data/shards/*"]
    assert grants["s3:PutObject"] == ["arn:aws:s3:::ml-data/results/*"]
    assert grants["states:StartExecution"] == ["arn:aws:states:eu-west-1:111122223333:stateMachine:shard-scoring"]
    assert "arn:aws:states:eu-west-1:111122223333:execution:shard-scoring/*:*" in grants["states:StopExecution"]
    assert not analyze_policy_string(json.dumps(policy)).findings


def test_simulated_items_run_and_failures_beyond_the_tolerance_fail_the_step_with_one_alert(write_spec):
    definition = compile_text(write_spec, spec("s3://ml-data/shards/list.jsonl")).definition
    ok = engine.run(definition, "shard-scoring", {}, success_case(definition, {}))
    assert ok.status == "SUCCEEDED"
    failing = {**success_case(definition, {}), "score.each": failure(definition, "score.each")}
    run = engine.run(definition, "shard-scoring", {}, failing)
    assert run.status == "FAILED" and run.error == "score.Failed"
    assert "States.ExceedToleratedFailureThreshold" in run.cause
    assert [alert.subject.rpartition(": ")[2] for alert in run.alerts] == ["score failed"]


def test_failures_within_the_tolerance_let_the_workflow_go_on(write_spec):
    text = spec("s3://ml-data/shards/list.json", "\n      tolerated_failure_percentage: 100")
    definition = compile_text(write_spec, text).definition
    failing = {**success_case(definition, {}), "score.each": failure(definition, "score.each")}
    assert engine.run(definition, "shard-scoring", {}, failing).status == "SUCCEEDED"
