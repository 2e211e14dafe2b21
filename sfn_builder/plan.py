"""Plan: each scope's dependency graph as nested sequences and parallel blocks.

A set of steps splits into parallel branches when its comparability graph is
disconnected, and into a sequence when its incomparability graph is; graphs
made only of such splits (series-parallel orders) are expressed exactly, so
no step ever waits for something it does not depend on. A set that splits
neither way contains an "N" (a->c, b->c, b->d) that Parallel states cannot
express. With `parallelism: exact` (the default) such a set of the main flow
becomes a `Network`: one Parallel branch per chain of its steps, each step
waiting for exactly its needs in other chains through completion markers (see
`markers`): every step of a branch either goes on to what follows it or ends
the workflow (a `succeed` step inside a branch ends it too: build's `succeed`),
so no step waits for a signal that never comes. Otherwise (`nested`, Express
workflows) it is cut into a before-part and an after-part at the prefix
of a linear extension (see `_cut`), and each added wait is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .graph import Scopes, StepGraph
from .problems import Problem, Severity

MAX_NESTING = 150
MAX_WAIT_WARNINGS = 20


@dataclass(frozen=True)
class Leaf:
    step: str


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Parallel:
    branches: tuple[Node, ...]


@dataclass(frozen=True)
class Network:
    """Chains of steps run as parallel branches, in dependency order: a step of a chain may need
    steps of earlier chains (`needs`: step -> those steps, the latest of each chain only; a step
    without needs in other chains is not in it), and runs when they and its chain's step before it
    are done. Each member is a step or a Sequence of steps."""

    members: tuple[Node, ...]
    needs: dict[str, tuple[str, ...]] = field(hash=False)
    # In a workflow split into parts (module `split`): consecutive members run by each part, and its number.
    groups: tuple[tuple[int, ...], ...] = ()
    numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Part:
    """A node run as a state machine of its own (a definition too large for one; module `split`)."""

    number: int
    node: Node


Node = Leaf | Sequence | Parallel | Network | Part


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
        """The scopes' problems, and one warning per step that waits more than it needs."""
        waits: dict[str, list[str]] = {}
        for added in self.added:
            waits.setdefault(added.step, []).append(added.waits_for)
        notes = []
        for step, extra in waits.items():
            shown = ", ".join(f"'{w}'" for w in extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
            notes.append(
                Problem(
                    f"'{step}' also waits for {shown}: this dependency graph cannot be expressed exactly "
                    "with Parallel states, so the compiler added the fewest waits it could",
                    ("steps", step),
                    hint=f"add {shown} to its needs to make this explicit, or restructure the dependencies",
                    severity=Severity.WARNING,
                )
            )
        if len(notes) > MAX_WAIT_WARNINGS:
            rest = len(notes) - MAX_WAIT_WARNINGS
            summary = Problem(
                f"{rest} more steps also wait for steps they do not need", ("steps",), severity=Severity.WARNING
            )
            notes = [*notes[:MAX_WAIT_WARNINGS], summary]
        return [*self.scopes.problems, *notes]


def children(node: Node) -> tuple[Node, ...]:
    """A plan node's parts: a sequence's items, a Parallel's branches, a Network's members, a Part's node."""
    if isinstance(node, Sequence):
        return node.items
    if isinstance(node, Parallel):
        return node.branches
    if isinstance(node, Network):
        return node.members
    if isinstance(node, Part):
        return (node.node,)
    return ()


def networks(node: Node | None) -> list[Network]:
    """The Networks in a plan node (a workflow with any needs the markers table)."""
    found: list[Network] = []
    stack: list[Node] = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, Network):
            found.append(current)
        stack.extend(children(current))
    return found


def leaves(node: Node | None) -> list[str]:
    """Step names of a plan node, in order."""
    out: list[str] = []
    stack: list[Node] = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, Leaf):
            out.append(current.step)
        stack.extend(reversed(children(current)))
    return out


def network_waits(
    node: Network, steps_of: list[list[str]], reads: Callable[[str], list[str]]
) -> dict[str, dict[str, list[str]]]:
    """What each step of a network waits for (`steps_of`: each member's steps; `reads`: the kept results a
    step reads): step -> the steps of other chains it waits for (one per chain: the latest it needs or
    reads results of) -> the steps whose results it reads (they arrive with that one's signal). Steps
    that wait for nothing are left out."""
    owner = {step: index for index, steps in enumerate(steps_of) for step in steps}
    position = {step: k for steps in steps_of for k, step in enumerate(steps)}
    waits: dict[str, dict[str, list[str]]] = {}
    for index, steps in enumerate(steps_of):
        received: set[str] = set()  # results an earlier wait of this chain brought
        for step in steps:
            latest = {owner[need]: need for need in node.needs.get(step, ())}
            read = [r for r in reads(step) if owner.get(r, index) != index and r not in received]
            for result in read:
                chain = owner[result]
                if chain not in latest or position[result] > position[latest[chain]]:
                    latest[chain] = result
            if latest:
                waits[step] = {latest[c]: [r for r in read if owner[r] == c] for c in sorted(latest)}
                received.update(read)
    return waits


