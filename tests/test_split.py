"""A workflow over Step Functions' 1 MB: split into parts that the workflow starts, published, run and
deleted together."""

from __future__ import annotations

import json
import random

import pytest
from conftest import compile_text

from sfn_builder import compiler
from sfn_builder.asl import compact, walk_states
from sfn_builder.deploy.aws import Aws, Target
from sfn_builder.deploy.changes import ADD, REMOVE
from sfn_builder.deploy.iam import state_machines_trust
from sfn_builder.deploy.publish import apply, plan_removal, prepare, remove
from sfn_builder.deploy.resources import ROLE, RULE, STATE_MACHINE, desired_resources
from sfn_builder.naming import part_alias, part_machine
from sfn_builder.part_history import spliced
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import failure, success_case
from sfn_builder.steps.base import Arns

HEADER = """\
version: 1
name: wide
input:
  day: {type: string, default: today}
defaults:
  sagemaker:
    role: arn:aws:iam::123456789012:role/wide-sagemaker
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/wide:1
    instance_type: ml.m5.xlarge
notifications:
  topic: {name: wide-alerts}
  on_execution: [FAILED]
steps:
"""
STEP = """\
  s{n}:
    type: processing
    needs: [{needs}]
    entrypoint: [python3, run.py]
    arguments: {{day: "${{input.day}}", run: "${{execution.name}}"}}
    outputs: [{{source: /opt/ml/processing/output, destination: "s3://wide-data/out/{n}/"}}]
"""
LAST = """\
  tell:
    type: lambda
    needs: [{needs}]
    function: tell
    payload: {{first: "${{steps.s0.ProcessingJobStatus}}", day: "${{input.day}}"}}
"""


def chain(size: int) -> str:
    steps = "".join(STEP.format(n=n, needs=f"s{n - 1}" if n else "") for n in range(size))
    return HEADER + steps + LAST.format(needs=f"s{size - 1}")


def fan(width: int) -> str:
    steps = "".join(STEP.format(n=n, needs="s0" if n else "") for n in range(width))
    return HEADER + steps + LAST.format(needs=", ".join(f"s{n}" for n in range(1, width)))


@pytest.fixture
def small_limit(monkeypatch):
    """Step Functions' limit as if it were 20 KB (so that a few steps need parts)."""
    monkeypatch.setattr(compiler, "MAX_DEFINITION_BYTES", 20_000)
    monkeypatch.setattr(compiler, "REQUEST_ROOM_BYTES", 0)
    monkeypatch.setattr(compiler, "PART_BUDGET_BYTES", 12_000)


def states_by_definition(compilation) -> dict[str, set[str]]:
    machines = {"wide": compilation.definition, **compilation.machines()}
    return {name: {state for state, _ in walk_states(definition)} for name, definition in machines.items()}


def test_a_workflow_over_one_megabyte_runs_as_parts_each_within_the_limit(write_spec):
    compilation = compile_text(write_spec, chain(900))
    assert compilation.ok, [p.render() for p in compilation.problems]
    assert len(compilation.parts) >= 2
    for definition in (compilation.definition, *compilation.parts.values()):  # as the API request holds it
        assert len(json.dumps(compiler.compact(definition)).encode()) <= 1024 * 1024 - 32 * 1024
    owners = states_by_definition(compilation)
    for step in [f"s{n}" for n in range(900)] + ["tell"]:
        assert sum(step in states for states in owners.values()) == 1, step
    started = [
        body["Parameters"]["StateMachineArn.$"]
        for _, body in walk_states(compilation.definition)
        if body.get("Resource") == "arn:aws:states:::states:startExecution.sync:2"
    ]
    # each part started by the alias named after its definition: a version of the workflow runs its own parts
    by_alias = [f"{name}:{part_alias(compact(part))}" for name, part in sorted(compilation.machines().items())]
    assert [arn.split("stateMachine:")[1].split("'")[0] for arn in started] == by_alias


def test_an_express_workflow_over_one_megabyte_is_an_error_that_says_so(write_spec):
    """An Express workflow cannot wait for another execution: it cannot be split."""
    step = "  s{n}:\n    type: sns\n    topic: arn:aws:sns:eu-west-1:111122223333:t\n    message: '" + "m" * 3000
    step += "'\n"
    text = "version: 1\nname: big\ntype: express\nsteps:\n" + "".join(step.format(n=n) for n in range(400))
    compilation = compile_text(write_spec, text)
    assert not compilation.ok
    assert any("Step Functions accepts requests of at most 1,048,576" in p.message for p in compilation.problems)


