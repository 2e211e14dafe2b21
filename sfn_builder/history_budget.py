"""An execution's history: what each step adds to it by estimate, and which steps signal from children.

AWS ends a Standard execution at 25,000 history events, and each execution keeps its own: the
workflow's, each part's (module `split`), each Distributed Map child's. What a step adds to the
history of the execution it runs in is estimated here (`step_events`); the compiler splits a
workflow whose events would pass EVENTS_BUDGET in one execution, as it splits one past 1 MB.

A step that several steps of other chains wait for signals each from an iteration of a Map
(`<step>.notify`, module `markers`), and each iteration adds about SIGNAL_EVENTS events: a step
that 3,000 steps waited for took 27,000, and 60 steps each waited for by 100 took 50,000 in a
workflow of 260 steps. In a Distributed Map the signals are sent by child executions, each with a
history of its own. A step that more than INLINE_NOTIFY_LIMIT steps wait for always signals from
children. Then, in each execution whose events by estimate pass EVENTS_BUDGET, the steps that most
steps wait for signal from children too (which changes nothing the user sees), and after them the
longest literal `for_each` lists whose mode the spec leaves to sfn-build run as Distributed Maps
(each item a child execution), until the execution's events fit (`fitted`). So a list runs inline
in a small part of a large workflow, and distributed beside the steps of a full one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from .execution_input import given_list
from .markers import INLINE_NOTIFY_LIMIT
from .model import EVENTS_PER_STEP, HISTORY_LIMIT, Step, Workflow, item_events
from .plan import Leaf, Network, Node, Part, Plan, children, networks
from .steps import KINDS
from .steps.polling import POLL_EVENTS, poll_seconds, polls_allowed

# Events by estimate (AWS's, which moto's interpreter does not all write): a state that is not a task
# (its entry and exit), an inline signal (the iteration's start and end, the update's five, the
# Choice's two, then the Succeed's two or the release's five), a step's wait (the waiting task's five,
# and the Pass that takes its results), and what a Distributed Map adds to its own execution (its
# state's entry and exit, the map run's start and end). The budget leaves 5,000 of the 25,000 for
# retries and polls.
STATE_EVENTS = 2
SIGNAL_EVENTS = 12
WAIT_EVENTS = 7
CHILDREN_EVENTS = 6
EVENTS_BUDGET = 20_000
RETRY_EVENTS = 2_500  # of HISTORY_LIMIT, kept for retries when status checks are spaced (`with_polls_spaced`)
SPACED_POLL_LIMIT = 3_600  # seconds: status checks are never spaced further apart than this for the history


@dataclass(frozen=True)
class Fit:
    """How a plan's executions keep within EVENTS_BUDGET: the steps whose signals child executions send,
    and the steps whose literal for_each list runs distributed although the spec did not ask for it."""

    from_children: frozenset[str] = frozenset()
    distributed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Histories:
    """The executions a compiled workflow runs its steps in (0 the workflow's, N part N's), and each one's
    events by estimate: what an execution's input may still add to before it passes AWS's limit."""

    execution: Mapping[str, int]
    events: Mapping[int, int]

    @staticmethod
    def described(number: int) -> str:
        """An execution in words."""
        return "the workflow's execution" if number == 0 else f"its part {number}'s execution"


def histories(workflow: Workflow, plan: Plan, fit: Fit, jumps: dict[str, tuple[str, ...]]) -> Histories:
    """The `Histories` of the workflow as built from `plan` with `fit` (its lists already distributed)."""
    events = step_events(workflow, plan, fit)
    execution = _execution_of(plan, jumps)
    totals: Counter[int] = Counter()
    for step, number in execution.items():
        totals[number] += events[step]
    return Histories(execution, totals)


def polls(workflow: Workflow) -> bool:
    """Whether any of the workflow's steps polls its work (module `poll_states`)."""
    return any(KINDS[step.type].polling for step in workflow.steps.values())


def worst_polls(
    workflow: Workflow, histories: Histories, inputs: Sequence[Mapping[str, Any]] | None = None
) -> dict[int, dict[str, int]]:
    """Each execution -> its steps that poll (module `poll_states`) -> the events their status checks add
    when the work runs until the step's timeout, for the lists of `inputs` (`_polling`)."""
    return {
        execution: {name: loops * polls_allowed(workflow.steps[name]) * POLL_EVENTS for name, loops in steps.items()}
        for execution, steps in _polling(workflow, histories, inputs).items()
    }


