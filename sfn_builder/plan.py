"""Plan: each scope's dependency graph as nested sequences and parallel blocks.

A set of steps splits into parallel branches when its comparability graph is
disconnected, and into a sequence when its incomparability graph is; graphs
made only of such splits (series-parallel orders) are expressed exactly, so
no step ever waits for something it does not depend on. A set that splits
neither way contains an "N" (a->c, b->c, b->d) that Parallel states cannot
express: it is cut into a before-part and an after-part at the prefix of a
linear extension that adds the fewest waits, and each added wait is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .graph import Scopes, StepGraph, assign_scopes
from .problems import Problem, Severity

MAX_NESTING = 150


@dataclass(frozen=True)
class Leaf:
    step: str


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Parallel:
    branches: tuple[Node, ...]


Node = Leaf | Sequence | Parallel


@dataclass(frozen=True)
class AddedDependency:
    step: str
    waits_for: str


@dataclass(frozen=True)
class Plan:
    """The main flow, each jump target's region flow, and the waits that had to be added."""

    main: Node | None
    regions: dict[str, Node]
    added: tuple[AddedDependency, ...]
    scopes: Scopes

    def problems(self) -> list[Problem]:
        notes = [
            Problem(
                f"'{a.step}' also waits for '{a.waits_for}': this dependency graph cannot be expressed "
                "exactly with Parallel states, so the compiler added the fewest waits it could",
                ("steps", a.step),
                hint=f"to keep '{a.step}' from waiting, restructure its needs (or add '{a.waits_for}' to them "
                "to make this explicit)",
                severity=Severity.WARNING,
            )
            for a in self.added
        ]
        return [*self.scopes.problems, *notes]


def leaves(node: Node | None) -> list[str]:
    """Step names of a plan node, in order."""
    out: list[str] = []
    stack: list[Node] = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, Leaf):
            out.append(current.step)
        else:
            children = current.items if isinstance(current, Sequence) else current.branches
            stack.extend(reversed(children))
    return out


def make_plan(graph: StepGraph) -> Plan:
    """Plan every scope of the graph (which must be acyclic)."""
    scopes = assign_scopes(graph)
    added: list[AddedDependency] = []
    planner = _Planner(graph, added)
    main_members = scopes.members(None)
    main = planner.decompose(planner.mask(main_members)) if main_members else None
    regions = {
        target: planner.decompose(planner.mask(scopes.members(target)))
        for target in graph.names
        if target in scopes.parent
    }
    return Plan(main, regions, tuple(added), scopes)


class _Planner:
    def __init__(self, graph: StepGraph, added: list[AddedDependency]) -> None:
        self.graph = graph
        self.added = added
        size = len(graph.names)
        self.anc = [graph.ancestors(name) for name in graph.names]
        self.desc = [0] * size
        for i, bits in enumerate(self.anc):
            for j in _bits(bits):
                self.desc[j] |= 1 << i

    def mask(self, names: list[str]) -> int:
        bits = 0
        for name in names:
            bits |= 1 << self.graph.index[name]
        return bits

    def decompose(self, members: int, depth: int = 0) -> Node:
        if depth > MAX_NESTING:
            raise PlanTooDeep()
        if members & (members - 1) == 0:
            return Leaf(self.graph.names[members.bit_length() - 1])
        related = lambda v: (self.anc[v] | self.desc[v]) & members  # noqa: E731
        parts = _components(members, related)
        if len(parts) > 1:
            parts.sort(key=_lowest)
            return Parallel(tuple(self.decompose(p, depth + 1) for p in parts))
        unrelated = lambda v: members & ~(self.anc[v] | self.desc[v] | (1 << v))  # noqa: E731
        parts = _components(members, unrelated)
        if len(parts) == 1:
            parts = self._cut(members)
        parts.sort(key=lambda p: (self.anc[_lowest(p)] & members).bit_count())
        items: list[Node] = []
        for part in parts:
            node = self.decompose(part, depth + 1)
            items.extend(node.items if isinstance(node, Sequence) else [node])
        return Sequence(tuple(items))

    def _cut(self, members: int) -> list[int]:
        """Split a set that is not series-parallel where the fewest waits are added."""
        order = sorted(_bits(members), key=lambda v: ((self.anc[v] & members).bit_count(), v))
        before, after = 0, members
        cost = 0  # pairs (a in before, b in after) where b does not already wait for a
        best_cost, best_size = None, 1
        for size, v in enumerate(order[:-1], start=1):
            after &= ~(1 << v)
            cost -= (before & ~self.anc[v]).bit_count()
            cost += after.bit_count() - (self.desc[v] & after).bit_count()
            before |= 1 << v
            if best_cost is None or cost < best_cost:
                best_cost, best_size = cost, size
        before = sum(1 << v for v in order[:best_size])
        after = members & ~before
        for b in _bits(after):
            if self.anc[b] & after:
                continue  # it waits for an earlier step of `after`, which now waits for `before`
            missing = before & ~self.anc[b]
            for a in _bits(missing):
                if not self.desc[a] & missing:
                    self.added.append(AddedDependency(self.graph.names[b], self.graph.names[a]))
        return [before, after]


class PlanTooDeep(Exception):
    """The dependency graph nests Parallel states deeper than MAX_NESTING."""


def _bits(bits: int):
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def _lowest(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


def _components(members: int, neighbours: Callable[[int], int]) -> list[int]:
    parts = []
    remaining = members
    while remaining:
        seed = remaining & -remaining
        part, frontier = seed, seed
        while frontier:
            reached = 0
            for v in _bits(frontier):
                reached |= neighbours(v)
            frontier = reached & remaining & ~part
            part |= frontier
        parts.append(part)
        remaining &= ~part
    return parts
