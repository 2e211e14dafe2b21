"""Benchmark: how long the compiled workflow of a random DAG takes, over its critical path.

For the bench's random DAGs (bench/specs.py `dag`) at 10, 30, 100 and 300 steps,
each compiled twice (`parallelism: nested`, Parallel states only, as before
completion markers; and `exact`, the default), it draws each job's duration from
0.5 to 3 units and runs a timing model over the compiled definition:

- a job's task takes its duration; every other state takes no time;
- a Parallel state ends when its last branch does; a Choice takes its default
  (no resume, no cache hit);
- a step waiting for completion markers (`<step>.after-needs`) goes on when the
  last of the steps it waits for has signalled (the signalling delay, one DynamoDB
  update and one SendTaskSuccess call, is left out and stated per dependency);
- a definition over 1 MB runs as parts (module `split`): a `workflow.part-N` task
  takes as long as its part's definition does (the start of an execution is left
  out, like the signalling delay).

The ratio is the model's finish time over the critical path (the longest chain
of needs with the same durations): 1.00 means no job waits for one it does not
need. It prints the mean and the worst draw, the steps that wait for markers and
the dependencies signalled through them, and checks each exact definition in the
simulator (every step runs once, the run succeeds; its state transitions counted).

    python bench/parallelism.py [--draws N] [--sizes 10,30] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from specs import edges, spec

from sfn_builder.asl import walk_states
from sfn_builder.markers import WAIT_RESOURCE, keyed_step, signalled_steps
from sfn_builder.naming import PART_STATE_PREFIX

SIZES = (10, 30, 100, 300)


def compile_dag(size: int, parallelism: str) -> Any:
    from sfn_builder.compiler import compile_analysis
    from sfn_builder.loader import load_text
    from sfn_builder.validate import analyze

    text = spec("dag", size).replace("\ninput:", f"\nparallelism: {parallelism}\ninput:", 1)
    compilation = compile_analysis(analyze(load_text(text, f"dag-{size}.yaml")))
    if not compilation.ok:
        raise SystemExit(f"dag {size} ({parallelism}) does not compile: {compilation.problems[:3]}")
    return compilation


class TimingModel:
    """Finish times of a definition's states, given each job's duration."""

    def __init__(self, durations: dict[str, float], parts: dict[int, dict[str, Any]]) -> None:
        self.durations = durations
        self.parts = parts
        self.arrivals: dict[str, list[float]] = {}  # a waiting step -> when each of its needs signalled
        self.waits = 0  # marker waits that held a branch back

    def run(self, block: dict[str, Any], start: float) -> float:
        name, now = block["StartAt"], start
        while name is not None:
            body = block["States"][name]
            kind = body["Type"]
            if name.endswith(".signal"):  # a step's signal to the steps waiting for it (an update or a list)
                for step in signalled_steps(body):
                    self.arrivals.setdefault(step, []).append(now)
            if kind == "Task":
                now = self.task(name, body, now)
            elif kind == "Parallel":
                now = max(self.run(branch, now) for branch in body["Branches"])
            elif kind == "Map":
                now = self.run(body["Iterator"], now)
            elif kind in ("Succeed", "Fail"):
                return now
            name = body.get("Default") if kind == "Choice" else body.get("Next")
        return now

    def task(self, name: str, body: dict[str, Any], now: float) -> float:
        resource = body["Resource"]
        if name.startswith(PART_STATE_PREFIX):
            return self.run(self.parts[int(name.removeprefix(PART_STATE_PREFIX))], now)
        if resource == WAIT_RESOURCE:  # on the waiting step's own marker, until all its needs arrived
            step = keyed_step(body["Parameters"]["Key"])
            needs = int(body["Parameters"]["ExpressionAttributeValues"][":n"]["N"])
            arrived = self.arrivals.get(step, [])
            if len(arrived) < needs:
                raise AssertionError(f"{name} waits for {needs} needs, of which earlier branches signal {len(arrived)}")
            if max(arrived) > now:
                self.waits += 1
            return max(now, *arrived)
        return now + self.durations.get(name, 0.0) if resource.endswith(".sync") else now


def critical_path(size: int, durations: dict[str, float]) -> float:
    finish: dict[int, float] = {}
    for n, needs in edges("dag", size).items():
        finish[n] = max((finish[m] for m in needs), default=0.0) + durations[f"step_{n}"]
    return max(finish.values())


def ratios(compilation: Any, size: int, draws: int, seed: int = 11) -> tuple[float, float]:
    rng = random.Random(seed)
    values = []
    for _ in range(draws):
        durations = {f"step_{n}": rng.uniform(0.5, 3.0) for n in range(size)}
        model = TimingModel(durations, compilation.parts)
        values.append(model.run(compilation.definition, 0.0) / critical_path(size, durations))
    return statistics.mean(values), max(values)


def simulated(compilation: Any, size: int) -> tuple[str, float, int]:
    """The exact definition run in the simulator: its status (every step must run once), seconds and
    state transitions (states entered, parts' included)."""
    from sfn_builder.simulate import engine
    from sfn_builder.simulate.mock_config import success_case

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        case = success_case(compilation.whole(), {})
        run = engine.run(compilation.definition, f"bench-dag-{size}", {}, case, parts=compilation.machines())
    seconds = time.perf_counter() - start
    transitions = sum(1 for event in run.events if "stateEnteredEventDetails" in event)
    ran = [visit.state for visit in run.path if visit.state.startswith("step_")]
    if run.status != "SUCCEEDED" or sorted(ran) != sorted(f"step_{n}" for n in range(size)):
        return f"{run.status}, {len(ran)} of {size} steps", seconds, transitions
    return "SUCCEEDED, every step once", seconds, transitions


def marker_counts(definition: dict[str, Any]) -> tuple[int, int]:
    """(steps that wait for markers, dependencies signalled through them) in a whole definition."""
    waits = signals = 0
    for name, body in walk_states(definition):
        waits += body.get("Resource") == WAIT_RESOURCE
        signals += len(signalled_steps(body)) if name.endswith(".signal") else 0
    return waits, signals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    rows = []
    print(
        f"{'steps':>5}  {'nested: mean (worst)':>21}  {'exact: mean (worst)':>20}  {'waits':>5}  {'signals':>7}  "
        f"{'transitions':>11}  simulate (exact)"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        before = ratios(compile_dag(size, "nested"), size, args.draws)
        exact = compile_dag(size, "exact")
        after = ratios(exact, size, args.draws)
        waits, signals = marker_counts(exact.whole())
        status, seconds, transitions = simulated(exact, size)
        rows.append(
            {
                "steps": size,
                "nested": before,
                "exact": after,
                "waits": waits,
                "signals": signals,
                "transitions": transitions,
                "simulate": [status, seconds],
            }
        )
        print(
            f"{size:>5}  {before[0]:>13.2f} ({before[1]:.2f})  {after[0]:>12.2f} ({after[1]:.2f})  {waits:>5}  "
            f"{signals:>7}  {transitions:>11}  {status} in {seconds:.1f} s"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