def test_parts_name_the_workflow_s_execution_in_job_tags_and_templates(write_spec, small_limit):
    compilation = compile_text(write_spec, chain(12))
    assert compilation.ok and compilation.parts
    text = json.dumps(list(compilation.parts.values()))
    assert "$$.Execution.Id" not in text and "$$.Execution.Name" not in text
    assert "States.Hash($$.Execution.Input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID, 'MD5')" in text
    assert "$$.Execution.Input.sfn_build_parent.Name" in text


def test_compile_writes_the_parts_beside_the_definition(write_spec, small_limit, cli, tmp_path):
    spec = write_spec(chain(12))
    code, _, err = cli("compile", spec, "-o", str(tmp_path / "wide.json"))
    assert code == 0, err
    parts = sorted(path.name for path in tmp_path.glob("wide.part-*.json"))
    assert parts and parts[0] == "wide.part-1.json"
    assert f"wrote {tmp_path / 'wide.part-1.json'}" in err
    compilation = compile_text(write_spec, chain(12))
    written = {"wide.json": compilation.definition}
    written.update({f"wide.part-{number}.json": part for number, part in compilation.parts.items()})
    for name, definition in written.items():  # each file deploys as written (the AWS CLI, Terraform...)
        text = (tmp_path / name).read_text()
        assert json.loads(text) == definition
        assert compiler.request_bytes(text) <= compiler.MAX_DEFINITION_BYTES, name
    assert "\n  " in (tmp_path / "wide.json").read_text()  # indented where that fits


AWKWARD = ['a":b', 'c\\":', '\\":', "\\", '"', ":", ",", "é", "{[", ""]


def nested_definition(seed: int) -> dict:
    rng = random.Random(seed)
    states = {
        f"s{n}{rng.choice(AWKWARD)}": {
            "Type": "Pass",
            "Result": {
                f"{rng.choice(AWKWARD)}{k}": [rng.choice(AWKWARD), k, {"x": None}] for k in range(rng.randint(0, 4))
            },
            "End": True,
        }
        for n in range(60)
    }
    return {"StartAt": next(iter(states)), "States": states}