def with_polls_spaced(workflow: Workflow, histories: Histories) -> Workflow:
    """The workflow with the status checks of the steps that poll at sfn-build's interval (no `poll` of their
    own) spaced so that, were every step's work to run until its timeout, each execution's history would
    keep within HISTORY_LIMIT less RETRY_EVENTS: the steps of an execution share one interval, the default
    one at least, SPACED_POLL_LIMIT and the step's timeout at most (past that, compile warns)."""
    if workflow.type != "standard":
        return workflow
    changed: dict[str, Step] = {}
    for execution, steps in _polling(workflow, histories).items():
        chosen = {name: loops for name, loops in steps.items() if "poll" not in workflow.steps[name].config}
        fixed = sum(loops * polls_allowed(workflow.steps[name]) for name, loops in steps.items() if name not in chosen)
        # What the history holds beyond the estimate, in status checks; each loop may check once more than
        # its timeout over the interval, so that round is kept too.
        checks = (HISTORY_LIMIT - RETRY_EVENTS - histories.events.get(execution, 0)) // POLL_EVENTS
        checks -= fixed + sum(chosen.values())
        if not chosen or checks <= 0:  # nothing to space, or the spec's own intervals fill it: compile warns
            continue
        waited = sum(loops * (workflow.steps[name].timeout or 0) for name, loops in chosen.items())
        interval = min(math.ceil(waited / checks), SPACED_POLL_LIMIT)
        for name in chosen:
            step = workflow.steps[name]
            seconds = max(poll_seconds(step), min(interval, step.timeout or interval))
            if seconds != poll_seconds(step):
                changed[name] = replace(step, config=MappingProxyType({**step.config, "poll": f"{seconds}s"}))
    return replace(workflow, steps=MappingProxyType({**workflow.steps, **changed})) if changed else workflow


def _polling(
    workflow: Workflow, histories: Histories, inputs: Sequence[Mapping[str, Any]] | None = None
) -> dict[int, dict[str, int]]:
    """Each execution -> its steps that poll -> how many loops of them it runs at most: for every item of
    an inline for_each's list, or once, each attempt its retry allows (a retry runs the loop again; a
    Distributed Map's items poll in executions of their own, each within POLL_LIMIT polls). A list of
    the execution input counts as long as the longest of `inputs` gives it, by default the inputs known
    when compiling (`known_inputs`)."""
    inputs = known_inputs(workflow) if inputs is None else inputs
    found: dict[int, dict[str, int]] = {}
    for name, step in workflow.steps.items():
        each = step.for_each
        if KINDS[step.type].polling is None or (each is not None and each.distributed):
            continue
        found.setdefault(histories.execution.get(name, 0), {})[name] = _items(step, workflow, inputs) * step.attempts
    return found


def known_inputs(workflow: Workflow) -> list[Mapping[str, Any]]:
    """The execution inputs known before any runs: none given (the declared defaults), and each schedule's."""
    return [{}, *(schedule.input for schedule in workflow.schedules if schedule.input is not None)]


def _items(step: Step, workflow: Workflow, inputs: Sequence[Mapping[str, Any]]) -> int:
    """How many items a step runs (one without a for_each, or when its list is unknown until it runs)."""
    each = step.for_each
    if each is None:
        return 1
    if isinstance(each.items, tuple):
        return len(each.items)
    given = [listed[1] for known in inputs if (listed := given_list(step, workflow, known)) is not None]
    return max([1, *given])


def step_events(workflow: Workflow, plan: Plan, fit: Fit) -> dict[str, int]:
    """What each step adds to its execution's history by estimate: a task and its resume gate, or a state
    that is not a task; an inline for_each's items; its wait for steps of other chains, and its signals to
    those that wait for it (inline, or from the children of a Distributed Map: `fit.from_children`)."""
    waiting, waits = _meetings(plan)
    lists = _inline_lists(workflow)
    events = {}
    for name, step in workflow.steps.items():
        count = EVENTS_PER_STEP if step.is_task else STATE_EVENTS
        if name not in fit.distributed:
            count += lists.get(name, 0)
        signals = _signal_events(waiting[name], name in fit.from_children)
        events[name] = count + WAIT_EVENTS * (name in waits) + signals
    return events


