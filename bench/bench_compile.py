"""Benchmark: validate + compile of 10, 100 and 1,000 processing steps.

For each graph shape (chain, wide fan-out, random DAG) and size it measures, in
one run and on the same machine:

- sfn-build: spec text -> load -> validate -> plan -> build -> ASL JSON, in-process
  (compact JSON, as Step Functions receives it and as `definition()` returns it);
- SageMaker Pipelines (the baseline): the same graph as ProcessingSteps with
  depends_on, from constructing the steps to `Pipeline.definition()`;
- naive use of the Step Functions Data Science SDK: `ProcessingStep`s chained
  with `Chain` (fan-outs in a `Parallel`), serialised with `Graph` (at most 100
  steps: about 0.17 s a step, and 1,000 chained steps exceed Python's recursion limit);

the definition's bytes per step of each shape (compact, 10 and 100 steps, without and with
`notifications`: the difference over 90 steps, so what every workflow has once is left out);
and the cold starts of `sfn-build validate`, `compile`, `graph` and `plan --local`
(against the embedded emulator, started for it when it is not running) on a 10-step
spec (a new process each).
Each figure is the median of several runs; ratios are baseline / sfn-build (above
1: sfn-build is faster). "parsed spec" starts from the loaded YAML, as Pipelines
starts from Python objects.

    python bench/bench_compile.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
# The SageMaker SDK's objects want a region and credentials even to build a
# definition offline; nothing here calls AWS.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

from specs import SHAPES, edges, spec

ROLE = "arn:aws:iam::111122223333:role/bench-sagemaker"
IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/bench:1"


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def unfrozen(run: Callable[[], object]) -> Callable[[], object]:
    """A baseline's run as in a process of its own: sfn-build freezes what its calls leave alive (module
    `collector`), which would spare the baseline's collector scanning those objects (the SDKs' modules)."""

    def measured() -> object:
        gc.unfreeze()
        return run()

    return measured


def sfn_build(shape: str, size: int, *, parsed: bool = False) -> Callable[[], object]:
    """From spec text (or, with `parsed`, from the loaded spec) to compact ASL JSON."""
    from sfn_builder.compiler import compile_analysis
    from sfn_builder.loader import load_text
    from sfn_builder.validate import analyze

    text = spec(shape, size)
    document = load_text(text, "bench.yaml")

    def run() -> object:
        compilation = compile_analysis(analyze(document if parsed else load_text(text, "bench.yaml")))
        return compilation.compact_json() if compilation.ok else compilation.problems

    return run


def bytes_per_step(shape: str, *, alerts: bool) -> float:
    """A processing step's share of a compact definition (the 100-step graph's bytes over the 10-step
    one's, per step, parts included), without or with `notifications`."""
    from sfn_builder.compiler import compile_analysis
    from sfn_builder.loader import load_text
    from sfn_builder.validate import analyze

    notifications = "notifications: {topic: {name: bench-alerts}}\n" if alerts else ""

    def size(steps: int) -> int:
        compilation = compile_analysis(analyze(load_text(notifications + spec(shape, steps), "bench.yaml")))
        parts = [json.dumps(part, separators=(",", ":")) for part in compilation.parts.values()]
        return len(compilation.compact_json().encode()) + sum(len(part.encode()) for part in parts)

    return (size(100) - size(10)) / 90


def _quiet_sagemaker() -> None:
    warnings.simplefilter("ignore")
    for name in ("sagemaker", "sagemaker.config", "sagemaker.workflow.utilities", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.ERROR)


def pipelines(shape: str, size: int) -> Callable[[], object]:
    _quiet_sagemaker()
    import boto3
    from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.steps import ProcessingStep

    boto = boto3.Session(region_name="eu-west-1", aws_access_key_id="bench", aws_secret_access_key="bench")
    session = PipelineSession(boto_session=boto, default_bucket="bench-data")
    needs = edges(shape, size)

    def run() -> object:
        processor = Processor(
            role=ROLE,
            image_uri=IMAGE,
            instance_count=1,
            instance_type="ml.m5.xlarge",
            entrypoint=["python3", "run.py"],
            sagemaker_session=session,
        )
        steps = []
        for n in range(size):
            args = processor.run(
                inputs=[ProcessingInput(source=f"s3://bench-data/in/{n}/", destination="/opt/ml/processing/input")],
                outputs=[ProcessingOutput(source="/opt/ml/processing/output", destination=f"s3://bench-data/out/{n}/")],
                arguments=["--step", str(n), "--day", "latest"],
            )
            steps.append(
                ProcessingStep(name=f"step_{n}", step_args=args, depends_on=[steps[m] for m in needs[n]] or None)
            )
        return Pipeline(name=f"bench-{shape}-{size}", steps=steps, sagemaker_session=session).definition()

    return run


