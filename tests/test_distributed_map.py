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
        ("${input.run_date}", "\n      results: s3://ml-data/results/", "mode: distributed"),  # chosen, not said
        ("${input.run_date}", "\n      format: csv", "how a file of items in S3 is written"),
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
    assert any("whose items' results are not kept" in p.message for p in analysis.problems)


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
    _a_failing_item_fails_the_step_with_one_alert(definition)


def _a_failing_item_fails_the_step_with_one_alert(definition):
    failing = {**success_case(definition, {}), "score.each": failure(definition, "score.each")}
    run = engine.run(definition, "workflow", {}, failing)
    assert run.status == "FAILED" and run.error == "score.Failed"
    assert "States.ExceedToleratedFailureThreshold" in run.cause
    assert [alert.subject.rpartition(": ")[2] for alert in run.alerts] == ["score failed"]


def test_failures_within_the_tolerance_let_the_workflow_go_on(write_spec):
    text = spec("s3://ml-data/shards/list.json", "\n      tolerated_failure_percentage: 100")
    definition = compile_text(write_spec, text).definition
    failing = {**success_case(definition, {}), "score.each": failure(definition, "score.each")}
    assert engine.run(definition, "shard-scoring", {}, failing).status == "SUCCEEDED"


# -- lists in the state that an inline Map cannot run as written -----------------------------------------

LIST_SPEC = """
version: 1
name: region-scoring{kind}
input:
  regions: {{type: array, default: [eu]}}
steps:
  score:
    type: lambda
    function: score-region
    for_each: {{items: {items}{concurrency}}}
    payload: {{region: "${{item}}"}}{catch}
  done:
    type: lambda
    needs: [score]
    function: tell
    payload: {{scores: "${{steps.score}}"}}
notifications:
  topic: {{name: scoring-alerts}}
"""


def list_spec(items: str, concurrency: int | None = None, *, kind: str = "", catch: str = "") -> str:
    more = f", max_concurrency: {concurrency}" if concurrency is not None else ""
    kind = f"\ntype: {kind}" if kind else ""
    return LIST_SPEC.format(items=items, concurrency=more, kind=kind, catch=catch)


def regions(count: int) -> str:
    return "[" + ", ".join(f"r{n}" for n in range(count)) + "]"


@pytest.mark.parametrize(
    ("items", "concurrency", "kind", "distributed"),
    [
        (regions(40), None, "", False),  # inline runs all 40 at once
        (regions(41), None, "", True),  # 41 at once: more than an inline Map runs
        (regions(41), 40, "", False),  # as asked: 40 at a time
        (regions(41), 0, "", True),  # 0: no limit
        (regions(2_001), 10, "", True),  # too many events for one history
        (regions(41), None, "express", False),  # an Express workflow cannot run a Distributed Map
        ('"${input.regions}"', None, "", False),  # a list read at run time: inline unless asked for more
        ('"${input.regions}"', 40, "", False),
        ('"${input.regions}"', 41, "", True),
    ],
)
def test_a_list_in_the_state_runs_distributed_when_an_inline_map_cannot_run_it_as_written(
    write_spec, items, concurrency, kind, distributed
):
    compilation = compile_text(write_spec, list_spec(items, concurrency, kind=kind))
    assert compilation.ok, [p.render() for p in compilation.problems]
    state = compilation.definition["States"]["score"]
    assert ("ItemProcessor" in state) is distributed and ("Iterator" in state) is not distributed
    assert state["ItemsPath"] in ("$.items.score", "$.input.regions")  # the list in the state, either way
    if distributed:
        assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        assert state["ItemSelector"]["item.$"] == "$$.Map.Item.Value" and "ItemReader" not in state
        assert state["ResultPath"] == "$.steps.score"  # the results come back, as an inline Map's do
    if concurrency:
        assert state["MaxConcurrency"] == concurrency



