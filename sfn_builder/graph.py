"""The step graph: `needs` edges, choice/catch jumps, and what runs before what.

Ancestor sets are Python ints used as bitsets (bit i is the step with spec
index i), so reachability over 1,000 steps costs microseconds per query.

Scopes: a step that a choice or catch jumps to (a *target*) opens a region
that runs only when that jump is taken; so does every step that needs a step
of that region. Everything else is in the main scope (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .model import Workflow
from .problems import Problem


@dataclass(frozen=True)
class Jump:
    """A choice or catch that can send the flow to a target step."""

    source: str
    kind: str  # "choice" | "catch"


class StepGraph:
    """Dependencies of a workflow's steps, in spec order."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.names: list[str] = list(workflow.steps)
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        self.needs: dict[str, tuple[str, ...]] = {
            name: tuple(n for n in step.needs if n in self.index) for name, step in workflow.steps.items()
        }
        self.jumps: dict[str, list[Jump]] = {}
        for name, step in workflow.steps.items():
            for target in step.targets:
                if target in self.index:
                    kind = "catch" if any(c.next == target for c in step.catch) else "choice"
                    self.jumps.setdefault(target, []).append(Jump(name, kind))
        self._ancestors: dict[str, int] | None = None
        self._error_sources: dict[str, str | None] | None = None
        self.skippable = 0  # steps a catch may go on without (`then: continue`, `next: succeed`)
        for name, step in workflow.steps.items():
            if step.may_be_skipped:
                self.skippable |= 1 << self.index[name]

    def find_cycle(self) -> list[str] | None:
        """A cycle through needs and jumps as a list of names (first == last), or None."""
        successors: dict[str, list[str]] = {name: [] for name in self.names}
        for name, needs in self.needs.items():
            for need in needs:
                successors[need].append(name)
        for target, jumps in self.jumps.items():
            for jump in jumps:
                successors[jump.source].append(target)
        state: dict[str, int] = {}  # 1: on the stack, 2: done
        for root in self.names:
            if root in state:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            path: list[str] = [root]
            state[root] = 1
            while stack:
                node, position = stack[-1]
                if position < len(successors[node]):
                    stack[-1] = (node, position + 1)
                    nxt = successors[node][position]
                    if state.get(nxt) == 1:
                        return [*path[path.index(nxt) :], nxt]
                    if nxt not in state:
                        state[nxt] = 1
                        stack.append((nxt, 0))
                        path.append(nxt)
                else:
                    state[node] = 2
                    stack.pop()
                    path.pop()
        return None

    def topological(self) -> list[str]:
        """Steps with every predecessor (need or jump source) first; spec order breaks ties."""
        import heapq

        predecessors = {name: set(self.needs[name]) for name in self.names}
        for target, jumps in self.jumps.items():
            predecessors[target].update(j.source for j in jumps)
        successors: dict[str, list[str]] = {name: [] for name in self.names}
        for name, preds in predecessors.items():
            for pred in preds:
                successors[pred].append(name)
        waiting = {name: len(preds) for name, preds in predecessors.items()}
        ready = [self.index[n] for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            name = self.names[heapq.heappop(ready)]
            order.append(name)
            for nxt in successors[name]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    heapq.heappush(ready, self.index[nxt])
        return order

    def ancestors(self, name: str) -> int:
        """Bitset of the steps that have finished whenever `name` starts.

        A choice target also runs after its choice and the choice's ancestors;
        a catch target after the catching step's ancestors (the catching step
        itself failed, so its result is not there).
        """
        if self._ancestors is None:
            self._ancestors = {}
            for step in self.topological():
                bits = 0
                for need in self.needs[step]:
                    bits |= self._ancestors[need] | (1 << self.index[need])
                for jump in self.jumps.get(step, ()):
                    bits |= self._ancestors[jump.source]
                    if jump.kind == "choice":
                        bits |= 1 << self.index[jump.source]
                self._ancestors[step] = bits
        return self._ancestors[name]

    @cached_property
    def scopes(self) -> Scopes:
        return assign_scopes(self)

    def runs_before(self, first: str, then: str) -> bool:
        return bool(self.ancestors(then) >> self.index[first] & 1)

    def produced_before(self, first: str, then: str) -> bool:
        """`first`'s result exists whenever `then` starts: it finished, and no catch went on without it."""
        return self.runs_before(first, then) and not self.skippable >> self.index[first] & 1

    def error_source(self, name: str) -> str | None:
        """The failed step whose caught error `name` sees as `${error...}`: it runs on that catch's handler path."""
        if self._error_sources is None:
            sources: dict[str, str | None] = {}
            for step in self.topological():
                jumps = self.jumps.get(step, ())
                found: str | None = None
                if jumps:
                    first = jumps[0]
                    found = first.source if first.kind == "catch" else sources[first.source]
                else:  # a step that needs a handler path's step runs on that path (see assign_scopes)
                    found = next((sources[n] for n in self.needs[step] if sources[n] is not None), None)
                sources[step] = found
            self._error_sources = sources
        return self._error_sources[name]

    def names_in(self, bits: int) -> list[str]:
        return [self.names[i] for i in range(len(self.names)) if bits >> i & 1]


@dataclass(frozen=True)
class Scopes:
    """Which region each step belongs to (None: the main scope)."""

    region_of: dict[str, str | None]  # step -> the target that opens its region
    parent: dict[str, str | None]  # region (target) -> enclosing region
    problems: tuple[Problem, ...]

    def members(self, region: str | None) -> list[str]:
        return [name for name, owner in self.region_of.items() if owner == region]


def assign_scopes(graph: StepGraph) -> Scopes:
    """Put each step in the region it runs in, reporting steps that fit none."""
    region_of: dict[str, str | None] = {}
    parent: dict[str, str | None] = {}
    problems: list[Problem] = []

    def chain(region: str | None) -> list[str | None]:
        out: list[str | None] = [region]
        while region is not None:
            region = parent[region]
            out.append(region)
        return out

    for name in graph.topological():
        jumps = graph.jumps.get(name, [])
        if len({j.source for j in jumps}) > 1:
            sources = ", ".join(sorted({j.source for j in jumps}))
            problems.append(
                Problem(
                    f"step '{name}' is the target of more than one choice or catch ({sources})",
                    ("steps", name),
                    hint="a step can be reached through one choice or catch; give each its own step",
                )
            )
        if jumps:
            source = jumps[0].source
            parent[name] = region_of[source]
            region_of[name] = name
            for need in graph.needs[name]:
                if not graph.runs_before(need, source) and need != source:
                    problems.append(_not_before(name, need, source, jumps[0].kind))
            continue
        regions = [region_of[need] for need in graph.needs[name]]
        deepest = _deepest(regions, chain)
        if deepest is _CONFLICT:
            problems.append(
                Problem(
                    f"step '{name}' needs steps that run on different conditional paths",
                    ("steps", name, "needs"),
                    hint="a step can follow steps of one choice or catch path only",
                )
            )
            deepest = None
        region_of[name] = deepest  # type: ignore[assignment]
        if deepest is not None:
            entry_source = graph.jumps[deepest][0]
            for need in graph.needs[name]:
                outer = region_of[need] in chain(parent[deepest])
                if outer and need != entry_source.source and not graph.runs_before(need, entry_source.source):
                    problems.append(_not_before(name, need, entry_source.source, entry_source.kind))
    return Scopes(region_of, parent, tuple(problems))


_CONFLICT = object()


def _deepest(regions: Iterable[str | None], chain) -> object:
    deepest: str | None = None
    for region in regions:
        if region is None or region == deepest:
            continue
        if deepest is None or deepest in chain(region):
            deepest = region
        elif region not in chain(deepest):
            return _CONFLICT
    return deepest


def _not_before(name: str, need: str, source: str, kind: str) -> Problem:
    return Problem(
        f"step '{name}' runs only when {kind} step '{source}' leads to it, "
        f"but it needs '{need}', which does not finish before '{source}'",
        ("steps", name, "needs"),
        hint=f"make '{source}' need '{need}' too",
    )
