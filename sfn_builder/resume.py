"""Resume: which steps of an earlier execution can be reused, and the input that reuses them.

Every task step of a Standard workflow is compiled behind a gate (`<step>.resume`, a
Choice): when the execution input carries the step's recorded result under
`sfn_build_resume`, a Pass (`<step>.resumed`) puts it where the step's result goes
and the job is not started. `plan_resume` decides, from the earlier execution's
history and definition, which steps are reused:

- a step is reused when it succeeded in the earlier execution (or was reused by it),
  its states compile the same now (request, result selection, report), it reads no
  input whose value differs, no step it comes after runs again, and it was not
  named with `--from`;
- every other step runs: it failed or never ran, its request changed, it reads a
  changed input, it was named, or it comes after one of those.

The input records the results of reused steps that a step that runs reads, and no others (it stays in
the state for the whole execution, which holds 256 KiB); a reused step whose result is read but was
not recorded (the earlier execution reused it and nothing then read it) runs again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .graph import StepGraph
from .history import state_of
from .model import TASK_TYPES, Workflow
from .naming import RESUME_INPUT, aux_state, result_keys
from .results import result_specs, results_read

RESUMED_FROM_INPUT = "sfn_build_resumed_from"
# Fields of a step's states that decide its request and its result (not where the flow goes next).
_FLOW_FIELDS = frozenset({"Next", "End", "Catch", "Retry", "Comment"})
_REPORT_ROLES = ("report-size", "report-check", "report")


@dataclass(frozen=True)
class Decision:
    step: str
    reused: bool
    reason: str  # why it runs, or where its result comes from


@dataclass
class ResumePlan:
    decisions: list[Decision]
    recorded: dict[str, Any] = field(default_factory=dict)  # result key -> recorded result

    @property
    def reused(self) -> list[str]:
        return [d.step for d in self.decisions if d.reused]

    @property
    def runs(self) -> list[str]:
        return [d.step for d in self.decisions if not d.reused]

    def execution_input(self, given: dict[str, Any], earlier: str) -> dict[str, Any]:
        """The new execution's input: the given one, the recorded results, and the lineage."""
        plain = {k: v for k, v in given.items() if k not in (RESUME_INPUT, RESUMED_FROM_INPUT)}
        return {**plain, RESUME_INPUT: self.recorded, RESUMED_FROM_INPUT: earlier}


def unknown_from_step(workflow: Workflow, names: list[str]) -> str | None:
    """What is wrong with `--from` names (None when every one is a step)."""
    from .problems import did_you_mean

    for name in names:
        if name not in workflow.steps:
            near = did_you_mean(name, list(workflow.steps))
            return f"--from {name}: no such step" + (f" ({near})" if near else "")
    return None


def plan_resume(
    workflow: Workflow,
    definitions: tuple[dict[str, Any], dict[str, Any]],
    events: list[dict[str, Any]],
    inputs: tuple[dict[str, Any], dict[str, Any]],
    from_steps: list[str],
) -> ResumePlan:
    """Which task steps to reuse. `definitions` and `inputs` (over the declared defaults) are (earlier, now)."""
    graph, keys, kept = StepGraph(workflow), result_keys(list(workflow.steps)), set(result_specs(workflow))
    defaults = {f.name: f.default for f in workflow.inputs if f.has_default}
    inputs = ({**defaults, **inputs[0]}, {**defaults, **inputs[1]})
    earlier_definition, definition = definitions
    earlier_states, states = _states(earlier_definition), _states(definition)
    finals = {}
    for name, step in workflow.steps.items():
        report, unwrapped = aux_state(name, "report"), aux_state(name, "result")  # unwrapped: a poll loop's result
        last = next((s for s in (report, unwrapped) if step.for_each is None and s in earlier_states), name)
        finals[last] = name
        finals[aux_state(name, "resumed")] = name
        if aux_state(name, "cached") in earlier_states and report not in earlier_states:
            finals[aux_state(name, "cached")] = name
    succeeded = succeeded_results(events, finals, keys)
    changed_inputs = {
        name for name in {*inputs[0], *inputs[1]} - {RESUME_INPUT, RESUMED_FROM_INPUT}
        if inputs[0].get(name) != inputs[1].get(name)
    }
    unrecorded: set[str] = set()
    while True:  # until every kept result a step that runs reads was recorded, or its step runs too
        reasons: dict[str, str] = {}
        for name in graph.topological():
            step = workflow.steps[name]
            if step.type not in TASK_TYPES:
                continue
            mine = _step_states(states, name)
            before = [r for r in reasons if graph.ancestors(name) >> graph.index[r] & 1]
            if name in from_steps:
                reasons[name] = "named with --from"
            elif before:
                reasons[name] = f"it comes after {before[-1]}, which runs again"
            elif name not in succeeded:
                reasons[name] = "it did not succeed in the earlier execution"
            elif mine != _step_states(earlier_states, name):
                reasons[name] = "its request or result changed since the earlier execution"
            elif read := sorted(n for n in changed_inputs if _reads_input(mine, n)):
                reasons[name] = "it reads the changed input " + ", ".join(read)
            elif name in unrecorded:
                reasons[name] = "a step that runs reads its result, which the earlier execution did not record"
        needed = _results_read(workflow, reasons)
        missing = {name for name in needed & kept if name not in reasons and succeeded.get(name) is None}
        if not missing:
            break
        unrecorded |= missing
    decisions, recorded = [], {}
    for name in graph.topological():
        if workflow.steps[name].type not in TASK_TYPES:
            continue
        if name in reasons:
            decisions.append(Decision(name, False, reasons[name]))
        else:
            decisions.append(Decision(name, True, "reused"))
            recorded[keys[name]] = succeeded[name] if name in kept and name in needed else None
    return ResumePlan(decisions, recorded)