@pytest.mark.parametrize(("items", "warned"), [(regions(41), True), (regions(3), False), ("s3://ml-data/r.json", True)])
def test_a_spec_s_own_role_is_told_what_running_a_distributed_map_needs(write_spec, items, warned):
    text = list_spec(items).replace('scores: "${steps.score}"', "x: 1")  # items in S3 keep no results
    own_role = text.replace("steps:\n", "execution_role: arn:aws:iam::123456789012:role/mine\nsteps:\n")
    compilation = compile_text(write_spec, own_role)
    found = [p for p in compilation.problems if "child executions of region-scoring" in p.message]
    assert compilation.ok and len(found) == warned
    if warned:
        assert "role/mine" in found[0].message and found[0].path == ("execution_role",)
        assert "states:StartExecution" in found[0].hint and not found[0].is_error

TWO_LISTS = """
version: 1
name: two-lists{kind}
steps:
  score:
    type: lambda
    function: score-region
    for_each: {{items: {first}, max_concurrency: 10}}
  rank:
    type: lambda
    function: rank-region
    needs: [score]
    for_each: {{items: {second}, max_concurrency: 10}}
"""


@pytest.mark.parametrize(
    ("first", "second", "kind", "distributed"),
    [
        (regions(1_500), regions(1_000), "", set()),  # 17,500 events: both fit one history
        (regions(1_900), regions(1_800), "", {"score"}),  # 25,900: the longer one runs distributed
        (regions(1_800), regions(1_900), "", {"rank"}),
        (regions(1_900), regions(1_800), "\ntype: express", set()),  # Express keeps no such history
        (f"{regions(1_900)}, mode: inline", regions(1_800), "", {"rank"}),  # the spec's mode is kept
    ],
)
def test_lists_too_long_together_for_one_history_run_distributed_longest_first(
    write_spec, first, second, kind, distributed
):
    text = TWO_LISTS.format(first=first, second=second, kind=kind)
    compilation = compile_text(write_spec, text)
    states = compilation.definition["States"]
    assert {name for name in ("score", "rank") if "ItemProcessor" in states[name]} == distributed


def test_a_schedule_input_list_too_long_for_an_inline_maps_history_is_refused(write_spec):
    schedule = "schedule:\n  expression: rate(1 day)\n  input: {regions: %s}\n"
    refused = analyze_text(write_spec, list_spec('"${input.regions}"') + schedule % regions(3_600))
    (problem,) = [p for p in refused.problems if "history events" in p.message]
    assert problem.is_error and problem.path == ("schedule", "input") and "mode: distributed" in problem.hint
    assert "'regions' holds 3,600 items: score runs them in an inline Map" in problem.message
    assert analyze_text(write_spec, list_spec('"${input.regions}"') + schedule % regions(3_000)).ok


MORE_LIST = """\
  more:
    type: lambda
    function: more-regions
    needs: [rank]
    for_each: {items: "${input.more}", max_concurrency: 10}
input:
  more: {type: array, default: []}
schedule:
  expression: rate(1 day)
  input: {more: %s}
"""


@pytest.mark.parametrize(("given", "fits"), [(1_000, True), (1_800, False)])
def test_a_schedule_input_list_counts_with_the_lists_that_run_in_its_execution(write_spec, given, fits):
    """Two literal lists of 25,900 events together: one runs distributed, so the execution has room for an
    input list of 1,000 items (7,000 events) beside the other, but not for one of 1,800. Validate, which does
    not know which list runs distributed, refused both."""
    text = TWO_LISTS.format(first=regions(1_900), second=regions(1_800), kind="") + MORE_LIST % regions(given)
    assert analyze_text(write_spec, text).ok
    compilation = compile_text(write_spec, text)
    assert "ItemProcessor" in compilation.definition["States"]["score"]  # the longer list runs distributed
    refusals = [p for p in compilation.problems if "history events" in p.message]
    assert compilation.ok is fits and len(refusals) == (not fits)
    if not fits:
        (refusal,) = refusals
        assert refusal.path == ("schedule", "input") and refusal.position.line == text.count("\n") - 1
        assert "'more' holds 1,800 items: more runs them in an inline Map: with the other steps of" in refusal.message
        assert "25,2" in refusal.message and "mode: distributed" in refusal.hint


