"""Graphs Parallel states cannot express: each step waits for exactly its needs (completion markers)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import compile_text
from parliament import analyze_policy_string
from test_publish import connect, create, mutating, record_calls

from sfn_builder.asl import walk_states
from sfn_builder.deploy.cloudformation import template
from sfn_builder.deploy.publish import plan_removal, prepare, remove
from sfn_builder.markers import marker_waits
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import failure, success_case

# An "N" (c needs a and b; d needs b) and a step after it that reads results from inside it.
N_GRAPH = """
version: 1
name: n-graph
steps:
  a: {type: lambda, function: f-a, payload: {x: 1}}
  b: {type: lambda, function: f-b, payload: {x: 2}}
  c: {type: lambda, needs: [a, b], function: f-c, payload: {from_a: "${steps.a.score}"}}
  d: {type: lambda, needs: [b], function: f-d, payload: {from_b: "${steps.b.score}"}}
  e: {type: lambda, needs: [c, d], function: f-e,
      payload: {from_d: "${steps.d.score}", from_a: "${steps.a.score}"}}
notifications:
  topic: {name: n-alerts}
"""


def network_of(definition: dict) -> dict:
    return next(body for body in definition["States"].values() if body["Type"] == "Parallel")


def branch_waits(definition: dict) -> dict[str, list[str]]:
    """Each step of the network -> what it waits for: the step before it in its branch, and the steps
    it waits for through completion markers."""
    branches = network_of(definition)["Branches"]
    waits = {step: sorted(needs) for step, needs in marker_waits(branches).items()}
    for branch in branches:
        steps = [name for name in branch["States"] if "." not in name]
        for before, step in zip([None, *steps], steps, strict=False):
            waits.setdefault(step, [])
            if before:
                waits[step] = sorted([*waits[step], before])
    return waits


def requests_of(run: engine.Run, state: str) -> dict:
    by_id = {event["id"]: event for event in run.events}
    for event in run.events:
        details = event.get("taskScheduledEventDetails")
        if details and by_id[event["previousEventId"]].get("stateEnteredEventDetails", {}).get("name") == state:
            return json.loads(details["parameters"])
    raise AssertionError(f"{state} was not scheduled")


def test_each_step_waits_for_exactly_its_own_needs_and_nothing_is_reported(write_spec):
    compilation = compile_text(write_spec, N_GRAPH)
    assert compilation.ok, [p.render() for p in compilation.problems]
    assert not [p for p in compilation.problems if "also waits" in p.message]
    assert branch_waits(compilation.definition) == {"a": [], "b": [], "d": ["b"], "c": ["a", "b"]}


# The N with a choice after d and a step after d whose failure a handler ending in a `succeed` step catches:
# each either goes on or ends the workflow, so they wait and signal like any other step.
ENDINGS = """\
  t: {type: lambda, needs: [d], function: f-t, payload: {x: 3}, catch: [{errors: [States.ALL], next: quiet}]}
  quiet: {type: succeed}
  pick:
    type: choice
    needs: [d]
    choices: [{when: steps.d.StatusCode, equals: 200, next: x}]
    default: succeed
  x: {type: lambda, function: f-x, payload: {x: 4}}