def _results_read(workflow: Workflow, runs_again: dict[str, str]) -> set[str]:
    """The steps whose results the steps that run read: those not reused (every step but a reused task)."""
    read: set[str] = set()
    for step in workflow.steps.values():
        if step.type in TASK_TYPES and step.name not in runs_again:
            continue
        read.update(results_read(step))
    return read


def succeeded_results(events: list[dict[str, Any]], finals: dict[str, str], keys: dict[str, str]) -> dict[str, Any]:
    """Step -> its kept result (None when not kept) for each step whose final state (`finals`: state
    name -> step) exited without an error: its task, Map or Parallel state, its report, the Pass that
    takes a poll loop's whole result out of its Parallel, or its resumed Pass."""
    by_id: dict[int, dict[str, Any]] = {}
    failing: set[str] = set()
    results: dict[str, Any] = {}
    for event in events:
        by_id[event["id"]] = event
        kind = event["type"]
        if kind.endswith(("Failed", "TimedOut", "Aborted")) and not kind.startswith(("Execution", "MapIteration")):
            failing.add(state_of(event, by_id))
            continue
        exited = event.get("stateExitedEventDetails")
        if exited is None or exited["name"] not in finals:
            continue
        state = exited["name"]
        if state in failing:  # the error went on to a catch
            failing.discard(state)
            continue
        step = finals[state]
        output = json.loads(exited.get("output") or "{}")
        results[step] = (output.get("steps") or {}).get(keys[step]) if isinstance(output, dict) else None
    return results


def _states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of a definition by name, branches and Map item processors included."""
    found: dict[str, dict[str, Any]] = {}
    pending = [definition.get("States", {})]
    while pending:
        for name, state in pending.pop().items():
            found[name] = state
            pending.extend(branch.get("States", {}) for branch in state.get("Branches", []))
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    pending.append(state[key].get("States", {}))
    return found


def _step_states(states: dict[str, dict[str, Any]], step: str) -> list[dict[str, Any] | None]:
    """The parts of a step's states that decide what its job gets and what its result keeps."""
    names = [step, aux_state(step, "each"), *(aux_state(step, role) for role in _REPORT_ROLES)]
    return [_without_flow(states[n]) if n in states else None for n in names]


def _without_flow(state: dict[str, Any]) -> dict[str, Any]:
    stripped = {k: v for k, v in state.items() if k not in _FLOW_FIELDS}
    if "ItemProcessor" in stripped:  # the item's own states are compared one by one
        stripped["ItemProcessor"] = sorted(stripped["ItemProcessor"].get("States", {}))
    return stripped


def _reads_input(step_states: list[dict[str, Any] | None], name: str) -> bool:
    text = json.dumps(step_states)
    return re.search(rf"\$\.input\.{re.escape(name)}(?![A-Za-z0-9_])", text) is not None