@pytest.mark.parametrize(
    "definition",
    [
        *(nested_definition(seed) for seed in range(4)),
        {f"k{n}{text}": text for n, text in enumerate(AWKWARD * 3)},  # flat: indenting adds the least
    ],
)
def test_a_definition_is_written_indented_exactly_when_that_fits(monkeypatch, definition):
    """Indenting is skipped when the least it would add is past the limit: never when it would fit."""
    indented = json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
    needed = compiler.request_bytes(indented)
    for limit in (needed - 1, needed, needed + 1, needed * 2, needed // 2):
        monkeypatch.setattr(compiler, "MAX_DEFINITION_BYTES", limit)
        monkeypatch.setattr(compiler, "REQUEST_ROOM_BYTES", 0)
        written = compiler.readable(definition)
        assert json.loads(written) == definition
        assert (written == indented) == (limit >= needed)


def test_compile_removes_the_parts_an_earlier_compile_wrote_that_the_workflow_no_longer_has(
    write_spec, small_limit, cli, tmp_path
):
    output = str(tmp_path / "wide.json")
    assert cli("compile", write_spec(chain(24)), "-o", output)[0] == 0
    before = {path.name for path in tmp_path.glob("wide.part-*.json")}
    (tmp_path / "wide.part-x.json").write_text("{}")  # not one of ours
    code, _, err = cli("compile", write_spec(chain(12)), "-o", output)
    after = {path.name for path in tmp_path.glob("wide.part-*.json")}
    assert code == 0 and after < before | {"wide.part-x.json"} and "wide.part-x.json" in after
    assert all(f"removed {tmp_path / name}" in err for name in before - after)
    code, _, err = cli("compile", write_spec(chain(2)), "-o", output)  # small again: one state machine
    assert code == 0 and {path.name for path in tmp_path.glob("wide.part-*.json")} == {"wide.part-x.json"}


@pytest.mark.parametrize("shape", [chain, fan])
def test_a_split_workflow_simulates_every_step_in_order_and_later_parts_read_earlier_results(
    write_spec, small_limit, shape
):
    compilation = compile_text(write_spec, shape(12))
    assert compilation.ok and len(compilation.parts) >= 2
    whole = compilation.whole()
    run = engine.run(
        compilation.definition, "wide", {"day": "monday"}, success_case(whole, {}), parts=compilation.machines()
    )
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    visited = [visit.state for visit in run.path if visit.outcome == "succeeded"]
    assert [state for state in visited if state.startswith("s") or state == "tell"] == [
        *(f"s{n}" for n in range(12)),
        "tell",
    ]
    scheduled = [
        json.loads(event["taskScheduledEventDetails"]["parameters"])
        for event in run.events
        if "taskScheduledEventDetails" in event
    ]
    tell = next(p for p in scheduled if p.get("FunctionName") == "tell")
    assert tell["Payload"] == {"first": "Completed", "day": "monday"}


def test_a_failing_step_in_a_part_fails_the_workflow_naming_the_step_and_alerts_once(write_spec, small_limit):
    compilation = compile_text(write_spec, chain(12))
    whole = compilation.whole()
    case = {**success_case(whole, {}), "s9": failure(whole, "s9")}
    run = engine.run(compilation.definition, "wide", {}, case, parts=compilation.machines())
    assert (run.status, run.error) == ("FAILED", "s9.Failed")
    assert next(visit.state for visit in run.path if visit.outcome == "failed") == "s9"
    assert not any(visit.state.startswith("workflow.part-") for visit in run.path)
    assert engine.rule_alerts(compilation.analysis.workflow, compilation.definition, run) == []
    assert [alert.subject.rpartition(": ")[2] for alert in run.alerts] == ["s9 failed"]


def test_each_part_s_history_is_held_to_aws_s_limit_on_its_own(write_spec, small_limit, cli, monkeypatch):
    """A part is an execution of its own in AWS: simulate warns when one execution's history is past the
    limit, not when the workflow's and its parts' events together are."""
    from sfn_builder.cli import simulate_command

    spec = write_spec(chain(12))
    compilation = compile_text(write_spec, chain(12))
    whole = compilation.whole()
    run = engine.run(compilation.definition, "wide", {}, success_case(whole, {}), parts=compilation.machines())
    assert len(compilation.parts) >= 2 and run.largest_history < len(run.events)
    monkeypatch.setattr(simulate_command, "HISTORY_LIMIT", run.largest_history)
    assert "history events" not in cli("simulate", spec)[1]
    monkeypatch.setattr(simulate_command, "HISTORY_LIMIT", run.largest_history - 1)
    warned = cli("simulate", spec)[1]
    assert f"this run has {run.largest_history:,} history events; AWS ends a Standard execution at" in warned
    single = compile_text(write_spec, chain(1))
    alone = engine.run(single.definition, "wide", {}, success_case(single.definition, {}))
    assert not single.parts and alone.largest_history == len(alone.events)


def test_an_input_list_counts_with_the_steps_of_the_part_that_runs_it(write_spec, small_limit, monkeypatch):
    """A list given at run time adds its items' events to the history of the part its Map runs in, not to
    the workflow's: `execute --input` and a schedule's input are refused by that part's estimate."""
    from sfn_builder import execution_input

    listed = '  more:\n    type: lambda\n    needs: [tell]\n    function: more\n'
    listed += '    for_each: {items: "${input.more}"}\n'
    text = chain(12).replace("input:\n", "input:\n  more: {type: array, default: []}\n", 1) + listed
    compilation = compile_text(write_spec, text)
    histories = compilation.histories()
    part = histories.execution["more"]
    assert len(compilation.parts) >= 2 and set(histories.execution.values()) == set(compilation.parts) and part != 1
    alone, everything = histories.events[part], sum(histories.events.values())
    assert alone < everything
    workflow, given = compilation.analysis.workflow, {"more": list(range(10))}  # 70 events
    monkeypatch.setattr(execution_input, "HISTORY_LIMIT", alone + 70)
    assert execution_input.history_problems(workflow, given, histories) == []
    monkeypatch.setattr(execution_input, "HISTORY_LIMIT", alone + 69)
    (refused,) = execution_input.history_problems(workflow, given, histories)
    assert f"with the other steps of its part {part}'s execution, {alone + 70:,} or more history events" in refused


def test_the_role_may_start_the_parts_and_the_alert_rule_watches_the_workflow_only(write_spec, small_limit):
    compilation = compile_text(write_spec, chain(12))
    arns = Arns("aws", "us-east-1", "123456789012")
    resources = desired_resources(compilation.analysis.workflow, compilation.definition, arns, compilation.parts)
    machines = [r.name for r in resources if r.kind == STATE_MACHINE]
    assert machines == [*sorted(compilation.machines()), "wide"]  # the parts first: the workflow starts them
    role = next(r for r in resources if r.kind == ROLE)
    sources = role.spec["trust"]["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine"
    # each state machine and its versions and aliases (a part runs by its alias)
    assert sorted(sources) == sorted(f"{machine}:{m}{tail}" for m in machines for tail in ("", ":*"))
    statements = role.spec["policies"]["sfn-build"]["Statement"]
    by_action = {action: s["Resource"] for s in statements for action in s["Action"]}
    assert sorted(by_action["states:StartExecution"]) == sorted(
        f"arn:aws:states:us-east-1:123456789012:stateMachine:{m}" for m in compilation.machines()
    )
    rule = next(r for r in resources if r.kind == RULE)
    assert rule.spec["pattern"]["detail"]["stateMachineArn"] == [
        "arn:aws:states:us-east-1:123456789012:stateMachine:wide"
    ]
    alerted = rule.spec["pattern"]["detail"]["error"][0]["anything-but"]
    assert set(alerted) == {f"s{n}.Failed" for n in range(12)} | {"tell.Failed"}  # alerted by the steps


def test_the_trust_policy_of_many_parts_names_them_by_the_start_of_their_names(write_spec, small_limit):
    """Each part and its aliases listed would pass IAM's 2,048 characters from about 10 parts."""
    compilation = compile_text(write_spec, chain(12))
    parts = {number: compilation.parts[1] for number in range(1, 16)}  # as a workflow of 15 parts
    arns = Arns("aws", "us-east-1", "123456789012")
    resources = desired_resources(compilation.analysis.workflow, compilation.definition, arns, parts)
    trust = next(r for r in resources if r.kind == ROLE).spec["trust"]
    assert len(json.dumps(trust, separators=(",", ":"))) <= 2048
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine"
    sources = trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sorted(sources) == [f"{machine}:wide", f"{machine}:wide-part-*", f"{machine}:wide:*"]
    # a name too long is cut to fit: shorter before `-part-10` than before `-part-9`, each start kept whole
    long = "w" * 75
    names = [part_machine(long, number) for number in range(1, 16)]
    trust = state_machines_trust(arns, f"{machine}:{long}", [f"{machine}:{name}" for name in names])
    widened = trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    starts = sorted({name.rpartition("-part-")[0] for name in names})
    assert len(starts) == 2 and sorted(widened)[:2] == [f"{machine}:{start}-part-*" for start in starts]


def test_create_plan_and_delete_handle_the_parts_together(write_spec, small_limit, emulator):
    aws = Aws.connect(Target(endpoint_url=emulator, local=True))
    big, small = compile_text(write_spec, chain(12)), compile_text(write_spec, chain(2))
    workflow = big.analysis.workflow
    publication = prepare(workflow, big.definition, aws, big.parts)
    added = {c.name for c in publication.changes if c.action == ADD and c.kind == STATE_MACHINE}
    assert added == {"wide", *big.machines()}
    apply(publication, lambda change: None)
    assert prepare(workflow, big.definition, aws, big.parts).changes == []

    assert not small.parts
    shrunk = prepare(small.analysis.workflow, small.definition, aws, small.parts)
    assert {c.name for c in shrunk.changes if c.action == REMOVE} == set(big.machines())
    apply(shrunk, lambda change: None)
    apply(prepare(workflow, big.definition, aws, big.parts), lambda change: None)
    changes = plan_removal(aws, "wide")
    assert {c.name for c in changes if c.kind == STATE_MACHINE} == {"wide", *big.machines()}
    remove(aws, "wide", changes, lambda change: None)
    names = [m["name"] for m in aws.client("stepfunctions").list_state_machines()["stateMachines"]]
    assert names == []


def test_each_version_of_a_split_workflow_runs_the_parts_it_was_published_with(
    write_spec, small_limit, emulator, cli, aws_env
):
    """A part that a later create changed keeps its earlier definition under its earlier alias, which the
    earlier version of the workflow starts: a rollback runs it. Versions dropped take those aliases along."""
    aws = Aws.connect(Target(endpoint_url=emulator, local=True))
    sfn = aws.client("stepfunctions")
    head = "arn:aws:states:us-east-1:123456789012:stateMachine"

    def publish(text: str):
        compilation = compile_text(write_spec, text)
        apply(prepare(compilation.analysis.workflow, compilation.definition, aws, compilation.parts), lambda c: None)
        return compilation

    def aliases(part: str) -> dict[str, dict]:
        """The part's aliases, each with the definition of the version it routes to."""
        found = {}
        for item in sfn.list_state_machine_aliases(stateMachineArn=f"{head}:{part}")["stateMachineAliases"]:
            routing = sfn.describe_state_machine_alias(stateMachineAliasArn=item["stateMachineAliasArn"])
            version = routing["routingConfiguration"][0]["stateMachineVersionArn"]
            definition = json.loads(sfn.describe_state_machine(stateMachineArn=version)["definition"])
            found[item["stateMachineAliasArn"].rsplit(":", 1)[1]] = definition
        return found

    first = publish(chain(12))
    second = publish(chain(12).replace("/out/0/", "/out/zero/"))
    part = "wide-part-1"  # holds s0, whose output changed
    old, new = first.machines()[part], second.machines()[part]
    assert old != new and second.machines()["wide-part-2"] == first.machines()["wide-part-2"]
    assert aliases(part) == {part_alias(compact(old)): old, part_alias(compact(new)): new}
    assert prepare(second.analysis.workflow, second.definition, aws, second.parts).changes == []

    path = write_spec(chain(12).replace("/out/0/", "/out/zero/"))
    code, out, err = cli("rollback", path, "--endpoint-url", emulator, "--yes")
    assert code == 0, err
    code, out, _ = cli("execute", path, "--endpoint-url", emulator, "--wait")
    assert code == 0, out
    runs = sfn.list_executions(stateMachineArn=f"{head}:{part}")["executions"]
    assert len(runs) == 1
    ran = sfn.describe_execution(executionArn=runs[0]["executionArn"])
    # the part version 1 was published with
    assert ran["stateMachineAliasArn"] == f"{head}:{part}:{part_alias(compact(old))}"

    keep_one = "rollout: {keep_versions: 1}\n"
    third = publish(chain(12).replace("/out/0/", "/out/nought/") + keep_one)
    assert aliases(part) == {part_alias(compact(third.machines()[part])): third.machines()[part]}
    assert list(aliases("wide-part-2")) == [part_alias(compact(third.machines()["wide-part-2"]))]


PART = "workflow.part-1"


def test_a_history_reads_as_one_with_its_parts_events_where_they_ran():
    started = {
        "id": 3,
        "previousEventId": 2,
        "type": "TaskSubmitted",
        "taskSubmittedEventDetails": {
            "resource": "startExecution.sync:2",
            "output": json.dumps({"ExecutionArn": "arn:child"}),
        },
    }
    parent = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 1, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": PART}},
        started,
        {"id": 4, "previousEventId": 3, "type": "TaskSucceeded"},
    ]
    child = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 1, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "s0"}},
        {"id": 3, "previousEventId": 2, "type": "TaskSucceeded"},
        {"id": 4, "previousEventId": 3, "type": "ExecutionSucceeded"},
    ]
    events = spliced(parent, {"arn:child": child}.__getitem__)
    assert [(e["id"], e["previousEventId"], e["type"]) for e in events] == [
        (1, 0, "ExecutionStarted"),
        (2, 1, "TaskStateEntered"),
        (3, 2, "TaskSubmitted"),
        (4, 3, "TaskStateEntered"),
        (5, 4, "TaskSucceeded"),
        (6, 3, "TaskSucceeded"),
    ]