"""
N_ENDINGS = N_GRAPH.replace("notifications:", ENDINGS + "notifications:")


def test_a_choice_or_a_catch_ending_the_workflow_keeps_exact_waits(write_spec):
    compilation = compile_text(write_spec, N_ENDINGS)
    assert compilation.ok, [p.render() for p in compilation.problems]
    assert not [p for p in compilation.problems if "also waits" in p.message]
    waits = branch_waits(compilation.definition)
    assert waits["c"] == ["a", "b"] and waits["d"] == ["b"]
    definition = compilation.definition
    run = engine.run(definition, "n-graph", {}, success_case(definition, {}))
    ran = {v.state for v in run.path if "." not in v.state and v.outcome == "succeeded"}
    assert run.status == "SUCCEEDED" and {"a", "b", "c", "d", "e", "pick", "x"} <= ran
    failed_x = engine.run(definition, "n-graph", {}, {**success_case(definition, {}), "x": failure(definition, "x")})
    assert (failed_x.status, failed_x.error, len(failed_x.alerts)) == ("FAILED", "x.Failed", 1)
    ended = engine.run(definition, "n-graph", {}, {**success_case(definition, {}), "t": failure(definition, "t")})
    shown = [(v.state, v.outcome) for v in ended.path]
    assert (ended.status, ended.alerts) == ("SUCCEEDED", [])  # `quiet` ended the workflow: nothing else starts
    assert ("quiet", "succeeded") in shown and shown[-1] == ("workflow.ended", "succeeded")


def test_a_step_that_needs_a_choice_waits_for_its_route_to_be_done_through_markers(write_spec):
    needing_the_choice = N_ENDINGS.replace("needs: [c, d]", "needs: [c, d, pick]")
    compilation = compile_text(write_spec, needing_the_choice)
    assert compilation.ok, [p.render() for p in compilation.problems]
    assert not [p for p in compilation.problems if "also waits" in p.message]
    run = engine.run(compilation.definition, "n-graph", {}, success_case(compilation.definition, {}))
    ran = [v.state for v in run.path if "." not in v.state and v.outcome == "succeeded"]
    assert run.status == "SUCCEEDED" and ran.index("pick") < ran.index("x") < ran.index("e")


# f (after a) and the choice `pick` (after d and f) share a chain; `pick` sends x, which reads a's result
# from the other chain, a result no step of pick's chain reads before it.
ROUTE_READS = N_GRAPH.replace(
    "notifications:",
    """\
  f: {type: lambda, needs: [a], function: f-f, payload: {x: 5}}
  pick:
    type: choice
    needs: [d, f]
    choices: [{when: steps.d.StatusCode, equals: 200, next: x}]
    default: succeed
  x: {type: lambda, needs: [a], function: f-x, payload: {from_a: "${steps.a.score}", from_f: "${steps.f.score}"}}
