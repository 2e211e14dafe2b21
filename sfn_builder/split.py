"""Split: a plan too large for one state machine -> a parent plan whose Parts run as machines of their own.

Step Functions accepts a definition of at most 1 MB, in a request of at most
1 MB (module `compiler` measures it so). When a workflow's is larger, its main
flow is cut into Parts of at most a budget each, by estimate: runs of
consecutive items of a sequence, groups of a Parallel's branches, groups of
consecutive members of a network (its completion markers work across state
machines; a chain too large alone is cut into members of its own, each waiting
for the one before), and inside an item too large alone, the same again. The
flows a choice or catch jumps to (regions) are built where their step is, so
they count as the step's bytes; a step too large with them has its regions cut
the same way first, the largest first. The parent keeps
the shape of the plan with each Part in place of what it holds, so every step
still starts when the same steps are done. A part is published as
`<workflow>-part-N` and started by the parent with `startExecution.sync:2`, by
the alias named after the part's definition (see build's `part_task` and module
`deploy.drivers.aliases`).

Sizes come from a built definition (each state's bytes counted to the step whose
name it carries), or, for a workflow plainly too large, from estimates: each
step's request and what the compiler adds around it. Either way the parts are
built and measured.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .asl import walk_states
from .model import Workflow
from .plan import Leaf, Network, Node, Parallel, Part, Plan, Sequence, children, networks

# A Parallel state around branches (its ResultSelector, comment and per-branch end) by estimate.
PARALLEL_BYTES = 400
BRANCH_BYTES = 150
# What a Part costs its parent (the task that starts it and the states that pass its failure on).
PART_BYTES = 2500


# A step's states beyond its request (resume gate, catch, failure), a marker wait and a step's
# signalling, by estimate (measured on the bench's specs and the examples: a little over). Alert states
# are shared (one per block of steps or per Parallel state: build's `_scope`), so a step adds none.
STEP_BYTES = 700
WAIT_BYTES = 900
SIGNAL_BYTES = 1300
DEPENDENT_BYTES = 60


def estimated_sizes(workflow: Workflow, plan: Plan, requests: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Each step's bytes in a definition by estimate, from its request and what the compiler adds."""
    sizes = {
        name: STEP_BYTES + (len(_compact(requests[name])) if name in requests else 0)
        for name in workflow.steps
    }
    for network in networks(plan.main):
        signalled: dict[str, int] = {}
        for step, needs in network.needs.items():
            sizes[step] += WAIT_BYTES
            for need in needs:
                signalled[need] = signalled.get(need, 0) + 1
        for step, count in signalled.items():
            sizes[step] += SIGNAL_BYTES + DEPENDENT_BYTES * count
    return sizes


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def step_sizes(definition: dict[str, Any]) -> dict[str, int]:
    """Bytes of the states each step owns (its own state and the `<step>.<role>` states, nested ones too)."""
    sizes: dict[str, int] = {}
    for name, state in walk_states(definition):
        owner = name.split(".", 1)[0]
        own = {key: value for key, value in state.items() if key not in ("Branches", "Iterator", "ItemProcessor")}
        sizes[owner] = sizes.get(owner, 0) + len(_compact(own))
    return sizes


def region_jumps(workflow: Workflow, plan: Plan) -> dict[str, tuple[str, ...]]:
    """Each step's jump targets (choice rules, catches) that open a region: the region's flow is built
    where the step is, so its bytes are the step's."""
    jumps = {name: tuple(t for t in step.targets if t in plan.regions) for name, step in workflow.steps.items()}
    return {name: targets for name, targets in jumps.items() if targets}


