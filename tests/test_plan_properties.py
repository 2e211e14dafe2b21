"""Property-based tests of the graph compilation, read back from the compiled ASL.

For any DAG: every dependency is kept (a step starts only after all it needs).
For any DAG (`parallelism: exact`, the default): nothing waits for what it does not depend on.
For series-parallel DAGs: the same with Parallel states only (`nested`).
For any other DAG with `nested`: the only extra waiting is what the compiler reports.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sfn_builder.compiler import compile_analysis
from sfn_builder.loader import load_text
from sfn_builder.markers import marker_waits
from sfn_builder.validate import analyze


def spec_for(names: list[str], edges: set[tuple[str, str]], parallelism: str = "exact") -> str:
    lines = ["version: 1", "name: prop", f"parallelism: {parallelism}", "steps:"]
    for name in names:
        needs = sorted(a for a, b in edges if b == name)
        lines += [f"  {name}:", "    type: wait", "    seconds: 1", f"    needs: [{', '.join(needs)}]"]
    return "\n".join(lines) + "\n"


def compile_dag(names, edges, parallelism="exact"):
    analysis = analyze(load_text(spec_for(names, edges, parallelism), "prop.yaml"))
    compilation = compile_analysis(analysis)
    assert compilation.ok, [p.render() for p in compilation.problems]
    added = {(a.waits_for, a.step) for a in analysis.plan.added}
    return compilation.definition, added


def order_of(block: dict) -> tuple[set[tuple[str, str]], list[str]]:
    """(pairs a-before-b, leaves) of an ASL block: a chain of states, Parallels nested; a step that
    waits for completion markers comes after the steps that signal them."""
    elements: list[list[str]] = []
    before: set[tuple[str, str]] = set()
    name = block["StartAt"]
    while name is not None:
        state = block["States"][name]
        if state["Type"] == "Parallel":
            leaves: list[str] = []
            for branch in state["Branches"]:
                pairs, branch_leaves = order_of(branch)
                before |= pairs
                leaves += branch_leaves
            for step, needs in marker_waits(state["Branches"]).items():
                before |= {(need, step) for need in needs}
            before = transitive(before)
            elements.append(leaves)
        elif "." not in name:  # the compiler's own states (input.defaults, ...) are not steps
            elements.append([name])
        name = state.get("Next", state.get("Default"))  # a marker's Choice goes on by default
    for i, j in itertools.combinations(range(len(elements)), 2):
        before |= {(a, b) for a in elements[i] for b in elements[j]}
    return before, [leaf for element in elements for leaf in element]


def transitive(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    closed = set(pairs)
    while True:
        more = {(a, d) for a, b in closed for c, d in closed if b == c} - closed
        if not more:
            return closed
        closed |= more


def closure(names, edges):
    """All pairs (a, b) with a path from a to b."""
    successors = {n: [b for a, b in edges if a == n] for n in names}
    reach = set()
    for start in names:
        stack, seen = list(successors[start]), set()
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                reach.add((start, node))
                stack.extend(successors[node])
    return reach


@st.composite
def dags(draw, max_nodes=9):
    count = draw(st.integers(min_value=1, max_value=max_nodes))
    names = [f"s{i}" for i in range(count)]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    order = draw(st.permutations(names))  # spec order need not be topological
    return order, set(chosen)


@st.composite
def series_parallel(draw, depth=0):
    """(names, edges, sources, sinks) of a random series-parallel DAG."""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        name = f"n{draw(st.integers(0, 10**9))}"
        return [name], set(), [name], [name]
    parts = draw(st.lists(series_parallel(depth=depth + 1), min_size=2, max_size=3))
    names = [n for p in parts for n in p[0]]
    if len(set(names)) != len(names):
        name = f"n{draw(st.integers(0, 10**9))}"
        return [name], set(), [name], [name]
    edges = set().union(*(p[1] for p in parts))
    if draw(st.booleans()):  # series: every sink of one part before every source of the next
        for left, right in itertools.pairwise(parts):
            edges |= {(a, b) for a in left[3] for b in right[2]}
        return names, edges, parts[0][2], parts[-1][3]
    return names, edges, [s for p in parts for s in p[2]], [s for p in parts for s in p[3]]


@given(dags(), st.sampled_from(["exact", "nested"]))
def test_every_dependency_is_kept(dag, parallelism):
    names, edges = dag
    definition, _added = compile_dag(names, edges, parallelism)
    before, leaves = order_of(definition)
    assert sorted(leaves) == sorted(names)
    assert edges <= before


@given(dags())
def test_no_step_waits_for_what_it_does_not_need_on_any_graph(dag):
    names, edges = dag
    definition, added = compile_dag(names, edges)
    before, _ = order_of(definition)
    assert added == set()
    assert before == closure(names, edges)


@given(series_parallel())
def test_series_parallel_graphs_add_no_waiting_with_parallel_states_only(sp):
    names, edges, _, _ = sp
    definition, added = compile_dag(names, edges, "nested")
    before, leaves = order_of(definition)
    assert sorted(leaves) == sorted(names)
    assert added == set()
    assert before == closure(names, edges)


@given(dags(max_nodes=8))
def test_extra_waiting_with_parallel_states_only_is_exactly_what_is_reported(dag):
    names, edges = dag
    definition, added = compile_dag(names, edges, "nested")
    before, _ = order_of(definition)
    assert before == closure(names, edges | added)


def test_the_n_shape_gets_one_reported_wait_with_parallel_states_only():
    _definition, added = compile_dag(["a", "b", "c", "d"], {("a", "c"), ("b", "c"), ("b", "d")}, "nested")
    assert len(added) == 1


def test_the_n_shape_waits_for_exactly_its_needs_by_default():
    edges = {("a", "c"), ("b", "c"), ("b", "d")}
    definition, added = compile_dag(["a", "b", "c", "d"], edges)
    assert added == set()
    network = definition["States"][definition["States"][definition["StartAt"]]["Next"]]
    assert marker_waits(network["Branches"]) == {"c": ["a", "b"]}  # one wait for both needs
    chains = [[s for s in branch["States"] if "." not in s] for branch in network["Branches"]]
    assert chains == [["a"], ["b", "d"], ["c"]]


def test_a_cut_keeps_its_before_part_first():
    """Found by hypothesis: the part after a cut may hold the step with the lowest index."""
    names = ["s0", "s1", "s2", "s3", "s4", "s5"]
    edges = {("s1", "s3"), ("s1", "s4"), ("s1", "s5"), ("s2", "s3")}
    definition, _ = compile_dag(names, edges, "nested")
    before, _ = order_of(definition)
    assert edges <= before