def test_a_network_split_into_parts_runs_every_step_once_and_fails_naming_the_step(write_spec, small_limit):
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "bench"))
    from specs import spec

    compilation = compile_text(write_spec, spec("dag", 20))
    assert compilation.ok and len(compilation.parts) >= 2
    assert not [p for p in compilation.problems if "also waits" in p.message]
    whole = compilation.whole()
    run = engine.run(compilation.definition, "dag", {}, success_case(whole, {}), parts=compilation.machines())
    ran = [visit.state for visit in run.path if visit.state.startswith("step_")]
    assert run.status == "SUCCEEDED" and sorted(ran) == sorted(f"step_{n}" for n in range(20))
    case = {**success_case(whole, {}), "step_17": failure(whole, "step_17")}
    failed = engine.run(compilation.definition, "dag", {}, case, parts=compilation.machines())
    assert (failed.status, failed.error) == ("FAILED", "step_17.Failed")


def test_each_part_of_a_split_network_clears_the_markers_of_its_own_steps(write_spec, small_limit):
    """The workflow's own definition does not grow with the steps that wait (a network of 10,000 steps
    kept 1.1 MB of marker deletions there); each part deletes its steps' markers once they all ran."""
    import sys

    from conftest import ROOT

    from sfn_builder.simulate import interpreter

    sys.path.insert(0, str(ROOT / "bench"))
    from specs import spec

    compilation = compile_text(write_spec, spec("dag", 20))
    assert compilation.ok and len(compilation.parts) >= 2
    deleted: dict[str, list[str]] = {}
    for machine, definition in {"dag": compilation.definition, **compilation.machines()}.items():
        for name, state in walk_states(definition):
            if ".markers-cleared" in name:
                requests = [request for each in state["Parameters"]["RequestItems"].values() for request in each]
                keys = [request["DeleteRequest"]["Key"]["marker"]["S.$"] for request in requests]
                deleted.setdefault(machine, []).extend(keys)
    assert "dag" not in deleted and len(deleted) >= 2
    owners = {state: machine for machine, states in states_by_definition(compilation).items() for state in states}
    waiting = sorted(state.split(".")[0] for state in owners if state.endswith(".after-needs"))
    cleared = {key.split("#")[1].split("'")[0]: machine for machine, keys in deleted.items() for key in keys}
    assert sorted(cleared) == waiting and all(owners[step] == machine for step, machine in cleared.items())
    whole = compilation.whole()
    failed_case = {**success_case(whole, {}), "step_17": failure(whole, "step_17")}
    failed = engine.run(compilation.definition, "dag", {}, failed_case, parts=compilation.machines())

    def markers_of(execution_arn: str) -> list[str]:
        return [key for key in interpreter.MARKERS if key.startswith(f"{execution_arn}#")]

    assert markers_of(failed.execution_arn)  # a failed execution keeps its markers, for a redrive
    run = engine.run(compilation.definition, "dag", {}, success_case(whole, {}), parts=compilation.machines())
    assert run.status == "SUCCEEDED" and not markers_of(run.execution_arn)
    assert not interpreter.MARKERS  # the failed run's are gone with it: each run has a table of its own


