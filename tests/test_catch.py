"""Catch semantics: what runs after a caught failure, what the handler knows, what `validate` proves.

The sweep at the top fails every task of every example and of the user-style specs in `tests/specs/`
and checks what a user relies on: no `States.Runtime`, no dependent of the failed step runs on its
missing result, and the same report every time.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from conftest import ROOT, WORKFLOWS

from sfn_builder.compiler import compile_analysis
from sfn_builder.history import state_of
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import failure, step_task_states, success_case
from sfn_builder.validate import analyze_file

SPECS = {path.stem: path for path in [*WORKFLOWS, *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]}
REQUIRED_INPUT = {"day": "2026-11-21", "regions": ["eu", "us"]}  # batch-cleanup's and regional-scoring's


@cache
def compiled(stem: str):
    compilation = compile_analysis(analyze_file(str(SPECS[stem])))
    assert compilation.ok, [p.render() for p in compilation.problems]
    workflow = compilation.analysis.workflow
    return workflow, compilation.definition


def run(stem: str, failing: str | None = None):
    workflow, definition = compiled(stem)
    given = {name: value for name, value in REQUIRED_INPUT.items() if workflow.input_field(name)}
    defaults = {f.name: f.default for f in workflow.inputs if f.has_default}
    case = success_case(definition, {**defaults, **given})
    if failing is not None:
        case[failing] = failure(definition, failing)
    return engine.run(definition, workflow.name, given, case)


def dependents(workflow, step: str) -> set[str]:
    """Every step that needs `step`, directly or through others."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for other in workflow.steps.values():
            if other.name not in found and any(n == step or n in found for n in other.needs):
                found.add(other.name)
                changed = True
    return found


def steps_run(result) -> set[str]:
    return {visit.state.split(".")[0] for visit in result.path if visit.outcome != "cancelled"}


CASES = [(stem, state) for stem in SPECS for state in step_task_states(compiled(stem)[1])]


@pytest.mark.parametrize(("stem", "state"), CASES, ids=[f"{s}:{t}" for s, t in CASES])
def test_a_failing_task_never_breaks_the_run_nor_runs_its_dependents_and_reports_the_same_twice(stem, state):
    workflow, _ = compiled(stem)
    step = workflow.steps[state.split(".", 1)[0]]  # its task, its task per item, or its poll loop's call
    first, second = run(stem, state), run(stem, state)
    errors = [first.error, *(visit.error for visit in first.path)]
    assert "States.Runtime" not in errors, first.cause
    assert (first.status, first.error, first.path, first.alerts) == (
        second.status,
        second.error,
        second.path,
        second.alerts,
    )
    if not step.may_be_skipped and not any(c.fallback for c in step.catch):
        assert not dependents(workflow, step.name) & steps_run(first)
    if first.status == "FAILED":
        assert len(first.alerts) + len(engine.rule_alerts(workflow, compiled(stem)[1], first)) == 1


# -- a succeed step ends the workflow, from inside parallel work too -----------------------------


def test_a_handler_path_ending_in_succeed_ends_the_workflow_from_inside_parallel_work():
    result = run("quiet-end", "fetch_a")
    assert (result.status, result.alerts) == ("SUCCEEDED", [])
    ran = steps_run(result)
    assert {"note_a", "skip_rest"} <= ran and "join" not in ran  # join needs fetch_a, which failed
    assert result.path[-1].state == "workflow.ended"


def test_a_choice_route_to_a_succeed_step_ends_the_workflow_from_inside_parallel_work():
    workflow, definition = compiled("quiet-end")
    quick = engine.run(definition, workflow.name, {"mode": "quick"}, success_case(definition, {"mode": "quick"}))
    assert (quick.status, quick.alerts) == ("SUCCEEDED", [])
    assert "quick_done" in steps_run(quick) and "join" not in steps_run(quick)
    full = run("quiet-end")
    assert full.status == "SUCCEEDED" and {"pick", "join"} <= steps_run(full)


# -- then: fail (the default) -------------------------------------------------------------


def test_after_the_handler_the_run_fails_naming_the_failed_step_with_one_alert():
    result = run("batch-cleanup", "ingest")
    assert result.status == "FAILED" and result.error == "ingest.Failed"
    assert "States.TaskFailed: simulated failure of ingest" in result.cause
    ran = steps_run(result)
    assert {"cleanup", "purge_tmp", "reopen_gate"} <= ran
    assert not {"transform", "score", "publish_plain"} & ran
    (alert,) = result.alerts
    assert alert.subject.endswith(": ingest failed") and "simulated failure of ingest" in alert.message