notifications:""",
)


def test_a_step_a_choice_leads_to_gets_the_results_it_reads_from_other_chains(write_spec):
    compilation = compile_text(write_spec, ROUTE_READS)
    assert compilation.ok, [p.render() for p in compilation.problems]
    waits = branch_waits(compilation.definition)
    assert waits["pick"] == ["d", "f"] and waits["x"] == ["pick"]
    definition = compilation.definition
    run = engine.run(definition, "n-graph", {}, success_case(definition, {}))
    assert run.status == "SUCCEEDED"
    assert requests_of(run, "x")["Payload"] == {"from_a": "simulated", "from_f": "simulated"}


def test_parallel_states_only_when_asked_and_then_the_wait_is_reported(write_spec):
    compilation = compile_text(write_spec, N_GRAPH.replace("name: n-graph", "name: n-graph\nparallelism: nested"))
    assert compilation.ok
    assert [p for p in compilation.problems if "also waits" in p.message]
    assert "markers" not in json.dumps(compilation.definition)


def test_results_cross_branches_as_they_do_with_parallel_states_only(write_spec):
    runs = {}
    for mode in ("exact", "nested"):
        definition = compile_text(write_spec, N_GRAPH.replace("steps:", f"parallelism: {mode}\nsteps:", 1)).definition
        runs[mode] = engine.run(definition, "n-graph", {}, success_case(definition, {}))
        assert runs[mode].status == "SUCCEEDED"
    assert [v.state for v in runs["exact"].path if "." not in v.state] == ["a", "b", "d", "c", "e"]
    for step in ("c", "d", "e"):
        request = requests_of(runs["exact"], step)
        assert request == requests_of(runs["nested"], step)
        assert "simulated" in json.dumps(request)


def test_a_failing_step_stops_what_needs_it_and_alerts_once(write_spec):
    definition = compile_text(write_spec, N_GRAPH).definition
    run = engine.run(definition, "n-graph", {}, {**success_case(definition, {}), "b": failure(definition, "b")})
    assert run.status == "FAILED" and run.error == "b.Failed"
    ran = [v.state for v in run.path if "." not in v.state and v.outcome == "succeeded"]
    assert "c" not in ran and "d" not in ran and "e" not in ran
    assert [alert.subject.rpartition(": ")[2] for alert in run.alerts] == ["b failed"]
    assert ("c", "cancelled") in [(v.state, v.outcome) for v in run.path]  # its branch began with a wait


def test_the_network_alerts_for_its_lone_steps_once_and_the_execution_rule_stays_quiet(write_spec):
    compilation = compile_text(write_spec, N_GRAPH)
    definition, workflow = compilation.definition, compilation.analysis.workflow
    alerts = [name for name, body in walk_states(definition) if body.get("Resource") == "arn:aws:states:::sns:publish"]
    assert sorted(alerts) == ["e.alert", "parallel.1.alert"]  # a-d (b and d one branch) share their Parallel state's
    assert branch_waits(definition) == {"a": [], "b": [], "d": ["b"], "c": ["a", "b"]}
    for step in "abcde":
        run = engine.run(definition, "n-graph", {}, {**success_case(definition, {}), step: failure(definition, step)})
        assert (run.status, run.error) == ("FAILED", f"{step}.Failed")
        assert [alert.subject for alert in run.alerts] == [f"sfn-build: n-graph: {step} failed"]
        assert f"step {step} failed" in run.alerts[0].message
        assert engine.rule_alerts(workflow, definition, run) == []


def test_create_makes_the_markers_table_and_grants_only_its_items(emulator, write_spec):
    path = write_spec(N_GRAPH)
    publication = create(emulator, path)
    aws = connect(emulator)
    table = aws.client("dynamodb").describe_table(TableName="n-graph-markers")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "marker", "KeyType": "HASH"}]
    role = next(r for r in publication.resources if r.kind == "iam-role")
    statements = role.spec["policies"]["sfn-build"]["Statement"]
    markers = next(s for s in statements if "dynamodb:UpdateItem" in s["Action"])
    assert markers["Resource"] == [table["TableArn"]]
    assert sorted(markers["Action"]) == ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert not analyze_policy_string(json.dumps(role.spec["policies"]["sfn-build"])).findings

    calls = record_calls(aws)
    second = prepare(*compiled_pair(path), aws)
    assert second.changes == [] and mutating(calls) == []

    remove(aws, "n-graph", plan_removal(aws, "n-graph"), lambda change: None)
    assert "n-graph-markers" not in aws.client("dynamodb").list_tables()["TableNames"]


def compiled_pair(path: str):
    from test_publish import compiled

    return compiled(path)


def test_nested_workflows_have_no_table_and_the_export_has_one(write_spec):
    compilation = compile_text(write_spec, N_GRAPH)
    resources = template(compilation.analysis.workflow, compilation.definition)["Resources"]
    tables = [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert [t["Properties"]["TableName"] for t in tables] == ["n-graph-markers"]
    nested = compile_text(write_spec, N_GRAPH.replace("name: n-graph", "name: n-graph\nparallelism: nested"))
    resources = template(nested.analysis.workflow, nested.definition)["Resources"]
    assert not [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]


def test_a_network_too_large_for_one_state_machine_runs_in_parts_with_the_same_waits(write_spec, monkeypatch):
    import sys

    from conftest import ROOT

    from sfn_builder import compiler
    from sfn_builder.asl import walk_states

    sys.path.insert(0, str(ROOT / "bench"))
    from specs import spec

    compilation = compile_text(write_spec, spec("dag", 300))
    assert compilation.ok
    assert not [p for p in compilation.problems if "also waits" in p.message or "Parallel states only" in p.message]
    assert len(compilation.parts) >= 2
    outer = network_of(compilation.definition)
    assert [next(iter(branch["States"])) for branch in outer["Branches"]] == [
        f"workflow.part-{n}" for n in sorted(compilation.parts)
    ]
    monkeypatch.setattr(compiler, "MAX_DEFINITION_BYTES", 10 * 1024 * 1024)  # as if the limit were larger
    whole = compile_text(write_spec, spec("dag", 300))
    assert not whole.parts

    def waits(definition: dict) -> set[str]:
        return {name for name, _ in walk_states(definition) if ".after-" in name}

    assert waits(compilation.whole()) == waits(whole.definition) != set()


def on_moto(spec: str) -> dict:
    """The run of a spec on moto's own interpreter (tests/markers_on_moto.py, in a process of its own)."""
    import subprocess
    import sys

    from conftest import ROOT

    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "markers_on_moto.py"), spec],
        capture_output=True, text=True, timeout=120, check=False,
    )
    run = json.loads(result.stdout.strip().splitlines()[-1])
    assert run["status"] == "SUCCEEDED", result.stderr[-2000:]
    return run