@pytest.mark.parametrize("items", ["s3://ml-data/shards/list.json", regions(50), regions(3)])
def test_an_item_whose_result_nobody_reads_outputs_nothing(write_spec, items):
    """A Map gathers every item's output before its ResultPath applies (a Distributed Map even when it is
    null): past 256 KiB the execution fails with States.DataLimitExceeded, which no catch handles."""
    text = spec(items) if items.startswith("s3://") else list_spec(items).replace('scores: "${steps.score}"', "x: 1")
    definition = compile_text(write_spec, text).definition
    state = definition["States"]["score"]
    processor = state.get("ItemProcessor") or state["Iterator"]
    assert processor["States"]["score.each"]["OutputPath"] is None and state["ResultPath"] is None
    assert engine.run(definition, "x", {}, success_case(definition, {})).status == "SUCCEEDED"
    kept = compile_text(write_spec, list_spec(items if not items.startswith("s3://") else regions(3))).definition
    processor = kept["States"]["score"].get("ItemProcessor") or kept["States"]["score"]["Iterator"]
    assert processor["States"]["score.each"]["OutputPath"] == "$.steps.score"  # a result read later: kept


def test_items_in_s3_without_results_are_warned_of_the_state_their_outputs_fill(write_spec):
    analysis = analyze_text(write_spec, spec("s3://ml-data/shards/list.json"))
    warned = [p for p in analysis.problems if p.severity.name == "WARNING"]
    assert [p.path for p in warned] == [("steps", "score", "for_each")]
    assert "about 87,000 items" in warned[0].message and "results: s3://" in warned[0].hint
    written = analyze_text(write_spec, spec("s3://ml-data/shards/list.json", "\n      results: s3://ml-data/out/"))
    assert written.ok and not [p for p in written.problems if "gathers" in p.message]