def fitted(workflow: Workflow, plan: Plan, jumps: dict[str, tuple[str, ...]]) -> Fit:
    """What runs in child executions so that each of the plan's executions fits EVENTS_BUDGET (see the
    module's docstring). `jumps`: each step's jump targets that open a region (`split.region_jumps`),
    built in the execution of the step that jumps."""
    waiting, _ = _meetings(plan)
    movable = {name: events for name, events in _inline_lists(workflow).items() if _left_to_us(workflow, name)}
    if not waiting and not movable:
        return Fit()
    children = {step for step, count in waiting.items() if count > INLINE_NOTIFY_LIMIT}
    distributed: set[str] = set()
    events = step_events(workflow, plan, Fit(frozenset(children)))
    for steps in _executions(plan, jumps).values():
        total = sum(events[step] for step in steps)
        if total <= EVENTS_BUDGET:
            continue
        signals = sorted((s for s in steps if waiting[s] > 1 and s not in children), key=lambda s: -waiting[s])
        lists = sorted((s for s in steps if s in movable), key=lambda s: -movable[s])
        moves = [(s, _signal_events(waiting[s], False) - CHILDREN_EVENTS, children) for s in signals]
        moves += [(s, movable[s] - CHILDREN_EVENTS, distributed) for s in lists]
        for step, saved, chosen in moves:
            if total <= EVENTS_BUDGET:
                break
            total -= saved
            chosen.add(step)
    return Fit(frozenset(children), frozenset(distributed))


def with_lists_distributed(workflow: Workflow, fit: Fit) -> Workflow:
    """The workflow with the lists of `fit.distributed` running as Distributed Maps."""
    if not fit.distributed:
        return workflow
    changed = {name: _distributed(workflow.steps[name]) for name in fit.distributed}
    return replace(workflow, steps=MappingProxyType({**workflow.steps, **changed}))


def _distributed(step: Step) -> Step:
    assert step.for_each is not None
    return replace(step, for_each=replace(step.for_each, distributed=True))


def _inline_lists(workflow: Workflow) -> dict[str, int]:
    """Each step whose literal for_each list runs inline -> its items' events."""
    return {
        name: len(step.for_each.items) * item_events(step)
        for name, step in workflow.steps.items()
        if step.for_each is not None and not step.for_each.distributed and isinstance(step.for_each.items, tuple)
    }


def _left_to_us(workflow: Workflow, name: str) -> bool:
    """Whether sfn-build chooses how the step's list runs: a Standard workflow's, without the spec's mode
    (an Express workflow keeps no such history and cannot run a Distributed Map)."""
    each = workflow.steps[name].for_each
    return workflow.type == "standard" and each is not None and each.mode is None


def _meetings(plan: Plan) -> tuple[Counter[str], set[str]]:
    """Each step -> how many steps of other chains wait for it, and the steps that wait."""
    waiting: Counter[str] = Counter()
    waits: set[str] = set()
    for network in (found for node in (plan.main, *plan.regions.values()) for found in networks(node)):
        for step, needs in network.needs.items():
            waits.add(step)
            waiting.update(needs)
    return waiting, waits


def _signal_events(waiting: int, from_children: bool) -> int:
    if not waiting:
        return 0
    return CHILDREN_EVENTS if from_children else SIGNAL_EVENTS * waiting


def _executions(plan: Plan, jumps: dict[str, tuple[str, ...]]) -> dict[int, list[str]]:
    """The steps each execution runs."""
    found: dict[int, list[str]] = {}
    for step, number in _execution_of(plan, jumps).items():
        found.setdefault(number, []).append(step)
    return found


def _execution_of(plan: Plan, jumps: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """The execution each step runs in: 0 the workflow's, N part N's (a Part, or a split network's group)."""
    execution: dict[str, int] = {}
    stack: list[tuple[Node, int]] = [(plan.main, 0)] if plan.main is not None else []
    while stack:
        node, number = stack.pop()
        if isinstance(node, Leaf):
            execution[node.step] = number
            stack.extend((plan.regions[target], number) for target in jumps.get(node.step, ()))
        elif isinstance(node, Part):
            stack.append((node.node, node.number))
        elif isinstance(node, Network) and node.groups:
            for group, part in zip(node.groups, node.numbers, strict=True):
                stack.extend((node.members[index], part) for index in group)
        else:
            stack.extend((child, number) for child in children(node))
    return execution
