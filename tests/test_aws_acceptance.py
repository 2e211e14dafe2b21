"""What `compile` writes is what AWS accepts: ASL rules, state limits, exports and mock files.

One test (or more) per class of spec that used to validate and compile into
something AWS refuses at deploy or at run time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import MINIMAL, ROOT, compile_text
from statelint.linter import Linter

from sfn_builder.asl import walk_states
from sfn_builder.asl_rules import asl_findings
from sfn_builder.deploy.cloudformation import template
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import Attempts, default_config, success_case

FAN_OUT = MINIMAL.replace(
    "    entrypoint: [python3, prep.py]",
    "    entrypoint: [python3, prep.py]\n    for_each: {items: [a, b, c]}",
)


def states(definition: dict) -> dict[str, dict]:
    return dict(walk_states(definition))


# -- definitions AWS rejects -------------------------------------------------------------


def test_a_user_catch_all_is_the_only_and_last_catch_all(write_spec):
    text = (
        MINIMAL
        + "    catch:\n      - {errors: [States.Timeout], next: succeed}\n      - {errors: [States.ALL], next: fail}\n"
    )
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    catchers = states(compilation.definition)["prep"]["Catch"]
    assert [c["ErrorEquals"] for c in catchers] == [["States.Timeout"], ["States.ALL"]]
    assert list(Linter.validate(compilation.definition)) == []


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (lambda d: d["States"]["prep"]["Catch"].reverse(), "States.ALL must stand alone in the last Catch entry"),
        (lambda d: d["States"]["prep"]["Parameters"].update({"x.$": "literal"}), "is not a path or intrinsic"),
        (lambda d: d["States"]["prep"].update(Next="nowhere"), "leads to no state"),
        (lambda d: d["States"]["prep"].update(TimeoutSeconds=100_000_000), "not a whole number from 1 to 99999999"),
        (lambda d: d["States"]["prep"].update(TimeoutSeconds=float("nan")), "nan is not a whole number"),
        (lambda d: d["States"].update(orphan={"Type": "Succeed"}), "no transition leads to this state"),
        (lambda d: d["States"]["prep"].update(ResultPath="$.steps[*].x"), "must be a reference path"),
    ],
)
def test_the_asl_rules_compile_runs_catch_what_aws_refuses(write_spec, change, finding):
    text = MINIMAL + "    catch:\n      - {errors: [States.Timeout], next: succeed}\n"
    definition = compile_text(write_spec, text).definition
    assert asl_findings(definition) == []
    change(definition)
    assert any(finding in f for f in asl_findings(definition)), asl_findings(definition)


def test_a_path_key_holding_a_literal_is_found_from_the_compact_text_as_from_the_walk(write_spec):
    from sfn_builder.compiler import compact

    definition = compile_text(write_spec, MINIMAL).definition
    definition["States"]["prep"]["Comment"] = 'a text that holds "x.$": 1'  # a value, not a key
    assert asl_findings(definition, compact(definition)) == []
    definition["States"]["prep"]["Parameters"]["Tags"] = [{"Key": "k", "Value.$": 7}]
    found = asl_findings(definition, compact(definition))
    assert found == asl_findings(definition) and "Parameters.Tags[0].Value.$ is a path key" in found[0]


def test_compile_never_writes_infinity_or_nan():
    from sfn_builder.compiler import compact

    with pytest.raises(ValueError):
        compact({"States": {"x": {"Type": "Pass", "Result": float("inf"), "End": True}}, "StartAt": "x"})


# -- for_each results ------------------------------------------------------------------


def test_a_fan_out_s_member_is_the_list_of_it_across_items(write_spec):
    text = FAN_OUT + (
        "  tell:\n    type: lambda\n    needs: [prep]\n    function: f\n"
        "    payload: {statuses: '${steps.prep.ProcessingJobStatus}', all: '${steps.prep}'}\n"
    )
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    payload = states(compilation.definition)["tell"]["Parameters"]["Payload"]
    assert payload == {"statuses.$": "$.steps.prep[*].ProcessingJobStatus", "all.$": "$.steps.prep"}
    case = success_case(compilation.definition, {})
    run = engine.run(compilation.definition, "demo", {}, case)
    scheduled = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])
        for e in run.events
        if e.get("taskScheduledEventDetails", {}).get("resource") == "invoke"
    ]
    assert scheduled[0]["Payload"]["statuses"] == ["Completed", "Completed", "Completed"]


def test_a_list_where_the_api_takes_text_is_refused_at_its_line(write_spec):
    text = FAN_OUT + (
        "  after:\n    type: processing\n    needs: [prep]\n    entrypoint: [x]\n"
        "    env: {STATUS: '${steps.prep.ProcessingJobStatus}'}\n"
    )
    compilation = compile_text(write_spec, text)
    assert not compilation.ok
    (problem,) = [p for p in compilation.problems if "is a list" in p.message]
    assert "Environment.STATUS of the request takes text" in problem.message
    assert (
        problem.position.line
        == text.lstrip("\n").splitlines().index("    env: {STATUS: '${steps.prep.ProcessingJobStatus}'}") + 1
    )


# -- limits ---------------------------------------------------------------------------

REPORT = (
    MINIMAL.replace(
        "    entrypoint: [python3, prep.py]",
        "    entrypoint: [python3, prep.py]\n"
        "    outputs: [{name: out, source: /opt/ml/processing/o, destination: s3://demo-bucket/o/}]\n"
        "    report: {output: out, file: metrics.json}",
    )
    + "notifications:\n  topic: arn:aws:sns:us-east-1:123456789012:alerts\n"
)


def test_a_report_larger_than_the_state_can_hold_fails_its_step_with_one_alert(write_spec):
    compilation = compile_text(write_spec, REPORT)
    definition = compilation.definition
    assert states(definition)["prep.report-check"]["Choices"][0]["NumericGreaterThan"] == 64 * 1024
    body = json.dumps({"auc": 0.9, "curve": [0.1] * 30_000})
    case = success_case(definition, {})
    case["prep.report-size"] = [Attempts(0, 0, {"ContentLength": len(body)})]
    run = engine.run(definition, "demo", {}, case)
    assert run.status == "FAILED" and run.error == "prep.Failed"
    (alert,) = run.alerts
    assert "larger than 64 KiB" in alert.message
    assert "prep.report" not in [v.state for v in run.path]  # never read into the state


def test_reports_share_the_state(write_spec):
    steps = "".join(
        f"  r{n}:\n    type: processing\n    entrypoint: [x]\n"
        f"    outputs: [{{name: out, source: /opt/ml/processing/o, destination: s3://demo-bucket/{n}/}}]\n"
        "    report: {output: out, file: m.json}\n"
        for n in range(6)
    )
    definition = compile_text(write_spec, MINIMAL.split("steps:")[0] + "steps:\n" + steps).definition
    limits = {
        s["Choices"][0]["NumericGreaterThan"] for n, s in states(definition).items() if n.endswith("report-check")
    }
    assert limits == {192 * 1024 // 6}


def test_the_cloudformation_export_keeps_user_text_literal_and_fits_its_limits(write_spec, tmp_path):
    described = "name: demo\ndescription: '" + "é" * 1000 + "'\ninput: {note: {type: string, default: ''}}"
    text = MINIMAL.replace("name: demo", described) + (
        "schedule:\n  expression: rate(1 day)\n  input: {note: 'costs ${AWS::Region} and ${X}'}\n"
    )
    compilation = compile_text(write_spec, text)
    document = template(compilation.analysis.workflow, compilation.definition)
    assert len(document["Description"].encode()) <= 1024
    (schedule,) = [r for r in document["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert schedule["Properties"]["Targets"][0]["Input"] == {
        "Fn::Sub": json.dumps({"note": "costs ${!AWS::Region} and ${!X}"})
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    lint = subprocess.run([sys.executable, "-m", "cfnlint", str(path)], capture_output=True, text=True)
    assert not any(line.startswith("E") for line in lint.stdout.splitlines()), lint.stdout


# -- simulation that agrees with AWS -----------------------------------------------------


def test_starter_mock_files_answer_every_item_of_a_map(write_spec):
    compilation = compile_text(write_spec, (ROOT / "workflows" / "batch-fanout.yaml").read_text())
    mocks = default_config(compilation.definition, "feature-fanout", {})
    responses = mocks["MockedResponses"]
    happy = mocks["StateMachines"]["feature-fanout"]["TestCases"]["HappyPath"]
    assert list(responses[happy["copy_shard.each"]]) == ["0-9999"]  # LocalStack counts across items
    assert list(responses[happy["featurise"]]) == ["0"]
