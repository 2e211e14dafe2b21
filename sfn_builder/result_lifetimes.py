"""How long each kept result must stay in the state, and where the flow can drop the ones no step reads.

A kept result stays under `$.steps.<key>` until the execution ends, and the state holds 256 KiB: a
long workflow whose steps each keep a result (a chain whose every job reads the one before's output)
fills it, and the run ends with `States.DataLimitExceeded`, which no catch handles. The top-level
flow is a line of items: the items of the main sequence, and of the sequences the parts of a split
workflow run in its place. A result read by no step of a later item is dead after its last reader's
item. A workflow whose kept results may take more than PRUNE_FROM bytes drops its dead ones between
items, once they take DROP_BATCH bytes (a Pass state whose Parameters keep the live ones, written to
`$.steps`), and a Parallel state of the line gathers only the results read after it; its branches
keep theirs until it ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .model import Workflow
from .plan import Node, Part, Plan, Sequence, leaves

PRUNE_FROM = 32 * 1024  # least bytes of kept results from which a workflow drops its dead ones
DROP_BATCH = 16 * 1024  # least bytes of dead results worth a state that drops them


@dataclass(frozen=True)
class Lifetimes:
    line: frozenset[int]  # the ids of the line's Sequence nodes
    position: dict[str, int]  # step -> the position of its line item
    last_read: dict[str, float]  # kept step -> the position of the last item that reads it
    size: dict[str, int]  # kept step -> the least bytes its result takes
    pruning: bool  # whether this workflow drops dead results

    def item_position(self, item: Node) -> int:
        """The position of a line item (a part of the line: its last item's)."""
        return max(self.position[step] for step in leaves(item))

    def dead(self, available: list[str], position: int) -> list[str]:
        """The kept results of `available` that no item after `position` reads."""
        return [step for step in available if self.last_read.get(step, math.inf) <= position]

    def read_after(self, item: Node) -> Callable[[str], bool] | None:
        """Whether a kept result is read after a line item (None when this workflow drops nothing)."""
        if not self.pruning:
            return None
        position = self.item_position(item)
        return lambda step: self.last_read.get(step, math.inf) > position

    def worth_dropping(self, dead: list[str]) -> bool:
        return self.pruning and sum(self.size.get(step, 0) for step in dead) >= DROP_BATCH


def lifetimes(workflow: Workflow, plan: Plan, sizes: dict[str, int]) -> Lifetimes:
    """The line of `plan`, where each step runs on it, and each kept result's (`sizes`: their least bytes)
    last reader."""
    line: set[int] = set()
    position: dict[str, int] = {}

    def walk(sequence: Sequence) -> None:
        line.add(id(sequence))
        for item in sequence.items:
            inner = item.node if isinstance(item, Part) else item
            if isinstance(inner, Sequence):
                walk(inner)
                continue
            at = len(line_items)
            line_items.append(item)
            for step in _with_regions(leaves(item), plan, workflow):
                position[step] = at

    line_items: list[Node] = []
    if isinstance(plan.main, Sequence):
        walk(plan.main)
    last_read: dict[str, float] = {}
    for reader in workflow.steps.values():
        at: float = position.get(reader.name, math.inf)  # off the line: kept to the end
        for ref in reader.references:
            read = str(ref.parts[0]) if ref.namespace == "steps" else None
            if read in sizes:
                last_read[read] = max(last_read.get(read, -1), at)
        for catch in reader.catch:  # a fallback's result is copied to the failed step's key: read there
            if catch.fallback and catch.next in sizes:
                last_read[catch.next] = max(last_read.get(catch.next, -1), at)
    pruning = bool(line) and sum(sizes.values()) >= PRUNE_FROM
    return Lifetimes(frozenset(line), position, last_read, sizes, pruning)


def _with_regions(steps: list[str], plan: Plan, workflow: Workflow) -> list[str]:
    """The steps and those of the choice routes and catch handler paths they open (built with them)."""
    found, pending = list(steps), list(steps)
    while pending:
        for target in workflow.steps[pending.pop()].targets:
            if target in plan.regions:
                inside = leaves(plan.regions[target])
                found += inside
                pending += inside
    return found