def test_a_list_said_to_run_distributed_may_write_its_results_to_s3(write_spec):
    text = mode_spec('"${input.regions}"', "distributed", ", results: 's3://ml-data/scores/'")
    refused = [p for p in analyze_text(write_spec, text).problems if p.is_error]
    assert len(refused) == 1 and "written to s3://ml-data/scores/" in refused[0].message  # done reads them
    assert "s3://ml-data/scores/" in refused[0].hint
    compilation = compile_text(write_spec, text.replace('payload: {scores: "${steps.score}"}', "payload: {}"))
    state = compilation.definition["States"]["score"]
    assert state["ResultWriter"]["Parameters"] == {"Bucket": "ml-data", "Prefix": "scores/"}
    assert state["ResultPath"] is None and state["ItemsPath"] == "$.input.regions"
    policy = execution_policy(compilation.analysis.workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    writes = [s["Resource"] for s in policy["Statement"] if "s3:PutObject" in s["Action"]]
    assert writes == [["arn:aws:s3:::ml-data/scores/*"]]
    run = engine.run(compilation.definition, "x", {"regions": ["a", "b"]}, success_case(compilation.definition, {}))
    assert run.status == "SUCCEEDED"


def test_a_distributed_list_runs_its_own_children_and_reads_nothing_in_s3(write_spec):
    compilation = compile_text(write_spec, list_spec('"${input.regions}"', 500))
    policy = execution_policy(compilation.analysis.workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"} <= actions
    assert not [action for action in actions if action.startswith("s3:")]
    inline = compile_text(write_spec, list_spec('"${input.regions}"', 5))
    policy = execution_policy(inline.analysis.workflow, Arns("aws", "eu-west-1", "111122223333"), None)
    assert "states:StartExecution" not in {action for s in policy["Statement"] for action in s["Action"]}


def test_a_distributed_list_is_simulated_item_by_item_and_a_failing_item_fails_the_step_with_one_alert(write_spec):
    definition = compile_text(write_spec, list_spec(regions(50))).definition
    run = engine.run(definition, "region-scoring", {}, success_case(definition, {}))
    assert run.status == "SUCCEEDED"
    assert len(run.output["steps"]["score"]) == 50  # every item's result, in the state
    _a_failing_item_fails_the_step_with_one_alert(definition)


def test_catching_an_items_own_error_on_a_distributed_map_is_flagged(write_spec):
    catch = "\n    catch: [{errors: [Lambda.ServiceException], next: succeed}]"
    analysis = analyze_text(write_spec, list_spec(regions(50), catch=catch))
    flagged = [p for p in analysis.problems if "never matches" in p.message]
    assert len(flagged) == 1 and "States.ExceedToleratedFailureThreshold" in flagged[0].message
    assert flagged[0].path == ("steps", "score", "catch", 0, "errors", 0)
    inline = analyze_text(write_spec, list_spec(regions(5), catch=catch))
    assert not [p for p in inline.problems if "never matches" in p.message]


def test_the_whole_results_of_a_lambda_for_each_are_its_items_payloads(write_spec):
    definition = compile_text(write_spec, list_spec(regions(3))).definition
    assert definition["States"]["done"]["Parameters"]["Payload"] == {"scores.$": "$.steps.score[*].Payload"}
    case = success_case(definition, {})
    run = engine.run(definition, "region-scoring", {}, case)
    assert run.status == "SUCCEEDED", run.cause
    text = list_spec(regions(3)).replace("payload: {scores:", 'for_each: {items: "${steps.score}"}\n    payload: {s:')
    refused = [p for p in analyze_text(write_spec, text).problems if "gathers the Payload" in p.message]
    assert len(refused) == 1 and "s3://" in refused[0].hint  # not a circular hint to ${steps.score} itself


@pytest.mark.parametrize("items", ["s3://ml-data/shards/list.json", regions(50)])
def test_a_distributed_maps_children_name_the_workflows_execution(write_spec, items):
    """Job tags and ${execution.*} in an item's request name the workflow's execution, not the child's."""
    text = spec(items) if items.startswith("s3://") else list_spec(items)
    text = text.replace('payload: {shard: "${item.shard}"', 'payload: {run: "${execution.name}", shard: "${item}"')
    text = text.replace('payload: {region: "${item}"}', 'payload: {region: "${item}", run: "${execution.name}"}')
    definition = compile_text(write_spec, text).definition
    state = definition["States"]["score"]
    assert state["ItemSelector"]["sfn_build_parent"] == {
        "Id.$": "$$.Execution.Id", "Name.$": "$$.Execution.Name", "StartTime.$": "$$.Execution.StartTime"
    }
    processor = json.dumps(state["ItemProcessor"])
    assert "$$.Execution.Input.sfn_build_parent.Name" in processor
    assert not [name for name in ("Id", "Name", "StartTime") if f"$$.Execution.{name}\"" in processor]
    # the child's input is its item document, as on AWS: the reference resolves in the simulation
    assert engine.run(definition, "x", {}, success_case(definition, {})).status == "SUCCEEDED"


def mode_spec(items: str, mode: str, extra: str = "", *, kind: str = "") -> str:
    """`list_spec` with `mode` (and `extra` for_each fields)."""
    written = f"for_each: {{items: {items}}}"
    return list_spec(items, kind=kind).replace(written, f"{written[:-1]}, mode: {mode}{extra}}}")


@pytest.mark.parametrize(
    ("items", "mode", "distributed"),
    [
        ('"${input.regions}"', "distributed", True),  # a list read at run time, thousands of items say
        (regions(3), "distributed", True),
        (regions(50), "inline", False),  # the spec wants inline semantics (an item's own error to its catch)
    ],
)
def test_mode_says_how_the_items_run_whatever_sfn_build_would_choose(write_spec, items, mode, distributed):
    compilation = compile_text(write_spec, mode_spec(items, mode))
    assert compilation.ok, [p.render() for p in compilation.problems]
    state = compilation.definition["States"]["score"]
    assert ("ItemProcessor" in state) is distributed and ("Iterator" in state) is not distributed


def test_a_distributed_list_may_tolerate_failures_when_the_spec_says_it_runs_distributed(write_spec):
    text = mode_spec('"${input.regions}"', "distributed", ", tolerated_failure_percentage: 100")
    definition = compile_text(write_spec, text).definition
    assert definition["States"]["score"]["ToleratedFailurePercentage"] == 100.0
    failing = {**success_case(definition, {}), "score.each": failure(definition, "score.each")}
    assert engine.run(definition, "x", {}, failing).status == "SUCCEEDED"
    # where sfn-build chooses (50 items run distributed today, 40 would not), a tolerance is refused
    tolerant = "for_each: {tolerated_failure_percentage: 5, items: ["
    chosen = list_spec(regions(50)).replace("for_each: {items: [", tolerant)
    refused = [p for p in analyze_text(write_spec, chosen).problems if "tolerated_failure_percentage" in p.message]
    assert len(refused) == 1 and "mode: distributed" in refused[0].hint


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (lambda: mode_spec(regions(3), "distributed", kind="express"), "Express workflows cannot run"),
        (lambda: spec("s3://ml-data/shards/list.json").replace("max_concurrency: 500", "mode: inline"),
         "items in S3 always run as a Distributed Map"),
    ],
)
def test_a_mode_the_workflow_cannot_run_is_refused(write_spec, text, said):
    analysis = analyze_text(write_spec, text())
    assert any(said in p.message and p.severity.name == "ERROR" for p in analysis.problems), [
        p.render() for p in analysis.problems
    ]


