"""Random workflows of every task type, fan-outs, catches and choices on any dependency graph.

Each is compiled and simulated: it succeeds running every step once without an alert, and a failing
step fails the run with one alert naming it before anything that needs it starts; a step whose catch
goes on (`then: continue`) lets what needs it run, without an alert.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sfn_builder.compiler import compile_analysis
from sfn_builder.loader import load_text
from sfn_builder.simulate import engine
from sfn_builder.simulate.mock_config import failure, step_task_states, success_case
from sfn_builder.validate import analyze

HEAD = """\
version: 1
name: mixed
input:
  day: {type: string, default: latest}
defaults:
  sagemaker:
    role: arn:aws:iam::111122223333:role/x
    image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1
    instance_type: ml.m5.xlarge
notifications:
  topic: {name: mixed-alerts}
steps:
"""
KINDS = ("processing", "training", "batch", "lambda", "inline", "distributed", "s3-items")
# What a lambda step reads of a step it needs, by the needed step's kind.
READ = {
    "processing": "ProcessingJobName",
    "training": "ModelArtifacts.S3ModelArtifacts",
    "batch": "JobId",
    "inline": "ProcessingJobStatus",
    "distributed": "ProcessingJobStatus",
}


def _step(n: int, kind: str) -> list[str]:
    if kind == "training":
        return ["type: training", f"inputs: {{train: 's3://bkt-x/in/{n}/'}}", f"output: s3://bkt-x/models/{n}/"]
    if kind == "batch":
        return ["type: batch", "job_queue: q", "job_definition: d:1"]
    if kind == "lambda":
        return ["type: lambda", "function: f"]
    lines = ["type: processing", "entrypoint: [python3, run.py]", f"arguments: {{day: '${{input.day}}', n: '{n}'}}"]
    if kind == "inline" or kind == "distributed":
        lines.append(f"for_each: {{items: [a, b, c], max_concurrency: 2, mode: {kind}}}")
    elif kind == "s3-items":
        lines.append(f"for_each: {{items: 's3://bkt-x/lists/{n}.json'}}")
    return lines


@st.composite
def workflows(draw):
    """(spec text, each step's needs, the steps caught with `then: continue` or `fail`)."""
    size = draw(st.integers(3, 10))
    kinds, needs, bodies, read = [], {}, {}, set()
    for n in range(size):
        kind = draw(st.sampled_from(KINDS))
        earlier = [f"s{m}" for m in range(n)]
        chosen = sorted(draw(st.sets(st.sampled_from(earlier), max_size=3)) if earlier else set(), key=lambda s: s)
        kinds.append(kind)
        needs[f"s{n}"] = chosen
        lines = _step(n, kind)
        if kind == "lambda":
            reads = {need: f"${{steps.{need}.{READ[kinds[int(need[1:])]]}}}" for need in chosen
                     if kinds[int(need[1:])] in READ}  # fmt: skip
            read.update(reads)
            lines.append(f"payload: {json.dumps(reads)}")
        if chosen:
            lines.append(f"needs: [{', '.join(chosen)}]")
        bodies[f"s{n}"] = lines
    caught: dict[str, str] = {}
    for name, lines in list(bodies.items()):
        if name not in read and draw(st.integers(0, 4)) == 0:
            caught[name] = draw(st.sampled_from(["continue", "fail"]))
            lines.append(f"catch: [{{errors: [States.ALL], next: h{name}, then: {caught[name]}}}]")
            bodies[f"h{name}"] = ["type: lambda", "function: handler", "payload: {failed: '${error.step}'}"]
    gates = [f"s{n}" for n, kind in enumerate(kinds) if kind == "lambda" and f"s{n}" not in caught]
    for gated in draw(st.sets(st.sampled_from(gates), max_size=2)) if gates else ():
        gate, target = f"g{gated}", f"t{gated}"
        bodies[gate] = [
            "type: choice",
            f"needs: [{gated}]",
            f"choices: [{{when: steps.{gated}.go, equals: true, next: {target}}}]",
            "default: succeed",
        ]
        bodies[target] = _step(0, "processing")
        needs[gate], needs[target] = [gated], [gate]
    text = HEAD + "".join(f"  {name}:\n" + "".join(f"    {line}\n" for line in lines) for name, lines in bodies.items())
    return text, needs, caught


def _after(needs: dict[str, list[str]], step: str) -> set[str]:
    """Every step that needs `step`, directly or not."""
    found: set[str] = set()
    while True:
        more = {name for name, own in needs.items() if name not in found and (step in own or found & set(own))}
        if not more:
            return found
        found |= more


@settings(max_examples=25)
@given(workflows(), st.randoms(use_true_random=False))
def test_any_graph_of_mixed_steps_succeeds_and_fails_as_its_needs_say(drawn, rng):
    text, needs, caught = drawn
    analysis = analyze(load_text(text, "mixed.yaml"))
    assert analysis.ok, [p.render() for p in analysis.problems]
    compilation = compile_analysis(analysis)
    assert compilation.ok, [p.render() for p in compilation.problems]
    whole, machines = compilation.whole(), compilation.machines()
    case = success_case(whole, {"day": "latest"})

    def run(outcomes: dict) -> engine.Run:
        return engine.run(compilation.definition, "mixed", {}, outcomes, parts=machines)

    succeeded = run(case)
    assert (succeeded.status, succeeded.alerts) == ("SUCCEEDED", []), (succeeded.error, succeeded.cause)
    ran = {visit.state.split(".")[0] for visit in succeeded.path}
    assert set(needs) <= ran | {name for name in needs if name.startswith("g")}

    state = rng.choice([s for s in step_task_states(whole) if s.startswith(("s", "t"))])
    step = state.split(".")[0]
    failed = run({**case, state: failure(whole, state)})
    done = {visit.state.split(".")[0] for visit in failed.path if visit.outcome == "succeeded"}
    if caught.get(step) == "continue":
        assert (failed.status, failed.alerts) == ("SUCCEEDED", []), (failed.error, failed.cause)
        assert f"h{step}" in done and _after(needs, step) <= done | {n for n in needs if n.startswith("g")}
    else:
        assert (failed.status, failed.error) == ("FAILED", f"{step}.Failed"), failed.cause
        assert len(failed.alerts) == 1 and not _after(needs, step) & done
        assert (f"h{step}" in done) == (step in caught)