def test_a_step_waiting_before_its_need_is_done_is_released_by_the_signal(write_spec):
    """On moto's own interpreter (branches in threads, Wait states in real time, DynamoDB): e registers
    its task token before b is done and starts when b signals, without waiting for a; c, which needs
    both, is released by the later of the two."""
    spec = write_spec(
        "version: 1\nname: timed-n\nsteps:\n"
        "  a: {type: wait, seconds: 5}\n  b: {type: wait, seconds: 1}\n"  # a margin of 4 s for a loaded machine
        "  c: {type: wait, seconds: 1, needs: [a, b]}\n  d: {type: wait, seconds: 1, needs: [b]}\n"
        "  e: {type: wait, seconds: 1, needs: [b]}\n"
    )
    definition = compile_text(write_spec, Path(spec).read_text()).definition
    assert branch_waits(definition) == {"a": [], "b": [], "c": ["a", "b"], "d": ["b"], "e": ["b"]}
    run = on_moto(spec)
    times = run["times"]
    assert times["e.after-needs"]["entered"] < times["b"]["exited"]  # registered before b was done
    assert times["b"]["exited"] <= times["e"]["entered"] < times["a"]["exited"]  # released by b, not a
    assert times["c.after-needs"]["entered"] < times["b"]["exited"]
    assert times["c"]["entered"] >= times["a"]["exited"]
    assert run["markers_left"] == 0  # cleared once the network succeeded


def test_results_reach_a_step_released_by_a_signal(write_spec):
    """d waits for a and b and reads b's result: b's signal leaves it in d's marker, and a's, the last
    to arrive, brings it."""
    import re

    topic = "arn:aws:sns:us-east-1:123456789012:news"
    spec = write_spec(
        "version: 1\nname: timed-results\nsteps:\n"
        "  a: {type: wait, seconds: 5}\n  w: {type: wait, seconds: 1}\n"  # a margin of 4 s for a loaded machine
        f"  b: {{type: sns, needs: [w], topic: '{topic}', message: b done}}\n"
        "  c: {type: wait, seconds: 1, needs: [b]}\n"
        f"  d: {{type: sns, needs: [a, b], topic: '{topic}', message: 'after ${{steps.b.MessageId}}'}}\n"
    )
    definition = compile_text(write_spec, Path(spec).read_text()).definition
    assert branch_waits(definition) == {"a": [], "w": [], "b": ["w"], "c": ["b"], "d": ["a", "b"]}
    run = on_moto(spec)
    times = run["times"]
    assert times["d.after-needs"]["entered"] < times["b"]["exited"] < times["a"]["exited"] <= times["d"]["entered"]
    assert re.fullmatch(r"after [0-9a-f-]{36}", run["requests"]["d"]["Message"])


# A report read before a network, and a step w waiting for five needs in five chains: each chain carries
# the report in its results, and w reads each need's job ARN.
_NEEDS = "".join(
    f"  a{n}: {{type: lambda, needs: [evaluate], function: f, payload: {{auc: '${{steps.evaluate.report.auc}}'}}}}\n"
    f"  x{n}: {{type: lambda, needs: [a{n}], function: f, payload: {{}}}}\n"
    for n in range(1, 6)
)
_JOBS = ", ".join(f'"${{steps.a{n}.score}}"' for n in range(1, 6))
WIDE_WAIT = (
    """
version: 1
name: wide-wait
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/wide
    image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/wide:1
    instance_type: ml.m5.xlarge
steps:
  evaluate:
    type: processing
    outputs: [{name: report, source: /opt/ml/processing/output, destination: "s3://wide-data/report/"}]
    report: {output: report, file: evaluation.json}
"""
    + _NEEDS
    + f"  w: {{type: lambda, needs: [a1, a2, a3, a4, a5], function: collect, payload: {{jobs: [{_JOBS}]}}}}\n"
    + "  z: {type: lambda, needs: [w, x1, x2, x3, x4, x5], function: done, payload: {}}\n"
)


def test_a_step_waiting_for_many_needs_gets_only_the_results_it_reads(write_spec, cli, tmp_path):
    """Each need sends w its own result only, not everything its chain keeps: with a 60 KiB report before
    the network, five copies of it in w's marker exceeded what a state may hold (States.DataLimitExceeded,
    which no alert sees)."""
    spec = write_spec(WIDE_WAIT)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"auc": 0.91, "detail": "x" * 60_000}))
    code, out, err = cli("simulate", spec, "--report", f"evaluate=@{report}")
    assert code == 0, out + err
    assert "SUCCEEDED" in out
    signals = {
        name: body["Parameters"]
        for name, body in walk_states(compile_text(write_spec, WIDE_WAIT).definition)
        if name.endswith(".signal") and body["Type"] == "Task"
    }
    assert signals, "no step signals w"
    for name, parameters in signals.items():
        step = name.removesuffix(".signal")
        sent = parameters.get("ExpressionAttributeNames", {}).values()
        assert list(sent) == ([f"p_{step}"] if step.startswith("a") else []), name