def test_inline_past_what_an_inline_map_runs_is_warned(write_spec):
    wide = mode_spec(regions(3), "inline", ", max_concurrency: 100")
    long = mode_spec(regions(2_500), "inline")
    said = [p.message for p in analyze_text(write_spec, wide).problems if p.severity.name == "WARNING"]
    assert any("at most 40 items at once, not 100" in m for m in said)
    said = [p.message for p in analyze_text(write_spec, long).problems if p.severity.name == "WARNING"]
    assert any("2,500 items inline" in m for m in said)


KEPT = """
version: 1
name: kept-results
input:
  shards: {{type: array, default: [a]}}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/kept-sagemaker
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/kept:1
    instance_type: ml.m5.xlarge
steps:
  score:
    type: processing
    entrypoint: [python3, score.py]
    arguments: {{shard: "${{item}}"}}
    for_each: {{items: {items}{more}}}
  publish:
    type: lambda
    function: publish-scores
    needs: [score]
    payload: {{scores: "${{steps.score{read}}}"}}
"""


@pytest.mark.parametrize(
    ("items", "read", "said"),
    [
        (regions(1_500), ".ProcessingJobName", "error"),  # name, ARN and status: 186 bytes an item at least
        (regions(800), ".ProcessingJobName", "warning"),  # past half: the members read may be larger
        (regions(600), ".ProcessingJobName", None),
        (regions(700), "", "error"),  # the whole describe response echoes the request
        (regions(300), "", None),
    ],
)
def test_a_fan_outs_results_kept_past_the_states_256_kib_are_refused(write_spec, items, read, said):
    """Every item's result that a later step reads is kept in the state: past 256 KiB the run ends with
    States.DataLimitExceeded, which no catch (and so no step alert) handles."""
    analysis = analyze_text(write_spec, KEPT.format(items=items, more="", read=read))
    found = [p for p in analysis.problems if "States.DataLimitExceeded" in p.message]
    assert [p.severity.value for p in found] == ([said] if said else [])
    if said:
        assert found[0].path == ("steps", "score", "for_each", "items") and "for_each.results" in found[0].hint
        assert found[0].position.line == 15  # the items' own line
    if said == "error":  # the simulator, whose job results are shaped after AWS's, fails the same way
        definition = compile_analysis_unchecked(write_spec, KEPT.format(items=items, more="", read=read))
        run = engine.run(definition, "x", {}, success_case(definition, {}))
        assert (run.status, run.error) == ("FAILED", "States.DataLimitExceeded")


def compile_analysis_unchecked(write_spec, text: str) -> dict:
    """The definition of a spec whose only error is the kept results' size (built anyway, to run it)."""
    from dataclasses import replace

    from sfn_builder.compiler import compile_analysis
    from sfn_builder.validate import analyze_file

    analysis = analyze_file(write_spec(text))
    problems = tuple(p for p in analysis.problems if "States.DataLimitExceeded" not in p.message)
    return compile_analysis(replace(analysis, problems=problems)).definition


def test_kept_results_written_to_s3_or_read_by_nobody_leave_the_state_alone(write_spec):
    distributed = ", mode: distributed, results: 's3://ml-data/scores/'"
    text = KEPT.format(items=regions(3_000), more=distributed, read="").replace("scores: ", "where: ")
    text = text.replace('"${steps.score}"', "s3://ml-data/scores/")
    assert not [p for p in analyze_text(write_spec, text).problems if "DataLimit" in p.message]


