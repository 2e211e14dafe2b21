"""One workflow in several files: `include:` merges units' steps, dependencies and defaults,
and every problem points at the file, line and column where it was written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT
from test_publish import connect

from sfn_builder.compiler import compile_analysis
from sfn_builder.validate import analyze_file

ROLE = "arn:aws:iam::111122223333:role/demo-sagemaker"
IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/demo:1"
MAIN = f"""
version: 1
name: units-demo
defaults:
  sagemaker: {{role: "{ROLE}", image: "{IMAGE}", instance_type: ml.m5.xlarge}}
include: [units/*.yaml]
steps:
  report: {{type: processing, entrypoint: [python3, report.py]}}
dependencies:
  - "[churn_train, fraud_train] >> report"
"""
CHURN = """
defaults:
  sagemaker: {volume_size_gb: 50}
steps:
  churn_prepare: {type: processing, entrypoint: [python3, prepare.py]}
  churn_train: {type: training, output: "s3://demo-models/churn/"}
dependencies:
  - churn_prepare >> churn_train
"""
FRAUD = """
steps:
  fraud_train: {type: training, output: "s3://demo-models/fraud/"}
dependencies:
  - churn_prepare >> fraud_train
"""


@pytest.fixture
def units(tmp_path: Path):
    """Write the main spec and its units (with changes), returning the main spec's path."""

    def write(main: str = MAIN, **files: str) -> str:
        (tmp_path / "units").mkdir(exist_ok=True)
        for name, text in {"churn": CHURN, "fraud": FRAUD, **files}.items():
            (tmp_path / "units" / f"{name}.yaml").write_text(text.lstrip("\n"))
        (tmp_path / "main.yaml").write_text(main.lstrip("\n"))
        return str(tmp_path / "main.yaml")

    return write


def errors(path: str) -> list[str]:
    return [problem.render() for problem in analyze_file(path).problems if problem.is_error]


def test_units_join_one_workflow_with_their_dependencies_and_defaults(units):
    analysis = analyze_file(units())
    assert analysis.ok, [p.render() for p in analysis.problems]
    steps = analysis.workflow.steps
    assert list(steps) == ["report", "churn_prepare", "churn_train", "fraud_train"]
    assert set(steps["report"].needs) == {"churn_train", "fraud_train"}
    assert set(steps["fraud_train"].needs) == {"churn_prepare"}  # a unit may depend on another's steps
    assert steps["fraud_train"].config["volume_size_gb"] == 50  # defaults are the workflow's, wherever written
    definition = compile_analysis(analysis).definition
    assert {"report", "churn_prepare", "churn_train", "fraud_train"} <= set(json.dumps(definition).split('"'))


def test_a_problem_in_an_included_file_points_at_that_file(units, tmp_path):
    path = units(
        fraud=FRAUD.replace("output:", "instance_typo: ml.m5.large, output:").replace("fraud_train\n", "fraud_trian\n")
    )
    found = errors(path)
    fraud = tmp_path / "units" / "fraud.yaml"
    assert any(text.startswith(f"{fraud}:2:") and "unknown field 'instance_typo'" in text for text in found), found
    assert any(text.startswith(f"{fraud}:4:5:") and "no step 'fraud_trian'" in text for text in found), found


def test_a_step_defined_in_two_files_is_refused_at_the_second(units, tmp_path):
    found = errors(units(fraud=FRAUD.replace("fraud_train:", "churn_train:").replace(">> fraud_train", "")))
    churn = tmp_path / "units" / "churn.yaml"
    assert any(
        text.startswith(f"{tmp_path / 'units' / 'fraud.yaml'}:2:3:")
        and f"'churn_train' is defined twice (first in {churn}:5:3)" in text
        for text in found
    ), found


def test_a_default_set_differently_in_two_files_is_refused_and_equal_ones_merge(units, tmp_path):
    conflicting = CHURN.replace("{volume_size_gb: 50}", "{volume_size_gb: 50, instance_type: ml.c5.xlarge}")
    found = errors(units(churn=conflicting))
    assert any(
        text.startswith(f"{tmp_path / 'units' / 'churn.yaml'}:2:35:")
        and f"set here and, differently, in {tmp_path / 'main.yaml'}:4:" in text
        for text in found
    ), found
    assert errors(units(churn=CHURN.replace("{volume_size_gb: 50}", "{instance_type: ml.m5.xlarge}"))) == []


def test_missing_files_empty_globs_cycles_and_foreign_fields_point_at_where_they_are_written(units, tmp_path):
    main = MAIN.replace("[units/*.yaml]", "[units/*.yaml, units/gone.yaml, other/*.yaml]")
    found = errors(units(main, fraud=FRAUD + "include: [../main.yaml]\nname: fraud\n"))
    fraud = tmp_path / "units" / "fraud.yaml"
    expected = [
        (f"{tmp_path / 'main.yaml'}:5:25:", "cannot include"),
        (f"{tmp_path / 'main.yaml'}:5:42:", "no file matches 'other/*.yaml'"),
        (f"{fraud}:5:11:", "includes this file again (a cycle)"),
        (f"{fraud}:6:1:", "an included file holds steps, dependencies, defaults and include, not 'name'"),
    ]
    for where, message in expected:
        assert any(text.startswith(where) and message in text for text in found), (where, message, found)


def test_a_file_included_twice_is_merged_once(units):
    main = MAIN.replace("[units/*.yaml]", "[units/churn.yaml, units/*.yaml]")
    assert errors(units(main)) == []


def test_a_spec_may_keep_all_its_steps_in_included_files(units):
    main = (
        MAIN.replace("  report: {type: processing, entrypoint: [python3, report.py]}\n", "")
        .replace("steps:\n", "")
        .replace('  - "[churn_train, fraud_train] >> report"', "  - churn_train >> fraud_train")
    )
    analysis = analyze_file(units(main))
    assert analysis.ok, [p.render() for p in analysis.problems]
    assert list(analysis.workflow.steps) == ["churn_prepare", "churn_train", "fraud_train"]


def test_yaml_rereading_in_an_included_file_is_warned_there(units, tmp_path):
    churn = CHURN.replace("entrypoint: [python3, prepare.py]", "entrypoint: [python3, prepare.py, --strict, NO]")
    warnings = [p.render() for p in analyze_file(units(churn=churn)).problems if not p.is_error]
    assert any(text.startswith(f"{tmp_path / 'units' / 'churn.yaml'}:4:") and "NO" in text for text in warnings)


def test_the_modeling_units_example_compiles_as_one_workflow():
    """The example keeps each unit in workflows/units/; its definition is the golden one of the whole."""
    compilation = compile_analysis(analyze_file(str(ROOT / "workflows" / "modeling-units.yaml")))
    golden = json.loads((ROOT / "tests" / "golden" / "modeling-units.json").read_text())
    assert compilation.definition == golden


def test_plan_and_create_see_one_workflow(emulator, units, cli, aws_env):
    path = units()
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and "units-demo" in out
    assert cli("create", path, "--endpoint-url", emulator, "--yes")[0] == 0
    machine = (
        connect(emulator)
        .client("stepfunctions")
        .describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:units-demo")
    )
    states = json.loads(machine["definition"])["States"]
    text = json.dumps(states)
    assert all(step in text for step in ("churn_prepare", "churn_train", "fraud_train", "report"))
    code, out, _ = cli("plan", path, "--endpoint-url", emulator)
    assert code == 0 and "no changes" in out.lower()


def test_a_spec_whose_files_define_no_steps_says_so(units, tmp_path):
    main = MAIN.replace("include: [units/*.yaml]", "include: [units/churn.yaml]")
    main = main.split("steps:\n")[0]
    found = errors(units(main, churn="defaults:\n  timeout: 1h\n"))
    assert found == [
        f"{tmp_path / 'main.yaml'}:5:1: error: include: the workflow has no steps: neither this spec "
        "nor the files it includes define any\n  hint: add steps here or to an included file"
    ]
