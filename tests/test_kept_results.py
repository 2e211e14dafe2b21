"""Kept results against the state's 256 KiB: selected small, dropped once dead, and checked.

A step's result that a later step reads stays in the state; past 256 KiB the run ends with
States.DataLimitExceeded, which no catch handles, after hours of jobs. A long chain whose every step
reads the one before's output must run; a workflow whose results cannot fit is told so by validate.
"""

from __future__ import annotations

import json

import pytest

from sfn_builder.compiler import compile_analysis
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import success_case
from sfn_builder.validate import analyze_file

HEAD = """\
version: 1
name: kept
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/kept
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/kept:1
    instance_type: ml.m5.xlarge
steps:
"""
OUTPUT = "    outputs: [{{source: /opt/ml/processing/output, destination: 's3://kept-data/out/{n}/'}}]\n"


def reading_chain(size: int) -> str:
    """Each step's input is the output of the step before."""
    text = HEAD
    for n in range(size):
        text += f"  s{n}:\n    type: processing\n    entrypoint: [python3, run.py]\n" + OUTPUT.format(n=n)
        if n:
            text += (
                f"    needs: [s{n - 1}]\n    inputs: [{{source: "
                f"'${{steps.s{n - 1}.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri}}', "
                "destination: /opt/ml/processing/input}]\n"
            )
    return text


def compiled(write_spec, text: str):
    compilation = compile_analysis(analyze_file(write_spec(text)))
    assert compilation.ok, [p.render() for p in compilation.problems]
    return compilation


def states_of(compilation) -> dict:
    return compilation.whole()["States"]


def test_a_member_the_request_sets_is_selected_not_the_whole_result(write_spec):
    """DescribeProcessingJob may leave ProcessingOutputConfig out, but repeats it when the request sets it:
    the result kept is the summary and the outputs read, not the whole response (1 KB and more)."""
    states = states_of(compiled(write_spec, reading_chain(2)))
    assert states["s0"]["ResultSelector"] == {
        "ProcessingJobName.$": "$.ProcessingJobName",
        "ProcessingJobArn.$": "$.ProcessingJobArn",
        "ProcessingJobStatus.$": "$.ProcessingJobStatus",
        "ProcessingOutputConfig": {"Outputs.$": "$.ProcessingOutputConfig.Outputs"},
    }


def test_a_result_read_whole_or_of_a_member_the_request_leaves_out_is_kept_whole(write_spec):
    text = reading_chain(1) + (
        "  use:\n    type: lambda\n    function: f\n    needs: [s0]\n"
        "    payload: {env: '${steps.s0.Environment}', all: '${steps.s0}'}\n"
    )
    assert "ResultSelector" not in states_of(compiled(write_spec, text))["s0"]


def test_a_long_chain_drops_the_results_no_later_step_reads_and_runs(write_spec):
    """300 kept results would take about 120 KB; dropped once dead, the state holds a few at a time."""
    compilation = compiled(write_spec, reading_chain(300))
    drops = {name: state for name, state in states_of(compilation).items() if name.startswith("steps.drop-")}
    assert drops
    for state in drops.values():  # keeps only what a later step reads: the result just made
        assert state["ResultPath"] == "$.steps" and len(state["Parameters"]) == 1
    run = engine.run(
        compilation.definition, "kept", {}, success_case(compilation.whole(), {}), parts=compilation.machines()
    )
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    kept = list(run.output["steps"])
    assert "s298" in kept and len(kept) < 100  # the results kept after the last drop (s299: none reads it)
    assert len(json.dumps(run.output)) < 64 * 1024


def test_a_small_workflow_keeps_every_result_to_the_end(write_spec):
    compilation = compiled(write_spec, reading_chain(20))
    assert not any(name.startswith("steps.drop-") for name in states_of(compilation))


@pytest.mark.parametrize(("steps", "said"), [(40, None), (80, "warning"), (140, "error")])
def test_results_held_at_once_past_the_state_are_refused_at_the_largest(write_spec, steps, said):
    """Independent steps whose whole results one step reads: all are held until it runs (each at least
    the request its job's result repeats, 2 KB of environment here)."""
    environment = "    env: {BIG: '" + "x" * 2000 + "'}\n"
    text = HEAD + "".join(
        f"  p{n}:\n    type: processing\n    entrypoint: [python3, run.py]\n" + environment for n in range(steps)
    )
    reads = ", ".join(f"p{n}: '${{steps.p{n}}}'" for n in range(steps))
    needs = ", ".join(f"p{n}" for n in range(steps))
    text += f"  collect:\n    type: lambda\n    function: f\n    needs: [{needs}]\n    payload: {{{reads}}}\n"
    analysis = analyze_file(write_spec(text))
    found = [p for p in analysis.problems if "in the state at once" in p.message]
    assert [p.severity.value for p in found] == ([said] if said else [])
    if said:
        assert found[0].path[:1] == ("steps",) and "its whole result" in found[0].message
        assert found[0].position.line > 8


