"""Resume: rerun from the failed step without starting the jobs that succeeded (issue #10)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, compile_text

EXAMPLE = (ROOT / "workflows" / "churn-training.yaml").read_text()
JOB_RESOURCES = ("sagemaker", "batch")


def _jobs_started(execution_name: str) -> list[str]:
    """The states that started a SageMaker or Batch job in an execution on the emulator."""
    from sfn_builder.deploy import executions, local
    from sfn_builder.deploy.aws import Aws, Target
    from sfn_builder.history import state_of

    aws = Aws.connect(Target(endpoint_url=local.start().url, local=True))
    arn = f"arn:aws:states:us-east-1:123456789012:execution:churn-training:{execution_name}"
    events = executions.history(aws, arn)
    by_id = {event["id"]: event for event in events}
    return [
        state_of(event, by_id)
        for event in events
        if event["type"] == "TaskScheduled" and event["taskScheduledEventDetails"]["resourceType"] in JOB_RESOURCES
    ]


def _started(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Started ")).rsplit(":", 1)[1]


def _failed_at_evaluate(cli, spec: Path) -> str:
    assert cli("create", str(spec), "--local", "--yes")[0] == 0
    code, out, _ = cli("execute", str(spec), "--local", "--wait", "--fail", "evaluate")
    assert code == 1 and "Failed in evaluate" in out
    return _started(out)


def test_resume_after_a_fix_starts_no_job_that_succeeded(private_cache, cli, tmp_path):
    spec = tmp_path / "churn.yaml"
    spec.write_text(EXAMPLE)
    first = _failed_at_evaluate(cli, spec)
    assert sorted(_jobs_started(first)) == ["clean_events", "clean_users", "evaluate", "shard_features", "train"]
    spec.write_text(EXAMPLE.replace("src/evaluate.py]", "src/evaluate.py, --fixed]"))
    assert cli("create", str(spec), "--local", "--yes")[0] == 0
    code, out, err = cli("resume", str(spec), "--local", "--wait")
    assert code == 0, err
    assert f"Resuming {first} (FAILED):" in out
    for step in ("clean_events", "clean_users", "shard_features", "train"):
        assert f"  reused  {step}" in out
        assert f"{step}: reused (the earlier execution's result)" in out
    assert "  runs    evaluate: it did not succeed in the earlier execution" in out
    assert "  runs    register: it comes after evaluate, which runs again" in out
    assert out.strip().splitlines()[-1] == "Execution SUCCEEDED"
    second = _started(out)
    assert second.startswith(first + "-r")
    assert _jobs_started(second) == ["evaluate"]  # zero preprocessing and training jobs
    code, out, _ = cli("status", str(spec), "--local")
    rows = {line.split()[4]: line for line in out.splitlines()}
    assert f"resumed from {first}" in rows[second] and "(published now)" in rows[second]
    assert "(published now)" not in rows[first]  # it ran the definition before the fix
    code, _, err = cli("resume", str(spec), "no-such-run", "--local")
    assert code == 1 and "churn-training has no execution no-such-run: `sfn-build status SPEC` lists" in err


def test_resume_from_a_step_runs_it_and_what_comes_after(private_cache, cli, tmp_path):
    spec = tmp_path / "churn.yaml"
    spec.write_text(EXAMPLE)
    first = _failed_at_evaluate(cli, spec)
    code, out, err = cli("resume", str(spec), first, "--from", "train", "--local", "--wait")
    assert code == 0, err
    assert "  runs    train: named with --from" in out
    assert sorted(_jobs_started(_started(out))) == ["evaluate", "train"]


def test_a_step_whose_request_changed_runs_again(private_cache, cli, tmp_path):
    spec = tmp_path / "churn.yaml"
    spec.write_text(EXAMPLE)
    _failed_at_evaluate(cli, spec)
    spec.write_text(EXAMPLE.replace("hyperparameters: {max_depth: 6, eta: 0.2}", "hyperparameters: {max_depth: 8}"))
    assert cli("create", str(spec), "--local", "--yes")[0] == 0
    code, out, err = cli("resume", str(spec), "--last", "--local", "--wait")
    assert code == 0, err
    assert "  runs    train: its request or result changed since the earlier execution" in out
    assert sorted(_jobs_started(_started(out))) == ["evaluate", "train"]


def test_another_input_reruns_exactly_the_steps_that_read_it_and_their_dependents(private_cache, cli, tmp_path):
    spec = tmp_path / "churn.yaml"
    spec.write_text(EXAMPLE)
    _failed_at_evaluate(cli, spec)
    code, out, err = cli("resume", str(spec), "--local", "--wait", "--input", '{"min_auc": 0.9}')
    assert code == 0, err
    # min_auc is read by the quality gate only (a choice: it always runs); every job is as before
    assert "  runs    evaluate: it did not succeed in the earlier execution" in out
    assert "  reused  train" in out
    code, out, err = cli("resume", str(spec), "--local", "--input", '{"run_date": "2026-01-01"}')
    assert code == 0, err
    assert "  runs    clean_events: it reads the changed input run_date" in out
    assert "  runs    train: it comes after shard_features, which runs again" in out


def test_resume_input_errors_are_usage_errors(cli, write_spec):
    spec = write_spec(EXAMPLE)
    code, _, err = cli("resume", spec, "--from", "trian", "--local")
    assert code == 2 and "--from trian: no such step (did you mean 'train'?)" in err


def test_every_task_step_has_a_resume_gate_and_normal_runs_pay_one_transition_per_step(write_spec):
    definition = compile_text(write_spec, EXAMPLE).definition
    states = json.dumps(definition)
    for step in ("clean_events", "clean_users", "shard_features", "train", "evaluate", "register"):
        assert f'"{step}.resume"' in states and f'"{step}.resumed"' in states
    assert '"quality_gate.resume"' not in states  # choices always run


def test_simulate_resumes_a_saved_run(cli, write_spec, tmp_path):
    spec = write_spec(EXAMPLE)
    saved = tmp_path / "run.json"
    code, _, _ = cli("simulate", spec, "--fail", "evaluate", "--save-run", str(saved))
    assert code == 1 and saved.is_file()
    fixed = write_spec(EXAMPLE.replace("src/evaluate.py]", "src/evaluate.py, --fixed]"), "fixed.yaml")
    code, out, err = cli("simulate", fixed, "--resume-from", str(saved))
    assert code == 0, err
    path = out[out.index("Path:") :]
    for step in ("clean_events", "clean_users", "shard_features", "train"):
        assert f"reused    {step}" in path
    assert "ok        evaluate\n" in path and "ok        register" in path
    code, out, _ = cli("simulate", fixed, "--resume-from", str(saved), "--from", "shard_features")
    assert code == 0 and "  runs    train: it comes after shard_features, which runs again" in out
    code, _, err = cli("simulate", fixed, "--resume-from", str(tmp_path / "missing.json"))
    assert code == 2 and "not a run saved with --save-run" in err


def test_redrive_is_refused_where_it_cannot_work(cli, write_spec):
    code, _, err = cli("resume", write_spec(EXAMPLE), "--redrive", "--local")
    assert code == 2 and "the local emulator has no RedriveExecution" in err


def _simulated(write_spec, text: str, name: str, given: dict | None = None):
    import contextlib
    import io

    from sfn_builder.simulate import engine
    from sfn_builder.simulate.mock_config import success_case

    compilation = compile_text(write_spec, text)
    definition, workflow = compilation.definition, compilation.analysis.workflow
    case = success_case(definition, given or {})
    with contextlib.redirect_stdout(io.StringIO()):
        result = engine.run(definition, name, given or {}, case)
    return workflow, definition, result


def test_a_changed_report_or_result_selection_reruns_the_step_but_a_changed_alert_does_not(write_spec):
    from sfn_builder.resume import plan_resume

    _, before, run = _simulated(write_spec, EXAMPLE, "churn-training")
    reread = EXAMPLE.replace("file: evaluation.json}", "file: e2.json}")
    workflow, after, _ = _simulated(write_spec, reread, "churn-training")
    plan = plan_resume(workflow, (before, after), run.events, ({}, {}), [])
    assert plan.runs == ["evaluate", "register"]
    assert plan.reused == ["clean_events", "clean_users", "shard_features", "train"]
    described = EXAMPLE.replace("description: Nightly churn model.", "description: Nightly churn model v2.")
    workflow, after, _ = _simulated(write_spec, described, "churn-training")
    assert plan_resume(workflow, (before, after), run.events, ({}, {}), []).runs == []


def test_a_recorded_result_is_what_the_step_kept(write_spec):
    from sfn_builder.resume import plan_resume

    workflow, definition, run = _simulated(write_spec, EXAMPLE, "churn-training")
    plan = plan_resume(workflow, (definition, definition), run.events, ({}, {}), ["register"])
    assert plan.recorded["train"]["ModelArtifacts"]["S3ModelArtifacts"].startswith("s3://")
    assert set(plan.recorded["train"]) == set(run.output["steps"]["train"])
    assert plan.recorded["clean_events"] is None  # nothing reads it: nothing is kept


READING_CHAIN = """
version: 1
name: reading
steps:
  a: {type: lambda, function: f, payload: {}}
  b: {type: lambda, needs: [a], function: f, payload: {x: "${steps.a.score}"}}
  c: {type: lambda, needs: [b], function: f, payload: {x: "${steps.b.score}"}}
  d: {type: lambda, needs: [c], function: f, payload: {x: "${steps.c.score}"}}