def test_a_workflow_whose_history_would_pass_the_budget_runs_in_parts_whose_histories_fit(write_spec, monkeypatch):
    """AWS ends an execution at 25,000 history events: 13,000 wait steps (about 650 KB of definition, under 1 MB)
    took 26,000 in one. A workflow past the budget by estimate is split, each part within it."""
    from sfn_builder import history_budget

    waits = "".join(f"  w{n}: {{type: wait, seconds: 1{f', needs: [w{n - 1}]' if n else ''}}}\n" for n in range(60))
    spec = "version: 1\nname: waits\nsteps:\n" + waits + "  last: {type: lambda, function: f, needs: [w59]}\n"
    whole = compile_text(write_spec, spec)
    alone = engine.run(whole.definition, "waits", {}, success_case(whole.definition, {}))
    assert not whole.parts and alone.status == "SUCCEEDED"
    monkeypatch.setattr(history_budget, "EVENTS_BUDGET", 50)
    compilation = compile_text(write_spec, spec)
    assert compilation.ok and len(compilation.parts) >= 3
    run = engine.run(
        compilation.definition, "waits", {}, success_case(compilation.whole(), {}), parts=compilation.machines()
    )
    ran = [visit.state for visit in run.path if visit.outcome == "succeeded" and "." not in visit.state]
    assert run.status == "SUCCEEDED" and ran == [*(f"w{n}" for n in range(60)), "last"]
    assert run.largest_history <= 50 + 10 < alone.largest_history  # a part's start, end and hand-over


