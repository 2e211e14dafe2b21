"""`simulate`: every example's success and failure paths, choices, retries, Map and mock files."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from conftest import MINIMAL, WORKFLOWS

from sfn_builder.compiler import compile_analysis
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import Attempts, failure, step_task_states, success_case
from sfn_builder.validate import analyze_file

EXAMPLES = {w.stem: w for w in WORKFLOWS}


@cache
def compiled(stem: str):
    compilation = compile_analysis(analyze_file(str(EXAMPLES[stem])))
    assert compilation.ok
    workflow = compilation.analysis.workflow
    defaults = {f.name: f.default for f in workflow.inputs if f.has_default}
    return workflow, compilation.definition, defaults


def simulate(stem: str, execution_input: dict | None = None, **states: list[Attempts]):
    workflow, definition, defaults = compiled(stem)
    given = execution_input or {}
    case = success_case(definition, {**defaults, **given})
    case.update({name.replace("__", "."): attempts for name, attempts in states.items()})
    return engine.run(definition, workflow.name, given, case)


def steps_of(stem: str) -> list[str]:
    return step_task_states(compiled(stem)[1])


@pytest.mark.parametrize("stem", EXAMPLES)
def test_the_success_path_succeeds_without_alerts(stem):
    result = simulate(stem)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.alerts == []
    ran = {visit.state for visit in result.path}
    assert set(steps_of(stem)) <= ran
    assert all(visit.outcome == "succeeded" for visit in result.path)


@pytest.mark.parametrize(("stem", "state"), [(s, t) for s in EXAMPLES for t in steps_of(s)])
def test_a_failing_task_fails_the_workflow_with_one_alert_naming_its_step(stem, state):
    _, definition, _ = compiled(stem)
    step = state.split(".", 1)[0]  # the task of the step, of each of its items, or a call of its poll loop
    result = simulate(stem, **{state.replace(".", "__"): failure(definition, state)})
    assert result.status == "FAILED"
    assert result.error == f"{step}.Failed"
    assert f"simulated failure of {state}" in result.cause
    (alert,) = result.alerts
    assert alert.subject.endswith(f": {step} failed")
    assert f"step {step} failed" in alert.message and "States.TaskFailed" in alert.message


def test_both_branches_of_the_quality_gate():
    passing = simulate("churn-training", {"min_auc": 0.8}, evaluate__report=_report({"metrics": {"auc": 0.91}}))
    assert passing.status == "SUCCEEDED"
    assert [v.state for v in passing.path][-2:] == ["quality_gate", "register"]

    failing = simulate("churn-training", {"min_auc": 0.8}, evaluate__report=_report({"metrics": {"auc": 0.61}}))
    assert failing.status == "FAILED"
    assert failing.error == "quality_gate.Failed"
    (alert,) = failing.alerts
    assert alert.subject.endswith("quality_gate failed")
    why = "steps.evaluate.report.metrics.auc (0.61) is less than 0.8 (input.min_auc)"  # the values compared
    assert why in alert.message and why in failing.cause
    assert "register" not in {v.state for v in failing.path}


def test_the_gate_also_fails_a_job_that_did_not_complete():
    _, definition, defaults = compiled("churn-training")
    stopped = success_case(definition, defaults)["evaluate"][0].payload | {"ProcessingJobStatus": "Stopped"}
    result = simulate("churn-training", evaluate=[Attempts(0, 0, stopped)])
    assert result.status == "FAILED" and result.error == "quality_gate.Failed"
    assert "steps.evaluate.ProcessingJobStatus (Stopped) does not equal \"Completed\"" in result.alerts[0].message


def test_the_default_report_takes_the_gate_s_passing_route():
    result = simulate("churn-training", {"min_auc": 0.75})
    assert result.status == "SUCCEEDED"
    assert result.output["steps"]["evaluate"]["report"]["content"] == {"metrics": {"auc": 0.75}}


def test_a_retry_that_fails_then_succeeds():
    _, definition, defaults = compiled("churn-training")
    done = success_case(definition, defaults)["train"][0].payload
    throttled = Attempts(0, 0, error="SageMaker.AmazonSageMakerException", cause="ResourceLimitExceeded")
    result = simulate("churn-training", train=[throttled, Attempts(1, 1, done)])
    assert result.status == "SUCCEEDED"
    (train,) = [v for v in result.path if v.state == "train"]
    assert train.attempts == 2 and train.retried == ("SageMaker.AmazonSageMakerException",)
    assert result.waited_seconds == 30  # the spec's interval, waited on a virtual clock
    assert result.alerts == []


def test_a_retry_that_keeps_failing_gives_up_after_the_spec_s_attempts():
    _, definition, _ = compiled("churn-training")
    error = "SageMaker.AmazonSageMakerException"
    result = simulate("churn-training", train=failure(definition, "train", error))
    assert result.status == "FAILED"
    (train,) = [v for v in result.path if v.state == "train"]
    assert train.attempts == 4 and len(train.retried) == 3  # max_attempts: 3 retries
    assert result.waited_seconds == 30 + 60 + 120  # backoff_rate 2


def test_a_map_runs_the_step_once_per_item():
    result = simulate("batch-fanout", {"shards": ["01", "02", "03", "04", "05"]})
    assert result.status == "SUCCEEDED"
    assert [v.state for v in result.path].count("copy_shard.each") == 5


def test_a_map_whose_items_all_fail_fails_with_one_alert_naming_the_item_and_what_it_cancelled():
    shards = {"shards": ["01", "02", "03", "04"]}
    _, definition, _ = compiled("batch-fanout")
    result = simulate("batch-fanout", shards, copy_shard__each=failure(definition, "copy_shard.each"))
    assert result.status == "FAILED" and result.error == "copy_shard.Failed"
    (failed,) = [v for v in result.path if v.state == "copy_shard.each"]
    assert (failed.outcome, failed.item) == ("failed", 0)
    (cancelled,) = [v for v in result.path if v.outcome == "cancelled"]
    assert (cancelled.state, cancelled.note) == ("copy_shard", "items 1-3 not started")
    assert [v.outcome for v in result.path if v.state == "copy_shard"] == ["failed", "cancelled"]
    (alert,) = result.alerts
    assert alert.subject.endswith(": copy_shard failed")


def test_a_failing_branch_cancels_the_branches_not_started_and_the_report_is_the_same_every_time():
    _, definition, _ = compiled("churn-training")
    reports = set()
    for _ in range(5):
        result = simulate("churn-training", clean_events=failure(definition, "clean_events"))
        reports.add(tuple(result.path))
    (path,) = reports
    (parallel,) = [v for v in path if v.state == "parallel.1"]
    assert parallel.outcome == "failed"
    assert [v.state for v in path][-2:] == ["parallel.1.alert", "parallel.1.failed"]  # it alerts for its branch
    (cancelled,) = [v for v in path if v.outcome == "cancelled"]
    assert cancelled.state == "clean_users" and cancelled.note == f"branch 2 of {parallel.state}"


REPORT_IN_A_BRANCH = MINIMAL.split("steps:")[0].replace("name: demo", "name: rep-demo") + """steps:
  a:
    type: processing
    entrypoint: [python3, a.py]
    outputs: [{name: report, source: /opt/ml/processing/output, destination: "s3://demo-bucket/rep/"}]
    report: {output: report, file: r.json}
  b: {type: processing, entrypoint: [python3, b.py]}
  c: {type: processing, needs: [a, b], entrypoint: [python3, c.py], arguments: {x: "${steps.a.report.x}"}}