def naive_sdk(shape: str, size: int) -> Callable[[], object]:
    _quiet_sagemaker()
    from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
    from stepfunctions.steps import Chain, Graph, Parallel, ProcessingStep

    def run() -> object:
        processor = Processor(role=ROLE, image_uri=IMAGE, instance_count=1, instance_type="ml.m5.xlarge")
        states = [
            ProcessingStep(
                f"step_{n}",
                processor=processor,
                job_name=f"bench-{n}",
                inputs=[ProcessingInput(source=f"s3://bench-data/in/{n}/", destination="/opt/ml/processing/input")],
                outputs=[ProcessingOutput(source="/opt/ml/processing/output", destination=f"s3://bench-data/out/{n}/")],
                container_entrypoint=["python3", "run.py"],
                container_arguments=["--step", str(n)],
            )
            for n in range(size)
        ]
        if shape == "fanout" and size > 2:
            parallel = Parallel("fan-out")
            for state in states[1:-1]:
                parallel.add_branch(state)
            chain = Chain([states[0], parallel, states[-1]])
        else:
            chain = Chain(states)  # the random DAG in topological order, as one would by hand
        return Graph(chain).to_json()

    return run


COLD_COMMANDS = {  # the command after the spec's path
    "validate": [],
    "compile": [],
    "graph": ["-o", "{folder}/ten.mmd"],
    "plan": ["--local"],  # against the embedded emulator, started for it when it is not running
}


def cold_start(repeat: int, command_name: str = "validate") -> float:
    """Median seconds of `sfn-build <command_name>` on a 10-step spec, each in a new process."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ten.yaml"
        path.write_text(spec("dag", 10))
        extra = [argument.format(folder=folder) for argument in COLD_COMMANDS[command_name]]
        command = [sys.executable, "-m", "sfn_builder", command_name, str(path), *extra]
        subprocess.run(command, check=True, capture_output=True)  # warm the OS file cache and the enum cache
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def _emulator(action: str) -> str:
    done = subprocess.run([sys.executable, "-m", "sfn_builder", "local", action], capture_output=True, text=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, and no naive SDK at 100 steps")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    repeats = {10: 3 if args.quick else 7, 100: 3 if args.quick else 5, 1000: 3}
    rows = []
    for shape in SHAPES:
        for size in (10, 100, 1000):
            ours_run = sfn_build(shape, size)
            outcome = ours_run()
            row = {
                "shape": shape,
                "steps": size,
                "sfn_build_s": median_seconds(ours_run, repeats[size]),
                "sfn_build_parsed_s": median_seconds(sfn_build(shape, size, parsed=True), repeats[size]),
                "compiles": isinstance(outcome, str),
                "note": "" if isinstance(outcome, str) else outcome[-1].message.split(";")[0],
                "pipelines_s": median_seconds(unfrozen(pipelines(shape, size)), repeats[size]),
            }
            naive_limit = 10 if args.quick else 100
            row["naive_sdk_s"] = (
                median_seconds(unfrozen(naive_sdk(shape, size)), 1 if size > 10 else 3) if size <= naive_limit else None
            )
            rows.append(row)
            print(_format(row), flush=True)
    print()
    sizes = {shape: [bytes_per_step(shape, alerts=False), bytes_per_step(shape, alerts=True)] for shape in SHAPES}
    print(
        "definition bytes per processing step, without / with notifications (compact): "
        + ", ".join(f"{shape} {plain:.0f} / {alerted:.0f}" for shape, (plain, alerted) in sizes.items()),
        flush=True,
    )
    print()
    started = "not running" in _emulator("status")
    if started:
        _emulator("start")
    cold = {}
    try:
        for command_name in COLD_COMMANDS:
            cold[command_name] = cold_start(3 if args.quick else 7, command_name)
            print(
                f"cold start: `sfn-build {command_name}` of a 10-step spec: {cold[command_name] * 1000:.0f} ms "
                "(median, new process)",
                flush=True,
            )
    finally:
        if started:
            _emulator("stop")
    if args.json:
        figures = {"rows": rows, "bytes_per_step": sizes}
        figures.update({f"cold_start_{name}_s": seconds for name, seconds in cold.items()})
        Path(args.json).write_text(json.dumps(figures, indent=2))


def _format(row: dict) -> str:
    ours, parsed, base, naive = row["sfn_build_s"], row["sfn_build_parsed_s"], row["pipelines_s"], row["naive_sdk_s"]
    naive_text = f"naive SDK {naive * 1000:9.1f} ms (x{naive / ours:6.1f})" if naive else "naive SDK   not run"
    note = f"  [{row['note']}]" if row["note"] else ""
    return (
        f"{row['shape']:7} {row['steps']:5} steps: sfn-build {ours * 1000:7.1f} ms "
        f"(parsed spec {parsed * 1000:7.1f}) | Pipelines {base * 1000:7.1f} ms (x{base / ours:5.2f}, "
        f"parsed x{base / parsed:5.2f}) | {naive_text}{note}"
    )


if __name__ == "__main__":
    main()
