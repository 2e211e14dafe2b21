"""Which kept results each point of the flow still needs, and where the flow drops the others.

A kept result stays under `$.steps.<key>` until something drops it, and the state holds 256 KiB: a
long flow whose steps each keep a result (a chain whose every job reads the one before's output)
fills it, and the run ends with `States.DataLimitExceeded`, which no catch handles. Each point of
the plan has the results still needed after it: those later steps of its own sequence or chain read
(a network step's signal sends some: it reads them too), and those needed after the node it is in
ends. A Parallel state (a network's too) gathers from each branch only the results needed after it:
its branches need no more at their end, and a branch other than the first (of its part, in a split
network) not even the results it was given.

A workflow that would hold PRUNE_FROM bytes of kept results at once drops the dead ones with a Pass
state whose Parameters keep the live ones, written to `$.steps`, once they take DROP_BATCH bytes or
are DROP_COUNT: between the items of a sequence, at the start of a branch, and at the ends of a
Parallel state's branches (together: its result is the list of their states); and for free where a
network step puts the results it received into `$.steps`. The flows that choice routes and catch
handlers run keep every result. `most_held` follows the same rules to find the most the state holds at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from .model import Workflow
from .plan import (
    Leaf,
    Network,
    Node,
    Parallel,
    Part,
    Plan,
    Sequence,
    leaves,
    network_firsts,
    network_sends,
    network_waits,
)
from .results import results_read

PRUNE_FROM = 32 * 1024  # least bytes of kept results from which a workflow drops its dead ones
DROP_BATCH = 16 * 1024  # least bytes of dead results worth a state that drops them
DROP_COUNT = 16  # or as many dead results (their least bytes may be far below their size)


@dataclass(frozen=True, slots=True)
class ReadLater:
    """The results needed after one point of a sequence or chain: those read at a later position (each
    result's last reader is at `last_read[result]`), and those needed after it all (`then`). Kept as
    positions rather than sets, so the points of a long sequence take linear time and room."""

    last_read: dict[str, int]
    position: int
    then: frozenset[str] | ReadLater

    def __contains__(self, step: str) -> bool:
        return self.last_read.get(step, -1) > self.position or step in self.then


Keep = frozenset[str] | ReadLater | None  # the results needed after a point (None: all, nothing is dropped)


@dataclass
class Lifetimes:
    size: dict[str, int]  # kept step -> the least bytes its result takes
    pruning: bool  # whether this workflow drops dead results: it may hold PRUNE_FROM bytes at once
    step_reads: dict[str, tuple[str, ...]]  # step -> the kept results it (and the flows it opens) reads
    _reads: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def top(self) -> Keep:
        """What the end of the main flow needs: nothing, when this workflow drops results."""
        return frozenset() if self.pruning else None

    def reads(self, node: Node) -> frozenset[str]:
        """The kept results the steps of a plan node read."""
        found = self._reads.get(id(node))
        if found is None:
            found = frozenset().union(*(self.step_reads.get(step, ()) for step in leaves(node)))
            self._reads[id(node)] = found
        return found

    def chain_reads(self, step: str) -> list[str]:
        """The kept results a step reads, in the order it reads them (a network step waits for them)."""
        return list(self.step_reads.get(step, ()))

    def after_items(self, items: tuple[Node, ...], keep: Keep) -> list[Keep]:
        """What is needed after each item of a sequence that `keep` is needed after."""
        if keep is None:
            return [None for _ in items]
        last_read = {step: index for index, item in enumerate(items) for step in self.reads(item)}
        return [ReadLater(last_read, index, keep) for index in range(len(items))]

    def branch_end(
        self, keep: Keep, own: Iterable[str], first: bool, given: Iterable[str]
    ) -> frozenset[str] | None:
        """What a branch must hold at its end: its own results needed after its Parallel state (`own`: its
        steps), and, for the branch the state document is gathered from (`first`), those it was `given`."""
        if keep is None:
            return None
        gathered = frozenset(step for step in own if step in keep)
        return gathered | frozenset(step for step in given if step in keep) if first else gathered

    def chain_keeps(self, steps: list[str], end: Keep, sends: dict[str, list[str]]) -> list[Keep]:
        """What a network chain needs before each of its steps and after the last (`sends`: the results a
        step's signal, right after it, reads): len(steps) + 1 sets."""
        if end is None:
            return [None for _ in range(len(steps) + 1)]
        last_read = {
            read: index
            for index, step in enumerate(steps)
            for read in (*self.step_reads.get(step, ()), *sends.get(step, ()))
        }
        return [ReadLater(last_read, index - 1, end) for index in range(len(steps) + 1)]

    def dropped(self, held: list[str], keep: Keep) -> list[str] | None:
        """The results `held` keeps after a drop at a point that needs `keep`, when one is worth a state
        (None: no drop)."""
        if keep is None or not self._worth([step for step in held if step not in keep]):
            return None
        return [step for step in held if step in keep]

    def ends_dropped(self, helds: list[list[str]], ends: list[Keep]) -> list[list[str] | None]:
        """What each branch of a Parallel state keeps after a drop at its end (None: no drop). Its result is
        the list of their states, so they drop together, each branch that holds a dead result, when all
        they hold dead is worth it."""
        dead = [
            [step for step in held if end is not None and step not in end]
            for held, end in zip(helds, ends, strict=True)
        ]
        if not self._worth([step for steps in dead for step in steps]):
            return [None for _ in helds]
        return [
            [step for step in held if step not in gone] if gone else None
            for held, gone in zip(helds, dead, strict=True)
        ]

    def _worth(self, dead: list[str]) -> bool:
        return len(dead) >= DROP_COUNT or sum(self.size.get(step, 0) for step in dead) >= DROP_BATCH


def lifetimes(workflow: Workflow, plan: Plan, sizes: dict[str, int]) -> Lifetimes:
    """The reads of each step of `plan` (`sizes`: each kept result's least bytes), and whether the workflow
    drops dead results."""
    step_reads: dict[str, tuple[str, ...]] = {}
    for name in workflow.steps if sizes else ():
        read: dict[str, None] = {}
        for reader in _with_regions(name, plan, workflow):
            read.update(dict.fromkeys(results_read(workflow.steps[reader])))
        step_reads[name] = tuple(step for step in read if step in sizes)
    lives = Lifetimes(sizes, False, step_reads)
    lives.pruning = bool(sizes) and most_held(plan, lives)[1] >= PRUNE_FROM
    return lives


def _with_regions(step: str, plan: Plan, workflow: Workflow) -> list[str]:
    """The step and those of the choice routes and catch handler paths it opens (built with it)."""
    found, pending = [step], [step]
    while pending:
        for target in workflow.steps[pending.pop()].targets:
            if target in plan.regions:
                inside = leaves(plan.regions[target])
                found += inside
                pending += inside
    return found


def most_held(plan: Plan, lives: Lifetimes) -> tuple[list[str], int]:
    """The kept results of the main flow the state holds when it holds the most (at a Parallel state's end,
    what all its branches hold: its result is the list of their states), as the flow drops them, and their
    least bytes."""
    walk = _Walk(lives)
    if plan.main is not None:
        walk.node(plan.main, _Held([], 0), lives.top)
    return walk.most.steps, walk.most.size


@dataclass(frozen=True)
class _Held:
    steps: list[str]
    size: int  # their least bytes


@dataclass
class _Walk:
    lives: Lifetimes
    most: _Held = _Held([], 0)

    def seen(self, held: _Held) -> None:
        if held.size > self.most.size:
            self.most = held

    def drop(self, held: _Held, keep: Keep) -> _Held:
        kept = self.lives.dropped(held.steps, keep)
        return held if kept is None else self.held(kept)

    def held(self, steps: list[str]) -> _Held:
        return _Held(steps, sum(self.lives.size.get(step, 0) for step in steps))

    def node(self, node: Node, held: _Held, keep: Keep) -> _Held:
        if isinstance(node, Leaf):
            if node.step in self.lives.size:
                held = _Held([*held.steps, node.step], held.size + self.lives.size[node.step])
                self.seen(held)
            return held
        if isinstance(node, Part):
            return self.node(node.node, held, keep)
        if isinstance(node, Sequence):
            afters = self.lives.after_items(node.items, keep)
            for index, (item, after) in enumerate(zip(node.items, afters, strict=True)):
                held = self.node(item, held, after)
                if index < len(node.items) - 1:
                    held = self.drop(held, after)
            return held
        if isinstance(node, Parallel):
            keeps = [
                self.lives.branch_end(keep, leaves(branch), index == 0, held.steps)
                for index, branch in enumerate(node.branches)
            ]
            ends = [self.branch(branch, held, end).steps for branch, end in zip(node.branches, keeps, strict=True)]
        else:
            keeps, ends = self.network(node, held, keep)
        dropped = self.lives.ends_dropped(ends, keeps)
        ends = [end if kept is None else kept for end, kept in zip(ends, dropped, strict=True)]
        self.seen(self.held([step for end in ends for step in end]))
        gathered = dict.fromkeys([*held.steps, *(step for end in ends for step in end)])
        return self.held([step for step in gathered if keep is None or step in keep])

    def branch(self, node: Node, held: _Held, end: Keep, build: Callable[[_Held], _Held] | None = None) -> _Held:
        """A Parallel state's branch (built by `build`, or as a node), dropped at its start as the builder
        does; what it holds before its end."""
        held = self.drop(held, None if end is None else end | self.lives.reads(node))
        return build(held) if build is not None else self.node(node, held, end)

    def network(self, node: Network, held: _Held, keep: Keep) -> tuple[list[Keep], list[list[str]]]:
        """What each chain must hold at its end, and holds before it."""
        steps_of = [leaves(member) for member in node.members]
        waits = network_waits(node, steps_of, self.lives.chain_reads)
        sends = network_sends(waits)
        firsts = network_firsts(node)
        keeps = [
            self.lives.branch_end(keep, steps, index in firsts, held.steps) for index, steps in enumerate(steps_of)
        ]
        ends = []
        for member, steps, end in zip(node.members, steps_of, keeps, strict=True):
            chain_keeps = self.lives.chain_keeps(steps, end, sends)
            build = partial(self.chain, steps, keeps=chain_keeps, waits=waits)
            ends.append(self.branch(member, held, end, build).steps)
        return keeps, ends

    def chain(self, steps: list[str], have: _Held, keeps: list[Keep], waits: dict[str, dict[str, list[str]]]) -> _Held:
        """A network chain: a waiting step's got-needs state keeps only what is needed from there on and adds
        what it received; drops between the steps."""
        for position, step in enumerate(steps):
            received = [read for reads in waits.get(step, {}).values() for read in reads]
            before = keeps[position]
            if received:
                kept = have.steps if before is None else [held for held in have.steps if held in before]
                have = self.held([*kept, *received])
            have = self.node(Leaf(step), have, keeps[position + 1])
            if position < len(steps) - 1:
                have = self.drop(have, keeps[position + 1])
        return have
