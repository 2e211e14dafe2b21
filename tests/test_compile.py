"""Compilation: golden ASL for every example, statelint, determinism, and the
properties of the generated definition that users rely on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL, ROOT, WORKFLOWS, compile_text
from statelint.linter import Linter

from sfn_builder.asl import alerted_errors
from sfn_builder.build import walk_states
from sfn_builder.compiler import compile_analysis
from sfn_builder.validate import analyze_file

GOLDEN = Path(__file__).parent / "golden"


def compiled(path: Path) -> str:
    compilation = compile_analysis(analyze_file(str(path)))
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation.json()


def statelint_problems(definition: str) -> list[str]:
    return list(Linter.validate(json.loads(definition)))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.stem for w in WORKFLOWS])
def test_golden_asl(workflow: Path):
    golden = GOLDEN / f"{workflow.stem}.json"
    text = compiled(workflow)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{workflow.name} no longer compiles to {golden.name}; if the change is intended, "
        "rerun with UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.stem for w in WORKFLOWS])
def test_statelint_accepts_every_example(workflow: Path):
    assert statelint_problems(compiled(workflow)) == []


def test_output_is_byte_identical_across_processes(tmp_path):
    """Same spec, same bytes, whatever Python's hash seed."""
    outputs = []
    for seed in ("1", "2"):
        target = tmp_path / f"out-{seed}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sfn_builder",
                "compile",
                str(ROOT / "workflows" / "churn-training.yaml"),
                "-o",
                str(target),
            ],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
        )
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]


def states_of(definition: dict) -> dict[str, dict]:
    return dict(walk_states(definition))


def test_every_task_has_a_timeout_retries_and_a_failure_path_with_one_alert(write_spec):
    definition = json.loads(compiled(ROOT / "workflows" / "churn-training.yaml"))
    states = states_of(definition)
    tasks = {n: s for n, s in states.items() if s["Type"] == "Task" and not n.endswith(".alert")}
    assert {"clean_events", "clean_users", "shard_features", "train", "evaluate", "register"} <= set(tasks)
    for name, state in tasks.items():
        assert state["TimeoutSeconds"] > 0, name
        step = name.split(".")[0]
        catch_all = state["Catch"][-1]
        assert catch_all["ErrorEquals"] == ["States.ALL"], name
        target = states[catch_all["Next"]]
        if target["Type"] == "Pass":  # names the step for the failure path its block's steps share
            assert (target["Result"], target["ResultPath"]) == (step, "$.failed_step"), name
            alert, error = states[target["Next"]], "States.Format('{}.Failed', $.failed_step)"
            assert "$.failed_step" in alert["Parameters"]["Message.$"]
        else:  # alone in its Parallel branch: it fails the branch, and the Parallel state alerts
            assert (target["Type"], target["Error"]) == ("Fail", f"{step}.Failed"), name
            (catcher,) = [c for s in states.values() for c in s.get("Catch", []) if target["Error"] in c["ErrorEquals"]]
            alert, error = states[catcher["Next"]], "$.error.Error"
            assert "$.error.Error" in alert["Parameters"]["Subject.$"]  # the step: the error's first part
        assert alert["Resource"] == "arn:aws:states:::sns:publish"
        assert "$.error.Cause" in alert["Parameters"]["Message.$"]
        assert "executions/details" in alert["Parameters"]["Message.$"]
        failed = states[alert["Next"]]
        assert failed["Type"] == "Fail" and error in (failed.get("Error"), failed.get("ErrorPath"))
        assert alert["Catch"][0]["Next"] == alert["Next"], "a failed alert must not hide the step's failure"
    shared = [name for name, state in tasks.items() if states[state["Catch"][-1]["Next"]]["Type"] == "Pass"]
    assert {name.split(".")[0] for name in shared} == {"shard_features", "train", "evaluate", "register"}
    assert tasks["train"]["Retry"][0]["ErrorEquals"] == ["SageMaker.AmazonSageMakerException", "ThrottlingException"]
    assert tasks["train"]["Retry"][0]["IntervalSeconds"] == 30


def test_without_notifications_a_failure_fails_directly(write_spec):
    definition = compile_text(write_spec, MINIMAL).definition
    states = states_of(definition)
    assert states["prep"]["Catch"][0]["Next"] == "prep.failed"
    assert states["prep.failed"]["Type"] == "Fail"  # with nothing to alert, nothing to share
    assert not any(name.endswith(".alert") for name in states)