def test_the_handler_path_reads_the_caught_error_and_the_failed_step_s_name():
    result = run("batch-cleanup", "ingest")
    cleanup = _parameters(result, "cleanup")["Payload"]
    assert cleanup == {"failed": "ingest", "error": "States.TaskFailed", "cause": "simulated failure of ingest"}
    assert _parameters(result, "purge_tmp")["Parameters"] == {"reason": "States.TaskFailed"}  # inside a Parallel


# -- then: fallback ---------------------------------------------------------------------


def test_a_fallback_s_result_stands_in_for_the_failed_step_s():
    result = run("nightly-retrain", "train_spot")
    assert result.status == "SUCCEEDED", result.cause
    assert {"train_on_demand", "evaluate", "register"} <= steps_run(result)
    trained = result.output["steps"]["train_spot"]["TrainingJobName"]
    assert trained.startswith("nightly-retrain--train-on-demand-")
    assert _parameters(result, "register")["Payload"]["job"] == trained
    environment = _parameters(result, "train_on_demand")["Environment"]
    assert environment == {"SPOT_FAILURE": "simulated failure of train_spot"}
    assert result.alerts == []


def test_a_lambda_fallback_gives_the_members_read_of_the_failed_step(write_spec):
    spec = write_spec(
        _HEADER
        + "  train:\n    type: training\n    output: s3://bucket-x/models/\n    inputs: {train: s3://bucket-x/in/}\n"
        "    catch: [{errors: [States.ALL], next: last_good, then: fallback}]\n"
        "  last_good: {type: lambda, function: last-good-model}\n"
        "  deploy:\n    type: lambda\n    needs: [train]\n    function: deploy\n"
        "    payload: {model: '${steps.train.ModelArtifacts.S3ModelArtifacts}'}\n"
    )
    compilation = compile_analysis(analyze_file(spec))
    assert compilation.ok, [p.render() for p in compilation.problems]
    stand_in = compilation.definition["States"]["train.fallback"]
    assert stand_in["Parameters"] == {
        "ModelArtifacts": {"S3ModelArtifacts.$": "$.steps.last_good.Payload.ModelArtifacts.S3ModelArtifacts"}
    }
    assert stand_in["ResultPath"] == "$.steps.train"


# -- then: continue / next: succeed --------------------------------------------------------


def test_continue_goes_on_without_the_result_and_a_choice_can_test_for_it():
    result = run("batch-cleanup", "score")
    assert result.status == "SUCCEEDED", result.cause
    ran = steps_run(result)
    assert {"note_score", "check_score", "publish_plain"} <= ran and "publish_scored" not in ran
    assert result.output["steps"]["score"] is None


def test_next_succeed_ignores_the_error_and_the_dependents_run():
    result = run("nightly-retrain", "dashboard")
    assert result.status == "SUCCEEDED", result.cause
    assert "done" in steps_run(result)


# -- validate: reads proven path by path ----------------------------------------------------

_HEADER = (
    "version: 1\nname: demo\n"
    "defaults:\n  sagemaker:\n    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1\n"
    "    role: arn:aws:iam::111122223333:role/sm\n    instance_type: ml.m5.xlarge\n"
    "steps:\n"
)
_TRAIN = "  train:\n    type: training\n    output: s3://bucket-x/models/\n    inputs: {train: s3://bucket-x/in/}\n"