def test_a_parallel_state_on_the_top_level_gathers_only_the_results_read_after_it(write_spec):
    """Diamonds: j -> (a, b) -> next j, each a reading j and the next j reading a whole and b's name. Each
    Parallel state gathers a's and b's results, not j's (read inside it only): the state stays small."""
    text = HEAD + "  j0: {type: lambda, function: f}\n"
    for n in range(50):
        text += (
            f"  a{n}:\n    type: processing\n    entrypoint: [python3, a.py]\n    needs: [j{n}]\n"
            f"    env: {{BULK: '{'x' * 200}'}}\n    arguments: {{previous: '${{steps.j{n}.value}}'}}\n"
            f"  b{n}:\n    type: processing\n    entrypoint: [python3, b.py]\n    needs: [j{n}]\n"
            f"  j{n + 1}:\n    type: lambda\n    function: f\n    needs: [a{n}, b{n}]\n"
            f"    payload: {{a: '${{steps.a{n}}}', b: '${{steps.b{n}.ProcessingJobName}}'}}\n"
        )
    compilation = compiled(write_spec, text)
    parallels = [state for name, state in states_of(compilation).items() if name.startswith("parallel.")]
    assert len(parallels) == 50
    for state in parallels:  # a<n> and b<n>, which j<n+1> reads after it
        gathered = sorted(key.removesuffix(".$") for key in state["ResultSelector"]["steps"])
        assert len(gathered) == 2 and gathered[0] == "a" + gathered[1][1:] and gathered[1].startswith("b")
    run = engine.run(compilation.definition, "kept", {}, success_case(compilation.whole(), {}))
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert sorted(run.output["steps"]) == ["a49", "b49"]  # j50 is read by no step


def two_chains(size: int, *, crossed: bool) -> str:
    """Two chains whose every step reads the one before's environment (2 KB: its result keeps it); with
    `crossed`, each b step also needs the a step before it (not series-parallel: a network)."""
    text = HEAD
    for n in range(size):
        for chain in "ab":
            env = ", ".join(f"B{k}: '{'x' * 250}'" for k in range(8))
            text += f"  {chain}{n}:\n    type: processing\n    entrypoint: [python3, run.py]\n"
            if n:
                needs = [f"{chain}{n - 1}", *([f"a{n - 1}"] if crossed and chain == "b" else [])]
                text += f"    needs: [{', '.join(needs)}]\n"
                env += "".join(f", P{k}: '${{steps.{chain}{n - 1}.Environment.B{k}}}'" for k in range(8))
            text += f"    env: {{{env}}}\n"
    return text


def all_states(definition: dict) -> list[str]:
    """The names of a definition's states, those inside Parallel branches too."""
    found = list(definition["States"])
    for state in definition["States"].values():
        for branch in state.get("Branches", []):
            found += all_states(branch)
    return found


@pytest.mark.parametrize("crossed", [False, True], ids=["parallel", "network"])
def test_long_branches_drop_the_results_they_no_longer_read_and_run(write_spec, crossed):
    """Each chain keeps 150 results of 2 KB and more: past 256 KiB in one branch, which is all the workflow
    is. Its branch drops the dead ones as it goes (in the parts it is split into too), and the run succeeds."""
    compilation = compiled(write_spec, two_chains(150, crossed=crossed))
    assert not [p for p in compilation.problems if "in the state at once" in p.message]
    definitions = [compilation.definition, *compilation.parts.values()]
    assert len([name for d in definitions for name in all_states(d) if name.startswith("steps.drop-")]) >= 10
    run = engine.run(
        compilation.definition, "kept", {}, success_case(compilation.whole(), {}), parts=compilation.machines()
    )
    assert run.status == "SUCCEEDED", (run.error, run.cause)


def test_results_a_branch_holds_at_once_past_the_state_are_refused(write_spec):
    """A chain in one branch of a Parallel state whose last step reads every result before it whole (2 KB
    of environment each): they are all held inside the branch, past 256 KiB."""
    environment = "    env: {BIG: '" + "x" * 250 + "', " + ", ".join(f"E{k}: '{'e' * 250}'" for k in range(7)) + "}\n"
    text = HEAD + "  other: {type: lambda, function: f}\n"
    for n in range(140):
        needs = f"    needs: [p{n - 1}]\n" if n else ""
        text += f"  p{n}:\n    type: processing\n    entrypoint: [python3, run.py]\n" + needs + environment
    reads = ", ".join(f"p{n}: '${{steps.p{n}}}'" for n in range(140))
    text += f"  collect:\n    type: lambda\n    function: f\n    needs: [p139]\n    payload: {{{reads}}}\n"
    text += "  last: {type: lambda, function: f, needs: [collect, other]}\n"
    analysis = analyze_file(write_spec(text))
    found = [p for p in analysis.problems if "in the state at once" in p.message]
    assert [p.severity.value for p in found] == ["error"]
    assert found[0].path[0] == "steps" and found[0].path[1].startswith("p")


def test_the_branches_of_a_parallel_state_drop_together_what_it_does_not_gather(write_spec):
    """A Parallel state's result is the list of its branches' states: twenty branches each holding a 2 KB
    result they do not read would make it 40 KB. The branches but the first (which the state document is
    gathered from) drop it at their end, together."""
    environment = "    env: {" + ", ".join(f"E{k}: '{'e' * 250}'" for k in range(8)) + "}\n"
    text = HEAD + "  big:\n    type: processing\n    entrypoint: [python3, run.py]\n" + environment
    for n in range(20):
        text += f"  w{n}:\n    type: lambda\n    function: f\n    needs: [big]\n"
    needs = ", ".join(f"w{n}" for n in range(20))
    text += f"  last:\n    type: lambda\n    function: f\n    needs: [{needs}]\n"
    text += "    payload: {big: '${steps.big}'}\n"
    compilation = compiled(write_spec, text)
    [parallel] = [state for name, state in states_of(compilation).items() if name.startswith("parallel.")]
    ends = []
    for branch in parallel["Branches"]:
        drops = [state for name, state in branch["States"].items() if name.startswith("steps.drop-")]
        ends.append(sorted(key.removesuffix(".$") for drop in drops for key in drop["Parameters"]) if drops else None)
    assert ends[0] is None and ends[1:] == [[] for _ in range(19)]
    run = engine.run(compilation.definition, "kept", {}, success_case(compilation.whole(), {}))
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert list(run.output["steps"]) == ["big"]