def long_chain_network(length: int) -> str:
    """An N-shaped graph whose one chain is long: s0 -> ... -> last -> s_end, s_side -> s_end and s_other."""
    chained = "".join(STEP.format(n=n, needs=f"s{n - 1}" if n else "") for n in range(length))
    side = STEP.format(n="_side", needs="")
    ends = STEP.format(n="_end", needs=f"s{length - 1}, s_side") + STEP.format(n="_other", needs="s_side")
    return HEADER + chained + side + ends


def test_a_network_chain_too_large_for_a_part_is_cut_between_parts_and_still_waits_exactly(write_spec, small_limit):
    compilation = compile_text(write_spec, long_chain_network(24))
    assert compilation.ok, compilation.problems
    assert not [p for p in compilation.problems if "also waits" in p.message]
    owners = {
        state: machine
        for machine, states in states_by_definition(compilation).items()
        for state in states
        if machine != "wide"
    }
    chain_parts = [owners[f"s{n}"] for n in range(24)]
    assert len(set(chain_parts)) >= 2  # the one chain runs in several parts
    cuts = [n for n in range(1, 24) if chain_parts[n] != chain_parts[n - 1]]
    assert all(f"s{n}.after-needs" in owners for n in cuts)  # where a part takes the chain over, it waits
    whole = compilation.whole()
    run = engine.run(compilation.definition, "wide", {}, success_case(whole, {}), parts=compilation.machines())
    ran = [visit.state for visit in run.path if visit.outcome == "succeeded" and visit.state.startswith("s")]
    assert run.status == "SUCCEEDED" and ran[:24] == [f"s{n}" for n in range(24)]
    for step in (f"s{cuts[0] - 1}", f"s{cuts[0]}", "s_end"):
        case = {**success_case(whole, {}), step: failure(whole, step)}
        failed = engine.run(compilation.definition, "wide", {}, case, parts=compilation.machines())
        assert (failed.status, failed.error) == ("FAILED", f"{step}.Failed")
        assert [alert.subject.rpartition(": ")[2] for alert in failed.alerts] == [f"{step} failed"]