notifications:
  topic: {name: rep-alerts}
"""


@pytest.mark.parametrize("how", ["job fails", "report too large"])
def test_a_step_alone_in_its_branch_alerts_once_however_it_fails(how, cli, write_spec, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": "y" * 70_000}))
    given = ["--fail", "a"] if how == "job fails" else ["--report", f"a=@{big}"]
    code, out, _ = cli("simulate", write_spec(REPORT_IN_A_BRANCH), *given)
    assert code == 1
    assert "Alerts published: 1\n  sfn-build: rep-demo: a failed\n" in out  # by its Parallel state, not the rule
    assert out.rstrip().splitlines()[-1].startswith("FAILED: a.Failed: ")


def test_a_map_of_ten_thousand_items_at_concurrency_one_succeeds():
    workflow, definition, defaults = compiled("batch-fanout")
    one_at_a_time = json.loads(json.dumps(definition).replace('"MaxConcurrency": 4', '"MaxConcurrency": 1'))
    assert one_at_a_time != definition
    shards = [f"{n:05}" for n in range(10_000)]
    case = success_case(one_at_a_time, {**defaults, "shards": shards})
    result = engine.run(one_at_a_time, workflow.name, {"shards": shards}, case)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    items = [v.item for v in result.path if v.state == "copy_shard.each"]
    assert items == list(range(10_000))


def _report(content: dict) -> list[Attempts]:
    body = json.dumps(content)
    return [Attempts(0, 0, {"Body": body, "ContentType": "application/json", "ContentLength": len(body)})]


# -- the command ---------------------------------------------------------------------


def test_the_command_shows_the_path_the_alert_and_the_result(cli):
    code, out, _ = cli("simulate", str(EXAMPLES["churn-training"]), "--fail", "train")
    assert code == 1
    assert re.search(r"\n  failed    train +States.TaskFailed: simulated failure of train\n", out)
    assert "Alerts published: 1\n  sfn-build: churn-training: train failed" in out
    assert out.rstrip().endswith(
        "FAILED: train.Failed: Step train failed. States.TaskFailed: simulated failure of train"
    )
    code, out, _ = cli(
        "simulate",
        str(EXAMPLES["churn-training"]),
        "--report",
        'evaluate={"metrics": {"auc": 0.9}}',
        "--input",
        '{"min_auc": 0.85}',
    )
    assert code == 0 and "\nSUCCEEDED\nOutput: {" in out


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--fail", "trian"], 2, "there is no task step 'trian' (did you mean 'train'?)"),
        (["--report", "train={}"], 2, "step 'train' has no report (steps with one: evaluate)"),
        (["--report", "evaluate=[1]"], 2, "--report must be a JSON object"),
        (["--case", "x"], 2, "--case picks a test case of a --mock file"),
        (["--mock", "/no/such/file.json"], 1, "cannot read the mock file"),
        (["--input", "nope"], 2, "--input is not JSON"),
    ],
)
def test_bad_arguments_say_what_is_wrong(cli, arguments, code, message):
    got, _, err = cli("simulate", str(EXAMPLES["churn-training"]), *arguments)
    assert got == code and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("stem", EXAMPLES)
def test_the_starter_mock_file_runs_each_of_its_cases(cli, tmp_path, stem):
    mock = tmp_path / "mock.json"
    assert cli("compile", str(EXAMPLES[stem]), "--mock-config", "-o", str(mock))[0] == 0
    config = json.loads(mock.read_text())
    cases = config["StateMachines"][compiled(stem)[0].name]["TestCases"]
    assert next(iter(cases)) == "HappyPath" and len(cases) == 1 + len(steps_of(stem))
    for case in cases:
        code, out, _ = cli("simulate", str(EXAMPLES[stem]), "--mock", str(mock), "--case", case)
        assert code == (0 if case == "HappyPath" else 1), out
        assert ("Alerts published: 0" in out) == (case == "HappyPath")


def test_a_mock_file_with_attempt_ranges_retries_then_succeeds(cli, tmp_path):
    mock = tmp_path / "mock.json"
    mock.write_text(
        json.dumps(
            {
                "StateMachines": {"churn-training": {"TestCases": {"FlakyTraining": {"train": "ThrottledOnce"}}}},
                "MockedResponses": {
                    "ThrottledOnce": {
                        "0": {"Throw": {"Error": "ThrottlingException", "Cause": "Rate exceeded"}},
                        "1": {
                            "Return": {
                                "TrainingJobName": "t",
                                "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/t",
                                "TrainingJobStatus": "Completed",
                                "ModelArtifacts": {"S3ModelArtifacts": "s3://churn-data/models/t/model.tar.gz"},
                            }
                        },
                    }
                },
            }
        )
    )
    code, out, _ = cli("simulate", str(EXAMPLES["churn-training"]), "--mock", str(mock), "--case", "FlakyTraining")
    assert code == 0, out
    assert "attempt 2, after 1 failed attempt: ThrottlingException" in out


def test_a_mock_file_naming_a_missing_case_lists_the_ones_it_has(cli, tmp_path):
    mock = tmp_path / "mock.json"
    mock.write_text(json.dumps({"StateMachines": {"churn-training": {"TestCases": {"A": {}}}}, "MockedResponses": {}}))
    code, _, err = cli("simulate", str(EXAMPLES["churn-training"]), "--mock", str(mock), "--case", "B")
    assert code == 1 and "has no test case 'B' for churn-training (it has: A)" in err


def test_the_examples_folder_is_covered():
    assert {Path(w).stem for w in WORKFLOWS} == set(EXAMPLES) and len(EXAMPLES) >= 4


PROBES = ["it's", "a{b}c", "back\\slash", 'quote"d', "ünïcödé", "emoji 🚀", "{}", "\\{", "'{'", "x\\'y", "tab\tx"]
PROBES += ["new\nline", "$dollar", "a,b", "(paren)", "\\\\", "end\\", "x'", "''", "{0}", "a}b", "${not a ref", "%s"]


@pytest.mark.parametrize("text", PROBES)
def test_strings_reach_the_job_as_aws_passes_them(text, write_spec):
    """Literal text, text around a reference and text after one: States.Format's escaping, read back."""
    written = text.replace("${", "$${")  # how a spec writes a literal ${
    payload = {"literal": written, "before": written + " ${input.x}", "after": "${input.x} " + written}
    spec = "version: 1\nname: probe\ninput: {x: {type: string, default: v}}\nsteps:\n  p:\n    type: lambda\n"
    spec += "    function: f\n    payload: " + json.dumps(payload, ensure_ascii=False) + "\n"
    compilation = compile_analysis(analyze_file(write_spec(spec)))
    assert compilation.ok, [p.render() for p in compilation.problems]
    definition = compilation.definition
    result = engine.run(definition, "probe", {}, success_case(definition, {"x": "v"}))
    assert result.status == "SUCCEEDED", result.cause
    (scheduled,) = [e for e in result.events if "taskScheduledEventDetails" in e]
    sent = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]
    assert sent == {"literal": text, "before": text + " v", "after": "v " + text}


