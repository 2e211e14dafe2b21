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
children; and in each execution the steps that most steps wait for do too until the execution's
events by estimate fit EVENTS_BUDGET (`signalled_from_children`).
"""

from __future__ import annotations

from collections import Counter

from .markers import INLINE_NOTIFY_LIMIT
from .model import EVENTS_PER_STEP, Workflow, item_events
from .plan import Leaf, Network, Node, Part, Plan, children, networks

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


def step_events(workflow: Workflow, plan: Plan, from_children: frozenset[str]) -> dict[str, int]:
    """What each step adds to its execution's history by estimate: a task and its resume gate, or a state
    that is not a task; an inline for_each's items; its wait for steps of other chains, and its signals to
    those that wait for it (inline, or from the children of a Distributed Map: `from_children`)."""
    waiting, waits = _meetings(plan)
    events = {}
    for name, step in workflow.steps.items():
        count = EVENTS_PER_STEP if step.is_task else STATE_EVENTS
        each = step.for_each
        if each is not None and not each.distributed and isinstance(each.items, tuple):
            count += len(each.items) * item_events(step)
        events[name] = count + WAIT_EVENTS * (name in waits) + _signal_events(waiting[name], name in from_children)
    return events


def signalled_from_children(workflow: Workflow, plan: Plan, jumps: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """The steps whose signals are sent by child executions. `jumps`: each step's jump targets that open a
    region (`split.region_jumps`), built in the execution of the step that jumps."""
    waiting, _ = _meetings(plan)
    if not waiting:  # no completion markers
        return frozenset()
    chosen = {step for step, count in waiting.items() if count > INLINE_NOTIFY_LIMIT}
    events = step_events(workflow, plan, frozenset(chosen))
    for steps in _executions(plan, jumps).values():
        total = sum(events[step] for step in steps)
        for step in sorted((s for s in steps if waiting[s] > 1 and s not in chosen), key=lambda s: -waiting[s]):
            if total <= EVENTS_BUDGET:
                break
            total -= _signal_events(waiting[step], False) - _signal_events(waiting[step], True)
            chosen.add(step)
    return frozenset(chosen)


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
    """The steps each execution runs: 0 the workflow's, N part N's (a Part, or a split network's group)."""
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
    found: dict[int, list[str]] = {}
    for step, number in execution.items():
        found.setdefault(number, []).append(step)
    return found
