"""Benchmark: how long a user waits for `sfn-build simulate`, each run a new process.

- the churn example (`workflows/churn-training.yaml`), the command a new user runs first;
- 1,000-step chain and random DAG of processing steps (bench/specs.py), split into parts, and a
  1,000-step chain whose every step reads the output of the one before (its state grows a result
  a step), and two such chains of 500 whose b steps also need the a step before (a network: its
  branches drop what they no longer read);
- the Batch fan-out example over 10,000 shards (`--input`), a Map of 10,000 items.

A definition's first simulation makes moto's program of it (module `simulate.program_builder`)
and keeps it in the user's cache; later runs load it. Both are measured: "first" with an
empty cache folder (one run), "again" the median of the runs after it. The floor is a new
Python process that does nothing (measured in the same run): no command can start faster.

    python bench/bench_simulate.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from specs import reading_chain, reading_ladder, spec

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = {
    "churn example": 1.0,
    "chain of 1,000 steps": 5.0,
    "DAG of 1,000 steps": 5.0,
    "reading chain of 1,000": 5.0,
    "reading network of 1,000": 5.0,
    "Map of 10,000": 5.0,
}


def seconds(command: list[str], environment: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def measure(arguments: list[str], repeat: int) -> tuple[float, float]:
    """(first run with an empty program cache, median of `repeat` runs after it)."""
    with tempfile.TemporaryDirectory() as cache:
        environment = {**os.environ, "XDG_CACHE_HOME": cache}
        command = [sys.executable, "-m", "sfn_builder", "simulate", *arguments]
        first = seconds(command, environment)
        return first, statistics.median(seconds(command, environment) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    repeat = 3 if args.quick else 5
    with tempfile.TemporaryDirectory() as folder:
        cases = _cases(Path(folder))
        floor = statistics.median(seconds([sys.executable, "-c", "pass"], dict(os.environ)) for _ in range(repeat))
        print(f"floor: a new Python process {floor * 1000:.0f} ms")
        rows = []
        for name, arguments in cases.items():
            first, again = measure(arguments, repeat)
            goal = GOAL_SECONDS[name]
            rows.append({"case": name, "first_s": first, "again_s": again, "goal_s": goal})
            print(
                f"{name:24} first {first:6.2f} s | again {again:6.2f} s "
                f"(goal {goal:.1f} s: {'met' if again <= goal else f'x{again / goal:.1f} over'})",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"floor_s": floor, "rows": rows}, indent=2) + "\n")


def _cases(folder: Path) -> dict[str, list[str]]:
    for shape in ("chain", "dag"):
        (folder / f"{shape}.yaml").write_text(spec(shape, 1000))
    (folder / "reading.yaml").write_text(reading_chain(1000))
    (folder / "ladder.yaml").write_text(reading_ladder(1000))
    (folder / "shards.json").write_text(json.dumps({"shards": [f"{n:05}" for n in range(10_000)]}))
    return {
        "churn example": [str(ROOT / "workflows" / "churn-training.yaml")],
        "chain of 1,000 steps": [str(folder / "chain.yaml")],
        "DAG of 1,000 steps": [str(folder / "dag.yaml")],
        "reading chain of 1,000": [str(folder / "reading.yaml")],
        "reading network of 1,000": [str(folder / "ladder.yaml")],
        "Map of 10,000": [str(ROOT / "workflows" / "batch-fanout.yaml"), "--input", f"@{folder / 'shards.json'}"],
    }


if __name__ == "__main__":
    main()