def test_the_steps_of_a_block_share_one_alert_and_a_step_too_long_for_its_subject_keeps_its_own(write_spec):
    long_step = "s" + "x" * 59
    steps = "".join(
        f"  {name}:\n    type: processing\n    entrypoint: [python3, a.py]\n    needs: [{before}]\n"
        for before, name in zip(["", "a", "b", "c", long_step], ["a", "b", "c", long_step, "e"], strict=True)
    )
    text = MINIMAL.replace("name: demo", "name: w" + "y" * 50).split("steps:")[0] + "steps:\n" + steps
    definition = compile_text(write_spec, text + "notifications: {topic: {name: t}}\n").definition
    states = states_of(definition)
    alerts = sorted(name for name, state in states.items() if state.get("Resource") == "arn:aws:states:::sns:publish")
    assert alerts == ["any step.alert", f"{long_step}.alert"]  # its subject would pass SNS's 100 characters
    assert len(states[f"{long_step}.alert"]["Parameters"]["Subject"]) == 100
    for step in ("a", "b", "c", "e"):
        assert states[states[step]["Catch"][-1]["Next"]]["Next"] == "any step.alert"
    assert alerted_errors(definition) == sorted(f"{step}.Failed" for step in ("a", "b", "c", "e", long_step))


def test_job_names_are_unique_per_attempt_and_fit_sagemaker(write_spec):
    long_name = "a-very-long-workflow-name-for-the-churn-model-family"
    text = MINIMAL.replace("name: demo", f"name: {long_name}").replace(
        "  prep:", "  preprocess_every_single_event_of_the_day:"
    )
    definition = compile_text(write_spec, text).definition
    expression = states_of(definition)["preprocess_every_single_event_of_the_day"]["Parameters"]["ProcessingJobName.$"]
    match = re.fullmatch(
        r"States\.Format\('([^']*)-\{\}', States\.ArrayGetItem\(States\.StringSplit\("
        r"States\.UUID\(\), '-'\), 4\)\)",
        expression,
    )
    assert match, expression
    prefix = match.group(1)
    assert prefix.startswith(long_name[:15]) and "--preprocess" in prefix
    example = f"{prefix}-0123456789ab"  # the UUID's last group: 12 hex characters
    assert len(example) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", example)


def test_jobs_carry_the_execution_key_and_the_workflow_as_tags(write_spec):
    definition = compile_text(write_spec, MINIMAL.replace("name: demo", "name: demo\ntags: {team: ml}")).definition
    tags = states_of(definition)["prep"]["Parameters"]["Tags"]
    # a hash of the execution's ARN: execution names may hold characters tag values refuse
    assert {"Key": "sfn-build:execution", "Value.$": "States.Hash($$.Execution.Id, 'MD5')"} in tags
    assert {"Key": "sfn-build:workflow", "Value": "demo"} in tags
    assert {"Key": "team", "Value": "ml"} in tags


def test_an_execution_started_with_empty_input_gets_the_defaults(write_spec):
    definition = json.loads(compiled(ROOT / "workflows" / "churn-training.yaml"))
    defaults = definition["States"][definition["StartAt"]]
    assert defaults["Type"] == "Pass"
    assert defaults["Result"] == {"defaults": {"run_date": "latest", "min_auc": 0.8}, "items": {}}
    read = definition["States"][defaults["Next"]]
    # the execution's own input is merged over the defaults, so what it gives wins
    assert read["Parameters"]["input.$"] == "States.JsonMerge($.defaults, $$.Execution.Input, false)"


def test_required_inputs_are_checked_at_the_start(write_spec):
    text = MINIMAL.replace("steps:", "input:\n  run_date: {type: string}\nsteps:")
    definition = compile_text(write_spec, text).definition
    check = definition["States"]["input.check"]
    assert check["Choices"][0]["Variable"] == "$.input.run_date"
    assert check["Choices"][0]["IsPresent"] is False
    assert definition["States"][check["Choices"][0]["Next"]]["Type"] == "Fail"