def hub(waiting: int) -> str:
    """s0 is needed by a1..aN, and a1 also needs y: s0 signals the N-1 others that wait for it alone, and a1
    reads its result."""
    reads = 'payload: {s0: "${steps.s0.score}"}'
    steps = "".join(
        f"  a{n}: {{type: lambda, function: f, needs: [s0{', y' if n == 1 else ''}]{', ' + reads if n == 1 else ''}}}\n"
        for n in range(1, waiting + 1)
    )
    return (
        "version: 1\nname: hub\nnotifications:\n  topic: {name: hub-alerts}\nsteps:\n"
        "  s0: {type: lambda, function: f}\n  y: {type: lambda, function: f}\n" + steps
    )


def test_a_step_many_steps_wait_for_signals_them_from_child_executions(write_spec, monkeypatch):
    """Each signal adds about 12 history events: a step 3,000 steps waited for took 27,000 of the 25,000 an
    execution may have. Past INLINE_NOTIFY_LIMIT waiting steps, a Distributed Map's child executions send
    the signals, keyed by the workflow's execution; its role may start and stop them."""
    from sfn_builder import history_budget
    from sfn_builder.deploy.resources import ROLE, desired_resources
    from sfn_builder.steps.base import Arns

    inline = compile_text(write_spec, hub(6))
    monkeypatch.setattr(history_budget, "INLINE_NOTIFY_LIMIT", 3)
    compilation = compile_text(write_spec, hub(6))
    definition = compilation.definition
    notify = next(body for name, body in walk_states(definition) if name == "s0.notify")
    assert notify["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert notify["ItemSelector"]["sfn_build_parent"] == {"Id.$": "$$.Execution.Id"}  # all the children read
    signal = notify["ItemProcessor"]["States"]["s0.signal-one"]["Parameters"]["Key"]["marker"]["S.$"]
    assert "$$.Execution.Input.sfn_build_parent.Id" in signal
    assert branch_waits(definition) == branch_waits(inline.definition)

    ran_before = engine.run(inline.definition, "hub", {}, success_case(inline.definition, {}))
    run = engine.run(definition, "hub", {}, success_case(definition, {}))
    assert run.status == "SUCCEEDED" and len(run.events) < len(ran_before.events) - 5 * 6  # 7 or more a signal
    order = [v.state for v in run.path if "." not in v.state and v.outcome == "succeeded"]
    assert sorted(order) == sorted(["s0", "y", *(f"a{n}" for n in range(1, 7))])
    assert all(order.index("s0") < order.index(f"a{n}") for n in range(1, 7))
    assert requests_of(run, "a1")["Payload"] == requests_of(ran_before, "a1")["Payload"]

    failed = engine.run(definition, "hub", {}, {**success_case(definition, {}), "s0": failure(definition, "s0")})
    assert (failed.status, failed.error) == ("FAILED", "s0.Failed") and len(failed.alerts) == 1

    arns = Arns("aws", "us-east-1", "123456789012")
    role = next(r for r in desired_resources(compilation.analysis.workflow, definition, arns) if r.kind == ROLE)
    statements = role.spec["policies"]["sfn-build"]["Statement"]
    allowed = {(action, resource) for s in statements for action in s["Action"] for resource in s["Resource"]}
    assert ("states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:hub") in allowed
    assert ("states:StopExecution", "arn:aws:states:us-east-1:123456789012:execution:hub/*:*") in allowed
    inline_role = next(
        r for r in desired_resources(inline.analysis.workflow, inline.definition, arns) if r.kind == ROLE
    )
    assert "states:StartExecution" not in json.dumps(inline_role.spec)
    own_role = hub(6).replace("steps:\n", "execution_role: arn:aws:iam::123456789012:role/mine\nsteps:\n", 1)
    [warning] = [p for p in compile_text(write_spec, own_role).problems if "child executions" in p.message]
    assert "states:StartExecution" in (warning.hint or "") and warning.position.line == 5


def layered(sources: int, targets: int, needs: int) -> str:
    """Each of `targets` steps needs `needs` random steps of `sources`: a network where every source is
    waited for by many steps."""
    import random

    rng = random.Random(3)
    lines = [f"  a{n}: {{type: lambda, function: f}}\n" for n in range(sources)]
    for n in range(targets):
        chosen = ", ".join(f"a{m}" for m in sorted(rng.sample(range(sources), needs)))
        lines.append(f"  b{n}: {{type: lambda, function: f, needs: [{chosen}]}}\n")
    return "version: 1\nname: layered\nsteps:\n" + "".join(lines)


def test_the_most_waited_for_steps_signal_from_child_executions_until_the_history_fits(write_spec, monkeypatch):
    """60 steps each waited for by 100 took 50,000 events in one execution of 260 steps; past the budget,
    the steps that most steps wait for signal from child executions, until the rest fits."""
    from sfn_builder import history_budget

    spec = layered(12, 40, 6)
    inline = compile_text(write_spec, spec).definition
    before = engine.run(inline, "layered", {}, success_case(inline, {}))
    assert not [name for name, body in walk_states(inline) if "ItemProcessor" in body]
    monkeypatch.setattr(history_budget, "EVENTS_BUDGET", before.largest_history // 2)
    definition = compile_text(write_spec, spec).definition
    run = engine.run(definition, "layered", {}, success_case(definition, {}))
    assert run.status == "SUCCEEDED" and run.largest_history <= before.largest_history // 2
    assert branch_waits(definition) == branch_waits(inline)
    notifies = {name[: -len(".notify")]: body for name, body in walk_states(definition) if name.endswith(".notify")}
    waiting = {step: marker_waiters(definition, step) for step in notifies}
    children = {step for step, body in notifies.items() if "ItemProcessor" in body}
    assert children and children != set(notifies)
    assert min(waiting[step] for step in children) >= max(waiting[step] for step in set(notifies) - children)


def marker_waiters(definition: dict, step: str) -> int:
    """How many steps `step` signals (the list its notify Map goes over)."""
    [listed] = [body["Result"] for name, body in walk_states(definition) if name == f"{step}.signal"]
    return len(listed)


def reading_n(length: int, readers: int) -> str:
    """An N whose reading steps (c0, c1...) need the end of a chain of `length` steps and b, and each read
    every result of the chain: the chain's last step sends them all."""
    needs = ["", *(f", needs: [a{n}]" for n in range(length - 1))]
    chain = "".join(f"  a{n}: {{type: lambda, function: f{need}}}\n" for n, need in enumerate(needs))
    reads = ", ".join(f'r{n}: "${{steps.a{n}}}"' for n in range(length))
    reading = f"type: lambda, function: g, needs: [a{length - 1}, b], payload: {{{reads}}}"
    read = "".join(f"  c{n}: {{{reading}}}\n" for n in range(readers))
    others = "  b: {type: lambda, function: f}\n  d: {type: lambda, function: f, needs: [b]}\n"
    return f"version: 1\nname: reading-n\nsteps:\n{chain}{others}{read}"


def test_hundreds_of_results_sent_to_a_waiting_step_go_in_updates_dynamodb_accepts(write_spec):
    """DynamoDB refuses an update expression over 4 KB: a step that sent 400 results to a waiting step put
    them in one of 5.8 KB, and the run would have failed there after its 400 steps. The results beyond
    200 an update are set by the updates before the signal (one waiting step, or several from a Map)."""
    from sfn_builder.markers import SIGNAL_RESOURCE

    for readers, role in ((1, "sent"), (2, "sent-one")):
        spec = reading_n(450, readers)
        definition = compile_text(write_spec, spec).whole()
        updates = {
            name: state["Parameters"]["UpdateExpression"]
            for name, state in walk_states(definition)
            if state.get("Resource") == SIGNAL_RESOURCE
        }
        assert max(len(expression) for expression in updates.values()) <= 4096
        assert sorted(name for name in updates if ".sent" in name) == [f"a449.{role}-1", f"a449.{role}-2"]
        run = engine.run(definition, "reading-n", {}, success_case(definition, {}))
        nested = compile_text(write_spec, spec.replace("steps:", "parallelism: nested\nsteps:", 1)).definition
        alone = engine.run(nested, "reading-n", {}, success_case(nested, {}))
        assert run.status == alone.status == "SUCCEEDED"
        for reader in range(readers):
            payload = requests_of(run, f"c{reader}")["Payload"]
            assert len(payload) == 450 and payload == requests_of(alone, f"c{reader}")["Payload"]