def test_an_input_list_whose_kept_results_pass_256_kib_is_refused_before_it_runs(write_spec):
    text = KEPT.format(items='"${input.shards}"', more="", read=".ProcessingJobName")
    schedule = "schedule:\n  expression: rate(1 day)\n  input: {shards: %s}\n"
    refused = analyze_text(write_spec, text + schedule % regions(1_800))
    (problem,) = [p for p in refused.problems if "DataLimitExceeded" in p.message]
    assert problem.is_error and problem.path == ("schedule", "input") and "for_each.results" in problem.hint
    assert problem.message.startswith("the schedule's input: 1,800 items run by score, whose results later")
    assert analyze_text(write_spec, text + schedule % regions(1_000)).ok


def test_execute_refuses_an_input_list_whose_kept_results_pass_256_kib(cli, write_spec):
    path = write_spec(KEPT.format(items='"${input.shards}"', more="", read=".ProcessingJobName"))
    code, _, err = cli("execute", path, "--local", "--input", json.dumps({"shards": list(range(1_800))}))
    assert code == 1 and "--input: 1,800 items run by score, whose results later steps read" in err
    assert "for_each.results: s3://" in err and "inline Map" not in err


def chain_after_list(steps: int) -> str:
    """A 30-item list whose mode sfn-build chooses, with a catch for an item's own error, then a chain."""
    needs = ["score", *(f"s{n}" for n in range(steps - 1))]
    chained = "".join(f"  s{n}: {{type: lambda, function: f, needs: [{need}]}}\n" for n, need in enumerate(needs))
    return (
        "version: 1\nname: list-and-chain\nsteps:\n  score:\n    type: lambda\n    function: score-region\n"
        f"    for_each: {{items: {regions(30)}}}\n    payload: {{region: \"${{item}}\"}}\n"
        "    catch: [{errors: [Lambda.ServiceException], next: succeed}]\n" + chained
    )


@pytest.mark.parametrize(("steps", "distributed", "parts"), [(10, True, False), (40, False, True)])
def test_a_list_runs_distributed_for_the_history_only_when_that_spares_a_split(
    write_spec, monkeypatch, steps, distributed, parts
):
    """With the history budget lowered to 300 events: beside 10 steps the list's 210 events are what passes
    it, so it runs distributed; beside 40 the workflow is split anyway, and its part runs the list inline."""
    from sfn_builder import history_budget
    from sfn_builder.deploy.resources import ROLE, desired_resources

    monkeypatch.setattr(history_budget, "EVENTS_BUDGET", 300)
    text = chain_after_list(steps)
    assert not [p for p in analyze_text(write_spec, text).problems if "never matches" in p.message]
    compilation = compile_text(write_spec, text)
    assert compilation.ok and bool(compilation.parts) is parts
    state = compilation.whole()["States"]["score"]
    assert ("ItemProcessor" in state) is distributed and ("Iterator" in state) is not distributed
    assert compilation.analysis.workflow.steps["score"].for_each.distributed is distributed
    flagged = [p for p in compilation.problems if "never matches" in p.message]
    assert [p.path for p in flagged] == ([("steps", "score", "catch", 0, "errors", 0)] if distributed else [])
    arns = Arns("aws", "us-east-1", "123456789012")
    resources = desired_resources(compilation.analysis.workflow, compilation.definition, arns, compilation.parts)
    role = next(r for r in resources if r.kind == ROLE)
    actions = {a for s in role.spec["policies"]["sfn-build"]["Statement"] for a in s["Action"]}
    assert ("states:StopExecution" in actions) is (distributed or parts)  # its children, or its parts
    case = success_case(compilation.whole(), {})
    run = engine.run(compilation.definition, "list-and-chain", {}, case, parts=compilation.machines())
    assert run.status == "SUCCEEDED" and run.largest_history <= 300


def test_a_short_list_in_a_workflow_of_thousands_of_steps_runs_inline(write_spec):
    """2,200 steps take more history than one execution holds, so the workflow runs in parts: each part has a
    history of its own, and the list's part runs its 30 items inline as in a small workflow."""
    compilation = compile_text(write_spec, chain_after_list(2_200))
    assert compilation.ok and compilation.parts
    assert "Iterator" in compilation.whole()["States"]["score"]
    assert not compilation.analysis.workflow.steps["score"].for_each.distributed