def test_a_report_is_read_into_the_state_for_the_choice():
    states = states_of(json.loads(compiled(ROOT / "workflows" / "churn-training.yaml")))
    reader = states["evaluate.report"]
    assert reader["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert reader["Parameters"] == {
        "Bucket": "churn-data",
        "Key.$": "States.Format('reports/{}/evaluation.json', $.input.run_date)",
    }
    assert reader["ResultPath"] == "$.steps.evaluate.report"
    rule = states["quality_gate"]["Choices"][1]
    assert rule["Variable"] == "$.steps.evaluate.report.content.metrics.auc"
    assert rule["NumericGreaterThanEqualsPath"] == "$.input.min_auc"


def test_results_are_kept_only_when_read_and_trimmed_to_what_is_read():
    states = states_of(json.loads(compiled(ROOT / "workflows" / "churn-training.yaml")))
    assert states["clean_events"]["ResultPath"] is None  # nobody reads it
    assert states["train"]["ResultSelector"]["ModelArtifacts"] == {
        "S3ModelArtifacts.$": "$.ModelArtifacts.S3ModelArtifacts"
    }
    assert states["train"]["ResultPath"] == "$.steps.train"


def test_a_step_reads_a_result_from_another_parallel_branch():
    definition = json.loads(compiled(ROOT / "workflows" / "modeling-units.yaml"))
    selector = definition["States"]["parallel.1"]["ResultSelector"]
    assert selector["steps"]["ltv_metrics.$"] == "$[1].steps.ltv_metrics"
    assert selector["steps"]["churn_metrics.$"] == "$[0].steps.churn_metrics"
    register = states_of(definition)["ltv_register"]
    assert register["Parameters"]["Payload"]["metrics.$"] == "$.steps.ltv_metrics.report.content"


def test_templates_become_jsonpath_and_intrinsics(write_spec):
    text = MINIMAL.replace(
        "steps:", "input:\n  day: {type: string, default: x}\n  n: {type: integer, default: 3}\nsteps:"
    )
    text = text.replace(
        "entrypoint: [python3, prep.py]",
        "entrypoint: [python3, prep.py]\n"
        "    arguments: {day: '${input.day}', count: '${input.n}', flag: true}\n"
        "    env: {RUN: 'run-${execution.name}', N: '${input.n}', QUOTE: \"it's {x}\"}",
    )
    parameters = states_of(compile_text(write_spec, text).definition)["prep"]["Parameters"]
    assert parameters["AppSpecification"]["ContainerArguments.$"] == (
        "States.Array('--day', $.input.day, '--count', States.Format('{}', $.input.n), '--flag', 'true')"
    )
    assert parameters["Environment"] == {
        "RUN.$": "States.Format('run-{}', $$.Execution.Name)",
        "N.$": "States.Format('{}', $.input.n)",
        "QUOTE": "it's {x}",
    }