def large_regions(length: int) -> str:
    """A choice between two chains (regions of the choice), each larger than a part."""
    pick = """\
  pick:
    type: choice
    needs: [s0]
    choices:
      - {when: input.day, equals: today, next: a0}
    default: b0
"""
    step = STEP.replace("  s{n}:", "  {n}:", 1)
    regions = "".join(
        step.format(n=f"{side}{n}", needs=f"{side}{n - 1}" if n else "") for side in "ab" for n in range(length)
    )
    return HEADER + STEP.format(n=0, needs="") + pick + regions


@pytest.mark.parametrize("day, route", [("today", "a"), ("monday", "b")])
def test_choice_regions_too_large_for_one_machine_run_as_parts_on_either_route(write_spec, small_limit, day, route):
    compilation = compile_text(write_spec, large_regions(20))
    assert compilation.ok, compilation.problems
    assert len(compilation.parts) >= 4  # each route's 20 steps need at least two parts of 12 KB
    whole, parts = compilation.whole(), compilation.machines()
    run = engine.run(compilation.definition, "wide", {"day": day}, success_case(whole, {}), parts=parts)
    ran = [visit.state for visit in run.path if visit.outcome == "succeeded" and visit.state[0] in "ab"]
    assert run.status == "SUCCEEDED" and ran == [f"{route}{n}" for n in range(20)]
    step = f"{route}17"
    case = {**success_case(whole, {}), step: failure(whole, step)}
    failed = engine.run(compilation.definition, "wide", {"day": day}, case, parts=parts)
    assert (failed.status, failed.error) == ("FAILED", f"{step}.Failed")
    assert [alert.subject.rpartition(": ")[2] for alert in failed.alerts] == [f"{step} failed"]