"""


def test_the_input_records_only_the_results_the_steps_that_run_read(write_spec):
    """The resume input stays in the state for the whole run: it holds what the steps that run read. A
    result a later resume needs that the run before did not record has its step run again."""
    from sfn_builder.resume import plan_resume
    from sfn_builder.simulate import engine
    from sfn_builder.simulate.mock_config import failure, success_case

    workflow, definition, _ = _simulated(write_spec, READING_CHAIN, "reading")
    first = engine.run(definition, "reading", {}, {**success_case(definition, {}), "d": failure(definition, "d")})
    assert first.status == "FAILED"
    plan = plan_resume(workflow, (definition, definition), first.events, ({}, {}), [])
    assert plan.runs == ["d"] and plan.recorded["a"] is None and plan.recorded["b"] is None
    assert plan.recorded["c"] == kept_result(first, "c")
    second = engine.run(definition, "reading", plan.execution_input({}, "first"), success_case(definition, {}))
    assert second.status == "SUCCEEDED"
    reading_a = READING_CHAIN.replace('x: "${steps.c.score}"', 'x: "${steps.c.score}", y: "${steps.a.score}"')
    workflow, changed, _ = _simulated(write_spec, reading_a, "reading")
    again = plan_resume(workflow, (definition, changed), second.events, ({}, {}), ["d"])
    assert again.runs == ["a", "b", "c", "d"]
    assert again.decisions[0].reason == (
        "a step that runs reads its result, which the earlier execution did not record"
    )


def kept_result(run, step: str) -> dict:
    """The result a step kept, as the state held it right after the step."""
    exited = next(
        e["stateExitedEventDetails"] for e in run.events if e.get("stateExitedEventDetails", {}).get("name") == step
    )
    return json.loads(exited["output"])["steps"][step]


def test_an_input_list_too_long_for_an_inline_maps_history_is_refused_before_resuming(private_cache, cli):
    """`resume --input` starts an execution with that input, as `execute` does: the same checks, first."""
    fanout = str(ROOT / "workflows" / "batch-fanout.yaml")
    shards = json.dumps({"shards": [f"{n:05}" for n in range(3_600)]})
    code, out, err = cli("resume", fanout, "--last", "--local", "--input", shards)
    assert code == 1 and "Resuming" not in out
    assert "sfn-build resume: --input: 'shards' holds 3,600 items: copy_shard runs them in an inline Map" in err
    code, _, err = cli("resume", fanout, "--last", "--local", "--input", json.dumps({"shards": ["00001"]}))
    assert "inline Map" not in err and "does not exist here: run `sfn-build create` first" in err  # went on