def test_for_each_becomes_a_map_over_the_items(write_spec):
    definition = json.loads(compiled(ROOT / "workflows" / "batch-fanout.yaml"))
    fan_out = definition["States"]["copy_shard"]
    assert fan_out["Type"] == "Map" and fan_out["ItemsPath"] == "$.input.shards"
    assert fan_out["MaxConcurrency"] == 4
    assert fan_out["Parameters"]["item.$"] == "$$.Map.Item.Value"
    inner = fan_out["Iterator"]["States"]["copy_shard.each"]
    assert inner["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    assert "$.item" in inner["Parameters"]["Parameters"]["s3Input.$"]
    assert inner["Retry"][0]["MaxDelaySeconds"] == 300 and inner["Retry"][0]["JitterStrategy"] == "FULL"


def test_literal_for_each_items_are_in_the_initial_state(write_spec):
    text = MINIMAL.replace(
        "entrypoint: [python3, prep.py]",
        "entrypoint: [python3, prep.py]\n    for_each: {items: [eu, us]}\n    arguments: {region: '${item}'}",
    )
    definition = compile_text(write_spec, text).definition
    assert definition["States"]["input.defaults"]["Result"]["items"] == {"prep": ["eu", "us"]}
    assert definition["States"]["input.read"]["Parameters"]["items.$"] == "$.items"
    assert definition["States"]["prep"]["ItemsPath"] == "$.items.prep"
    assert statelint_problems(json.dumps(definition)) == []


def test_choice_regions_rejoin_and_catch_handlers_run(write_spec):
    text = (
        MINIMAL
        + """
    catch: [{errors: [States.TaskFailed], next: cleanup}]
  cleanup:
    type: lambda
    function: cleanup
  gate:
    type: choice
    needs: [prep]
    choices:
      - {when: steps.prep.ProcessingJobStatus, equals: Completed, next: publish}
      - {when: steps.prep.ProcessingJobStatus, equals: Stopped, next: succeed}
    default: fail
  publish:
    type: sns
    topic: arn:aws:sns:eu-west-1:111122223333:news
    message: done
  after:
    type: wait
    seconds: 1
    needs: [gate]
"""
    )
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    states = compilation.definition["States"]
    assert states["prep"]["Catch"][0] == {
        "ErrorEquals": ["States.TaskFailed"],
        "ResultPath": "$.error",
        "Next": "cleanup.resume",  # every task step is entered through its resume gate
    }
    gate = states["gate"]
    assert [c["Next"] for c in gate["Choices"]] == ["publish.resume", "after"]
    assert states[gate["Default"]]["Type"] == "Fail"
    assert states["publish"]["Next"] == "after"
    assert statelint_problems(compilation.json()) == []


def test_every_step_type_compiles_and_lints(write_spec):
    text = (
        MINIMAL
        + """
    outputs: [{name: o, source: /opt/ml/processing/o, destination: s3://demo-bucket/o/}]
  fit:
    type: training
    needs: [prep]
    inputs: {train: {source: s3://demo-bucket/o/, content_type: text/csv, mode: File}}
    output: s3://demo-bucket/m/
    hyperparameters: {depth: 3}
  packed:
    type: model
    needs: [fit]
    model_data: ${steps.fit.ModelArtifacts.S3ModelArtifacts}
  score:
    type: transform
    needs: [packed]
    model: packed
    input: s3://demo-bucket/i/
    output: s3://demo-bucket/p/
  shards:
    type: batch
    needs: [score]
    job_queue: q
    job_definition: d:1
  notify:
    type: sns
    needs: [shards]
    topic: arn:aws:sns:eu-west-1:111122223333:news
    message: {job: "${steps.shards.JobId}"}
  nested:
    type: workflow
    needs: [notify]
    state_machine: other-machine
    input: {model: "${steps.packed.ModelName}"}
  pause:
    type: wait
    needs: [nested]
    until: "${input.when}"
  stop:
    type: fail
    needs: [pause]
    error: Done
    cause: finished
"""
    )
    text = text.replace("steps:", "input:\n  when: {type: string, default: '2030-01-01T00:00:00Z'}\nsteps:")
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    states = states_of(compilation.definition)
    assert states["score"]["Parameters"]["ModelName.$"] == states["packed"]["Parameters"]["ModelName.$"]
    assert states["nested"]["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert states["pause"]["TimestampPath"] == "$.input.when"
    assert states["stop"] == {"Type": "Fail", "Error": "Done", "Cause": "finished"}
    assert statelint_problems(compilation.json()) == []


def test_requests_are_checked_against_botocore(write_spec):
    text = MINIMAL.replace(
        "entrypoint: [python3, prep.py]", "entrypoint: [python3, prep.py]\n    env: {BLOB: '" + "x" * 300 + "'}"
    )
    compilation = compile_text(write_spec, text)
    assert not compilation.ok
    message = compilation.problems[0].render()
    assert (
        "the CreateProcessingJob request would be rejected: Environment.BLOB: has 300 characters, "
        "at most 256 allowed" in message
    )
    assert ":12:17: error: steps.prep.env.BLOB:" in message  # at the field that made the member


def test_a_definition_over_one_megabyte_runs_as_parts(write_spec):
    """(test_split has the rest.)"""
    step = (
        "  s{n}:\n    type: sns\n    topic: arn:aws:sns:eu-west-1:111122223333:t\n    message: '" + "m" * 3000 + "'\n"
    )
    text = "version: 1\nname: big\nsteps:\n" + "".join(step.format(n=n) for n in range(400))
    compilation = compile_text(write_spec, text)
    assert compilation.ok, [p.render() for p in compilation.problems]
    assert sorted(compilation.machines()) == ["big-part-1", "big-part-2"]


def test_the_compilers_own_tasks_are_checked_against_botocore(write_spec):
    """A subject longer than SNS allows would be rejected; so is a name the API cannot take."""
    from sfn_builder.request_check import check_parameters
    from sfn_builder.service_models import input_shape

    shape = input_shape("sns", "Publish")
    assert check_parameters({"TopicArn.$": "$.t", "Message.$": "States.Format('x')", "Subject": "ok"}, shape) == []
    assert check_parameters({"Message": "x", "Subjekt": "s"}, shape) == [
        "Subjekt: PublishInput has no member Subjekt (did you mean 'Subject'?)"
    ]
    definition = json.loads(compiled(ROOT / "workflows" / "churn-training.yaml"))
    for name, state in states_of(definition).items():
        if name.endswith((".alert", ".report")):
            api = {
                "arn:aws:states:::sns:publish": ("sns", "Publish"),
                "arn:aws:states:::aws-sdk:s3:getObject": ("s3", "GetObject"),
            }[state["Resource"]]
            assert check_parameters(state["Parameters"], input_shape(*api)) == [], name


def test_defaults_apply_to_the_steps_they_fit(write_spec):
    """A default timeout is for steps that wait for a job; a default retry policy keeps, per step,
    the error names that step can raise."""
    text = MINIMAL.replace(
        "    instance_type: ml.m5.xlarge\n",
        "    instance_type: ml.m5.xlarge\n  timeout: 6h\n  retry:\n"
        "    - {errors: [SageMaker.AmazonSageMakerException, ThrottlingException], max_attempts: 2}\n"
        "    - {errors: [Batch.ServerException]}\n",
    ) + (
        "  tell:\n    type: lambda\n    needs: [prep]\n    function: f\n"
        "  news:\n    type: sns\n    needs: [tell]\n    topic: arn:aws:sns:us-east-1:111122223333:n\n    message: hi\n"
    )
    states = states_of(compile_text(write_spec, text).definition)
    assert states["prep"]["TimeoutSeconds"] == 6 * 3600
    assert [r["ErrorEquals"] for r in states["prep"]["Retry"]] == [
        ["SageMaker.AmazonSageMakerException", "ThrottlingException"]
    ]
    assert states["tell"]["TimeoutSeconds"] == 900  # a Lambda function runs 15 minutes at most
    assert [r["ErrorEquals"] for r in states["tell"]["Retry"]] == [["ThrottlingException"]]
    assert states["news"]["TimeoutSeconds"] == 60 and [r["ErrorEquals"] for r in states["news"]["Retry"]] == [
        ["ThrottlingException"]
    ]


def test_a_branch_with_few_steps_that_may_fail_leaves_its_alert_to_the_parallel_state(write_spec):
    from sfn_builder.build import SILENCED_PER_BRANCH
    from sfn_builder.simulate import engine
    from sfn_builder.simulate.mock_config import failure, success_case

    long_chain = [f"l{n}" for n in range(SILENCED_PER_BRANCH + 1)]
    short_chain = ["s0", "s1", "s2"]
    lines = ["version: 1", "name: branches", "notifications: {topic: {name: t}}", "steps:"]
    lines.append("  start: {type: wait, seconds: 1}")
    for chain in (long_chain, short_chain):
        for before, name in zip(["start", *chain], chain, strict=False):
            lines.append(f"  {name}: {{type: lambda, function: f, needs: [{before}]}}")
    lines.append(f"  end: {{type: wait, seconds: 1, needs: [{long_chain[-1]}, {short_chain[-1]}]}}")
    definition = compile_text(write_spec, "\n".join(lines) + "\n").definition
    alerts = sorted(n for n, s in walk_states(definition) if s.get("Resource") == "arn:aws:states:::sns:publish")
    # the long branch's own, and the Parallel state's for the short branch's steps
    assert len(alerts) == 2 and alerts[0].startswith("any step ") and alerts[1] == "parallel.1.alert"
    for step in (long_chain[3], short_chain[1]):
        run = engine.run(definition, "branches", {}, {**success_case(definition, {}), step: failure(definition, step)})
        assert (run.status, run.error) == ("FAILED", f"{step}.Failed")
        assert [alert.subject for alert in run.alerts] == [f"sfn-build: branches: {step} failed"]
