"""State transitions per execution of every example: normal, resumed from its last job, and cached.

Step Functions bills Standard workflows per state transition. Each task step has a
resume gate (one Choice) in front of it; a step reused by `sfn-build resume` costs
its gate and a Pass instead of its own states. For every example this simulates a
normal run (every job succeeds) and a resumed one that reuses every task step but
the last, and counts the states entered. "Without gates" is the normal run minus
the gates passed, what the same run cost before resume existed. With `cache: true`
in defaults, a cached step costs two more states when it misses (the lookup and
its Choice) and three instead of its job's when it hits: the first run misses,
the second (same input) hits.

    python bench/transitions.py
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sfn_builder.compiler import compile_analysis  # noqa: E402
from sfn_builder.model import TASK_TYPES  # noqa: E402
from sfn_builder.naming import RESUME_INPUT, result_keys  # noqa: E402
from sfn_builder.resume import succeeded_results  # noqa: E402
from sfn_builder.simulate import engine  # noqa: E402
from sfn_builder.simulate.cache_store import CacheStore  # noqa: E402
from sfn_builder.simulate.mock_config import success_case  # noqa: E402
from sfn_builder.validate import analyze_file  # noqa: E402


def entered(events: list[dict]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def main() -> None:
    print(
        "| example | task steps | normal run | without gates | resumed from the last job "
        "| cached: first run | cached: second run |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in sorted((ROOT / "workflows").glob("*.yaml")):
        compilation = compile_analysis(analyze_file(str(path)))
        workflow, definition = compilation.analysis.workflow, compilation.definition
        with contextlib.redirect_stdout(io.StringIO()):
            normal = engine.run(definition, workflow.name, {}, success_case(definition, {}))
        states = entered(normal.events)
        gates = sum(1 for name in states if name.endswith(".resume"))
        tasks = [name for name in workflow.steps if workflow.steps[name].type in TASK_TYPES]
        keys = result_keys(list(workflow.steps))
        finals = {name: name for name in tasks} | {f"{name}.report": name for name in tasks}
        recorded = succeeded_results(normal.events, finals, keys)
        reuse = {keys[name]: recorded.get(name) for name in tasks[:-1] if name in recorded}
        given = {RESUME_INPUT: json.loads(json.dumps(reuse, default=str))}
        with contextlib.redirect_stdout(io.StringIO()):
            resumed = engine.run(definition, workflow.name, given, success_case(definition, given))
        first, second = cached_runs(path)
        print(
            f"| {path.stem} | {len(tasks)} | {len(states)} | {len(states) - gates} | {len(entered(resumed.events))} "
            f"| {first} | {second} |"
        )


def cached_runs(path: Path) -> tuple[str, str]:
    """States entered (and jobs started) by two runs of the example with `cache: true` in its defaults."""
    import tempfile

    text = path.read_text()
    text = text.replace("\ndefaults:\n", "\ndefaults:\n  cache: true\n", 1) if "\ndefaults:\n" in text else (
        text.replace("\nsteps:\n", "\ndefaults:\n  cache: true\nsteps:\n", 1)
    )
    # beside the example: the files it includes and its code: directories are relative to it
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=path.parent, delete=False) as handle:
        handle.write(text)
    try:
        compilation = compile_analysis(analyze_file(handle.name))
    finally:
        Path(handle.name).unlink()
    workflow, definition = compilation.analysis.workflow, compilation.definition
    store, counts = CacheStore(), []
    for _ in range(2):
        with contextlib.redirect_stdout(io.StringIO()):
            run = engine.run(definition, workflow.name, {}, success_case(definition, {}), cache=store)
        jobs = sum(
            1
            for e in run.events
            if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] in ("sagemaker", "batch")
        )
        counts.append(f"{len(entered(run.events))} ({jobs} jobs)")
    return counts[0], counts[1]


if __name__ == "__main__":
    main()