RULES = {
    "the handler reads the failed step": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: cleanup}]\n"
        "  cleanup:\n    type: lambda\n    function: f\n"
        "    payload: {m: '${steps.train.ModelArtifacts.S3ModelArtifacts}'}   # <-\n",
        "runs when 'train' has failed, so there is no result to read",
        "${error.Error}",
    ),
    "a dependent reads a step a catch may skip": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: succeed}]\n"
        "  use:\n    type: lambda\n    needs: [train]\n    function: f\n"
        "    payload: {m: '${steps.train.TrainingJobName}'}   # <-\n",
        "whose catch (next: succeed) lets the flow go on without its result",
        "then: fallback",
    ),
    "a main-path step reads the handler": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: cleanup, then: continue}]\n"
        "  cleanup: {type: lambda, function: f}\n"
        "  use:\n    type: lambda\n    needs: [train]\n    function: f\n"
        "    payload: {m: '${steps.cleanup.x}'}   # <-\n",
        "which runs only when step 'train' fails and its catch leads there",
        "then: fallback",
    ),
    "the error outside a handler path": (
        "  tell:\n    type: lambda\n    function: f\n    payload: {why: '${error.Cause}'}   # <-\n",
        "is only set on a catch's handler path",
        None,
    ),
    "then after next: fail": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: fail, then: continue}]   # <-\n",
        "`then` says what follows a handler step",
        "remove `then`",
    ),
    "a fallback of another kind": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: note, then: fallback}]   # <-\n"
        "  note: {type: sns, topic: 'arn:aws:sns:eu-west-1:111122223333:t', message: hi}\n",
        "a sns step cannot give the result of a training step",
        "then: continue",
    ),
    "the whole result of a step with a lambda fallback": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: last_good, then: fallback}]\n"
        "  last_good: {type: lambda, function: f}\n"
        "  use:\n    type: lambda\n    needs: [train]\n    function: f\n    payload: {all: '${steps.train}'}   # <-\n",
        "reads the whole result",
        None,
    ),
    "a fallback without the member read": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: again, then: fallback}]\n"
        "  again:\n    type: processing\n    entrypoint: [x]\n"
        "  use:\n    type: lambda\n    needs: [train]\n    function: f\n"
        "    payload: {m: '${steps.train.TrainingJobName}'}   # <-\n",
        "its fallback 'again' stands in, and the result has no member 'TrainingJobName'",
        "read a member both results have",
    ),
    "a step reads itself": (
        "  tell:\n    type: lambda\n    function: f\n    payload: {x: '${steps.tell.x}'}   # <-\n",
        "reads the result of 'tell' itself",
        None,
    ),
    "a choice on error.step": (
        _TRAIN + "    catch: [{errors: [States.ALL], next: triage}]\n"
        "  triage:\n    type: choice\n    choices:\n"
        "      - {when: error.step, equals: train, next: fail}   # <-\n",
        "'when' is a steps.STEP.PATH, input.NAME, error.Error or error.Cause path",
        "error.step is known when compiling",
    ),
}


@pytest.mark.parametrize("case", list(RULES), ids=list(RULES))
def test_catch_rules_are_reported_at_their_line(case, write_spec):
    body, message, hint = RULES[case]
    text = _HEADER + body
    marked = [n for n, line in enumerate(text.splitlines(), start=1) if "# <-" in line]
    analysis = analyze_file(write_spec(text))
    rendered = "\n".join(p.render() for p in analysis.problems)
    found = [p for p in analysis.problems if message in p.message]
    assert found, f"expected {message!r} in:\n{rendered}"
    assert found[0].position is not None and found[0].position.line == marked[0], rendered
    if hint:
        assert hint in (found[0].hint or ""), rendered
    if case == "the handler reads the failed step":  # needing the step it handles would make no sense
        assert "needs" not in (found[0].hint or "")


def test_a_handler_that_fans_out_reads_the_error_in_every_item(write_spec):
    spec = write_spec(
        _HEADER + _TRAIN + "    catch: [{errors: [States.ALL], next: tell_each}]\n"
        "  tell_each:\n    type: lambda\n    function: f\n    for_each: {items: [a, b]}\n"
        "    payload: {who: '${item}', why: '${error.Cause}'}\n"
    )
    compilation = compile_analysis(analyze_file(spec))
    assert compilation.ok, [p.render() for p in compilation.problems]
    definition = compilation.definition
    case = success_case(definition, {})
    case["train"] = failure(definition, "train")
    result = engine.run(definition, "demo", {}, case)
    assert result.error == "train.Failed"
    whys = [parameters["Payload"]["why"] for parameters in _scheduled(result, "tell_each.each")]
    assert whys == ["simulated failure of train"] * 2


def _scheduled(result, state: str) -> list[dict]:
    """The parameters of each time a task state was scheduled."""
    by_id = {event["id"]: event for event in result.events}
    return [
        json.loads(event["taskScheduledEventDetails"]["parameters"])
        for event in result.events
        if "taskScheduledEventDetails" in event and state_of(event, by_id) == state
    ]


def _parameters(result, state: str) -> dict:
    """The parameters a task state was scheduled with (its last attempt)."""
    found = _scheduled(result, state)
    assert found, f"{state} was not scheduled"
    return found[-1]