def network_sends(waits: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
    """A step others wait for -> the results of its branch they read (its signal sends them)."""
    sends: dict[str, dict[str, None]] = {}
    for sources in waits.values():
        for source, reads in sources.items():
            sends.setdefault(source, {}).update(dict.fromkeys(reads))
    return {source: list(reads) for source, reads in sends.items()}


def network_firsts(node: Network) -> set[int]:
    """The members whose branch a network's state document is gathered from: the first, or each part's."""
    return {group[0] for group in node.groups} if node.groups else {0}


def make_plan(graph: StepGraph, *, nested: bool = False) -> Plan:
    """Plan every scope of the graph (which must be acyclic); `nested`: Parallel states only, whatever
    the workflow's `parallelism`."""
    scopes = graph.scopes
    added: list[AddedDependency] = []
    planner = _Planner(graph, added)
    planner.exact = planner.exact and not nested
    main_members = scopes.members(None)
    main = planner.decompose(planner.mask(main_members), exact=planner.exact) if main_members else None
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
        workflow = graph.workflow
        self.exact = workflow.parallelism == "exact" and workflow.type == "standard"
        index = graph.index
        self.anc = [graph.ancestors(name) for name in graph.names]
        self.desc = [0] * len(graph.names)
        for name in reversed(graph.topological()):  # successors first: O(edges) set unions
            bits = self.desc[index[name]] | (1 << index[name])
            for need in graph.needs[name]:
                self.desc[index[need]] |= bits
            for jump in graph.jumps.get(name, ()):
                self.desc[index[jump.source]] |= bits

    def mask(self, names: list[str]) -> int:
        bits = 0
        for name in names:
            bits |= 1 << self.graph.index[name]
        return bits

    def decompose(self, members: int, depth: int = 0, *, exact: bool = False) -> Node:
        """The plan of a set of steps; recursion only descends into Parallel branches. `exact`: a set
        that is not series-parallel becomes a Network instead of being cut (the main flow only)."""
        if depth > MAX_NESTING:
            raise PlanTooDeep()
        items: list[Node] = []
        pending = [members]  # parts still to place in the sequence, the next one last
        while pending:
            current = pending.pop()
            if current & (current - 1) == 0:
                items.append(Leaf(self.graph.names[current.bit_length() - 1]))
                continue
            parts = _components(current, lambda v, c=current: (self.anc[v] | self.desc[v]) & c)
            if len(parts) > 1:
                parts.sort(key=_lowest)
                items.append(Parallel(tuple(self.decompose(p, depth + 1, exact=exact) for p in parts)))
                continue
            parts = _components(current, lambda v, c=current: c & ~(self.anc[v] | self.desc[v] | (1 << v)))
            if len(parts) == 1 and exact:
                items.append(self._network(current))
                continue
            if len(parts) == 1:
                parts = self._cut(current)  # [before, after]
            else:  # co-components are totally ordered: any member's ancestors tell the order
                parts.sort(key=lambda p, c=current: (self.anc[_lowest(p)] & c).bit_count())
            pending.extend(reversed(parts))
        return Sequence(tuple(items)) if len(items) > 1 else items[0]

    def _network(self, members: int) -> Network:
        """A set that is not series-parallel as chains of steps. Each step joins the chain of one of its
        direct predecessors when that one ends its chain and lies in the latest chain any of them is
        in (so a chain needs only earlier chains); its other direct predecessors are its needs."""
        order = sorted(_bits(members), key=lambda v: ((self.anc[v] & members).bit_count(), v))
        chain_of: dict[int, int] = {}
        chains: list[list[int]] = []
        outside: dict[int, list[int]] = {}  # step -> its direct predecessors in other chains
        for v in order:
            before = self.anc[v] & members
            implied = 0
            for u in _bits(before):
                implied |= self.anc[u]
            preds = list(_bits(before & ~implied))
            latest = max((chain_of[u] for u in preds), default=-1)
            if latest >= 0 and chains[latest][-1] in preds:
                chain_of[v] = latest
                chains[latest].append(v)
            else:
                chain_of[v] = len(chains)
                chains.append([v])
            outside[v] = [u for u in preds if chain_of[u] != chain_of[v]]
        names = self.graph.names  # direct predecessors: at most one per chain (an earlier one is implied)
        needs = {names[v]: tuple(names[u] for u in sorted(us, key=chain_of.get)) for v, us in outside.items() if us}
        members_ = tuple(
            Leaf(names[c[0]]) if len(c) == 1 else Sequence(tuple(Leaf(names[v]) for v in c)) for c in chains
        )
        return Network(members_, needs)

    def _cut(self, members: int) -> list[int]:
        """Split a set that is not series-parallel into a before-part and an after-part.

        The split is a prefix of a linear extension, chosen to add the fewest waits
        per pair of steps it separates (a ratio cut): that favours balanced splits,
        which keeps the number of splits, and in practice the waits added, low.
        """
        order = sorted(_bits(members), key=lambda v: ((self.anc[v] & members).bit_count(), v))
        before, after = 0, members
        cost = 0  # pairs (a in before, b in after) where b does not already wait for a
        best_cost, best_size = None, 1
        for size, v in enumerate(order[:-1], start=1):
            after &= ~(1 << v)
            cost -= (before & ~self.anc[v]).bit_count()
            cost += after.bit_count() - (self.desc[v] & after).bit_count()
            before |= 1 << v
            score = cost / (size * (len(order) - size))  # added waits per pair separated
            if best_cost is None or score < best_cost:
                best_cost, best_size = score, size
        before = sum(1 << v for v in order[:best_size])
        after = members & ~before
        # The newest steps of `before` that a step of `after` now also waits for are the
        # maximal steps of `before` it does not already wait for (a later step of
        # `before` that it waited for would make it wait for them too).
        inside = 0
        for v in _bits(before):
            inside |= self.anc[v]
        latest = before & ~inside
        for b in _bits(after):
            if self.anc[b] & after:
                continue  # it waits for an earlier step of `after`, which now waits for `before`
            for a in _bits(latest & ~self.anc[b]):
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