def random_graph(seed: int, size: int = 40) -> tuple[str, dict[str, list[str]], list[str]]:
    """A random DAG of processing steps, with a choice at the end of one step whose route is a long chain,
    and steps whose failure a handler chain (ending in `fail`) catches: the spec, each step's needs, and
    the route's steps (taken on the default input)."""
    rng = random.Random(seed)
    step = STEP.replace("  s{n}:", "  {n}:", 1)
    needs = {}
    for n in range(size):
        earlier = range(max(0, n - 6), n)
        needs[f"s{n}"] = [f"s{m}" for m in sorted(rng.sample(earlier, min(n, rng.randint(1, 3))))]
    text = HEADER
    for name, before in needs.items():
        text += step.format(n=name, needs=", ".join(before))
        if rng.random() < 0.15:
            text += f"    catch: [{{errors: [States.ALL], next: {name}_h}}]\n"
            text += step.format(n=f"{name}_h", needs="") + f"  {name}_end: {{type: fail, needs: [{name}_h]}}\n"
    route = [f"r{n}" for n in range(30)]
    text += f"""\
  pick:
    type: choice
    needs: [s{rng.randrange(size)}]
    choices: [{{when: input.day, equals: today, next: r0}}]
    default: succeed
"""
    text += "".join(step.format(n=name, needs=f"r{n - 1}" if n else "") for n, name in enumerate(route))
    return text, needs, route


@pytest.mark.parametrize("seed", range(3))
def test_random_graphs_in_parts_run_every_step_after_exactly_its_needs(write_spec, monkeypatch, seed):
    monkeypatch.setattr(compiler, "MAX_DEFINITION_BYTES", 60_000)  # a part holds about 20 steps
    monkeypatch.setattr(compiler, "REQUEST_ROOM_BYTES", 0)
    monkeypatch.setattr(compiler, "PART_BUDGET_BYTES", 30_000)
    text, needs, route = random_graph(seed)
    compilation = compile_text(write_spec, text)
    assert compilation.ok, compilation.problems
    assert not [p for p in compilation.problems if "also waits" in p.message]
    assert len(compilation.parts) >= 3  # the route needs two
    whole = compilation.whole()
    run = engine.run(compilation.definition, "wide", {}, success_case(whole, {}), parts=compilation.machines())
    ran = [visit.state for visit in run.path if visit.outcome == "succeeded" and "." not in visit.state]
    position = {state: index for index, state in enumerate(ran)}
    assert run.status == "SUCCEEDED" and set(needs) | set(route) <= set(ran)
    assert all(position[need] < position[step] for step, before in needs.items() for need in before)
    assert [state for state in ran if state in route] == route


def test_the_picture_of_a_split_network_shows_the_parts_it_starts(write_spec, small_limit):
    import sys

    from conftest import ROOT

    from sfn_builder.picture import render

    sys.path.insert(0, str(ROOT / "bench"))
    from specs import spec

    compilation = compile_text(write_spec, spec("dag", 20))
    svg = render(compilation.definition, "svg", title="dag")
    assert all(f"workflow.part-{number}" in svg for number in compilation.parts)


def test_a_change_to_a_part_changes_the_workflow_s_own_definition(write_spec, small_limit):
    """`status`, `execute` and `resume --redrive` tell definitions apart by the workflow's own."""
    before = compile_text(write_spec, chain(12))
    after = compile_text(write_spec, chain(12).replace("run.py", "train.py", 1))
    assert before.parts != after.parts
    assert before.definition != after.definition


def test_a_spec_s_own_role_is_told_what_running_parts_needs(write_spec, small_limit):
    text = chain(12).replace("version: 1\n", "version: 1\nexecution_role: arn:aws:iam::123456789012:role/mine\n")
    compilation = compile_text(write_spec, text)
    assert compilation.ok
    warning = next(p for p in compilation.problems if "state machines" in p.message)
    assert warning.severity == "warning" and warning.path == ("execution_role",)
    assert "wide-part-1" in warning.message and "states:StartExecution on those parts" in (warning.hint or "")


def test_a_redrive_of_a_split_workflow_says_its_failed_part_starts_again(write_spec, small_limit, monkeypatch, capsys):
    from sfn_builder.cli import aws_commands
    from sfn_builder.deploy import executions

    compilation = compile_text(write_spec, chain(12))
    monkeypatch.setattr(executions, "definition_run_by", lambda aws, arn: compilation.definition)
    redriven = []
    monkeypatch.setattr(executions, "redrive", lambda aws, arn: redriven.append(arn))
    earlier = {"name": "run-1", "status": "FAILED", "executionArn": "arn:aws:states:us-east-1:1:execution:wide:run-1"}
    assert aws_commands._redrive(None, compilation.analysis.workflow, compilation.definition, earlier) == 0
    assert redriven == [earlier["executionArn"]]
    assert "the part that failed starts again from its first step" in capsys.readouterr().out