def test_a_long_run_reports_progress_and_a_history_aws_would_refuse(cli, monkeypatch):
    from sfn_builder.cli import simulate_command

    monkeypatch.setattr(engine, "PROGRESS_SECONDS", 0.05)
    monkeypatch.setattr(simulate_command, "HISTORY_LIMIT", 1_000)
    shards = json.dumps({"shards": [f"{n:04}" for n in range(1_500)]})
    code, out, err = cli("simulate", str(EXAMPLES["batch-fanout"]), "--input", shards)
    assert code == 0
    assert "... still simulating:" in err and "history events so far" in err
    assert "AWS ends a Standard execution at 1,000, so it would fail there" in out


def test_a_maps_items_that_each_succeeded_read_as_one_line_and_a_failed_one_as_its_own(cli):
    shards = json.dumps({"shards": [f"{n:02}" for n in range(40)]})
    code, out, _ = cli("simulate", str(EXAMPLES["batch-fanout"]), "--input", shards)
    assert code == 0
    assert "  ok        copy_shard.each [items 0-39]" in out and "[item 7]" not in out
    code, out, _ = cli("simulate", str(EXAMPLES["batch-fanout"]), "--input", shards, "--fail", "copy_shard.each")
    assert code == 1
    assert "failed    copy_shard.each [item 0]" in out