class Splitter:
    """Moves a plan's bulk into Parts of at most `budget` bytes by estimate. `jumps`: each step's
    targets that open a region (`region_jumps`)."""

    def __init__(self, sizes: dict[str, int], budget: int, jumps: dict[str, tuple[str, ...]] | None = None) -> None:
        self.sizes = sizes
        self.budget = budget
        self.jumps = jumps or {}
        self.regions: dict[str, Node] = {}
        self.numbers: Iterator[int] = itertools.count(1)

    def size(self, node: Node) -> int:
        """Bytes of a node where it is built: a step's with its regions', a Part's task only."""
        if isinstance(node, Leaf):
            regions = sum(self.size(self.regions[target]) for target in self.jumps.get(node.step, ()))
            return self.sizes.get(node.step, 0) + regions
        if isinstance(node, Part):
            return PART_BYTES
        inner = sum(self.size(child) for child in children(node))
        if isinstance(node, Parallel | Network):
            return inner + PARALLEL_BYTES + BRANCH_BYTES * len(children(node))
        return inner

    def split(self, plan: Plan) -> Plan | None:
        """The plan with Parts, or None when its flows cannot be cut small enough. A step whose regions
        take it over the budget has them cut first (so a region too large runs as parts of its own)."""
        self.regions = dict(plan.regions)
        for step in self.jumps:
            self._fit_regions(step)
        main = self.shrink(plan.main) if plan.main is not None else None
        flows = [main, *self.regions.values()]
        if not any(isinstance(node, Part) or (isinstance(node, Network) and node.groups) for node in _nodes(*flows)):
            return None
        return replace(plan, main=main, regions=self.regions)

    def _fit_regions(self, step: str) -> None:
        """Cut the regions of `step`, the largest first, while the step with them exceeds the budget."""
        for target in sorted(self.jumps[step], key=lambda t: self.size(self.regions[t]), reverse=True):
            if self.size(Leaf(step)) <= self.budget:
                return
            self.regions[target] = self.shrink(self.regions[target])

    def shrink(self, node: Node) -> Node:
        """`node` with what it holds grouped into Parts (a node too large alone is shrunk inside; a step
        too large with its regions has them cut)."""
        if isinstance(node, Leaf):
            if node.step in self.jumps:
                self._fit_regions(node.step)
            return node  # a step: it stays whole
        if isinstance(node, Sequence):
            items = [self._grouped(group, Sequence) for group in self._groups(node.items, branches=False)]
            return items[0] if len(items) == 1 else Sequence(tuple(items))
        if isinstance(node, Parallel):
            groups = self._groups(node.branches, branches=True)
            return Parallel(tuple(self._grouped(group, Parallel) for group in groups))
        if isinstance(node, Network):
            return self._grouped_network(node)
        return node  # a Part already

    def _grouped_network(self, node: Network) -> Network:
        """A network's members in parts of consecutive members (they are in dependency order, so a part
        waits only for members of its own or earlier parts); the markers work across state machines."""
        node = self._cut_members(node)
        groups: list[tuple[int, ...]] = []
        start = 0
        for group in self._groups(node.members, branches=True):
            groups.append(tuple(range(start, start + len(group))))
            start += len(group)
        if len(groups) == 1:
            return node
        return replace(node, groups=tuple(groups), numbers=tuple(next(self.numbers) for _ in groups))

    def _cut_members(self, node: Network) -> Network:
        """A network whose chains too large for a part alone are cut into consecutive pieces within the
        budget: each piece a member of its own, its first step needing the last of the piece before (a
        marker wait where the chain went on), so the pieces can run in different parts."""
        room = self.budget - PARALLEL_BYTES - BRANCH_BYTES - WAIT_BYTES - SIGNAL_BYTES - DEPENDENT_BYTES
        members: list[Node] = []
        needs = dict(node.needs)
        for member in node.members:
            if not isinstance(member, Sequence) or self.size(member) <= room:
                members.append(member)
                continue
            pieces = self._groups(member.items, branches=False, budget=room)
            for before, piece in itertools.pairwise(pieces):
                first, last = _step(piece[0]), _step(before[-1])
                needs[first] = (*needs.get(first, ()), last)  # after its needs in earlier chains
            members += [piece[0] if len(piece) == 1 else Sequence(tuple(piece)) for piece in pieces]
        return replace(node, members=tuple(members), needs=needs)

    def _groups(self, nodes: tuple[Node, ...], branches: bool, budget: int | None = None) -> list[list[Node]]:
        """Consecutive nodes packed into groups within the budget (`branches`: of a Parallel state, whose
        bytes count too); a node larger alone is a group of one."""
        each, start = (BRANCH_BYTES, PARALLEL_BYTES) if branches else (0, 0)
        budget = self.budget if budget is None else budget
        groups: list[list[Node]] = []
        used = budget
        for node in nodes:
            size = self.size(node) + each
            if used + size > budget:
                groups.append([])
                used = start
            groups[-1].append(node)
            used += size
        return groups

    def _grouped(self, group: list[Node], kind: Callable[[tuple[Node, ...]], Node]) -> Node:
        node = group[0] if len(group) == 1 else kind(tuple(group))
        if self.size(node) > self.budget:
            return self.shrink(node)
        if isinstance(node, Leaf) and not _worth_a_part(node, self):
            return node
        return Part(next(self.numbers), node)


def _worth_a_part(leaf: Leaf, splitter: Splitter) -> bool:
    """A single small step stays in the parent: its Part would cost the parent more than the step."""
    return splitter.size(leaf) > PART_BYTES


def _step(node: Node) -> str:
    """The step of a network chain's item (a chain holds steps only)."""
    assert isinstance(node, Leaf)
    return node.step


def _nodes(*roots: Node | None) -> Iterator[Node]:
    stack = [root for root in roots if root is not None]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))
