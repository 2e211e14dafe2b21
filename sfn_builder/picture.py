"""Pictures of a compiled state machine: SVG, PNG, Mermaid and DOT.

The picture shows the flow people reason about: steps, choices, parallel
blocks and Map states, nested as they run. The failure path the compiler adds
to every task (alert, then fail) is drawn once per task as a red mark rather
than as two more boxes, so that a 30-step workflow stays readable.

SVG is laid out here (layers top to bottom, parallel branches side by side),
so it needs nothing installed; PNG is drawn by Graphviz's `dot` from the DOT
text, when Graphviz is installed.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from .asl import inner_blocks
from .markers import marker_waits
from .naming import GATE_ROLES, gate_role, marker_role

_FAILURE_SUFFIXES = (".alert", ".failed", ".rethrow", ".unmatched")
_RULE_FAILURE = re.compile(r"\.rule-\d+(\.alert)?\Z")  # a choice rule that leads to fail
NODE_HEIGHT = 36
LEGEND_HEIGHT = 24
GAP_X, GAP_Y, PAD = 28, 44, 14
CHAR_WIDTH = 7.2
COLORS = {
    "Task": ("#e8f1fb", "#3b73b9"),
    "Choice": ("#fff4d6", "#b98a10"),
    "Parallel": ("#f7f7f7", "#888888"),
    "Map": ("#f3ecfb", "#7a4fb0"),
    "Succeed": ("#e5f6e8", "#2e8b4a"),
    "Fail": ("#fbe7e7", "#c0392b"),
    "Pass": ("#f0f0f0", "#777777"),
    "Wait": ("#f0f0f0", "#777777"),
}


class GraphvizMissing(RuntimeError):
    """PNG output needs Graphviz's `dot` program."""


def render(definition: dict[str, Any], output_format: str, title: str = "") -> str | bytes:
    definition = without_resume_gates(definition)
    if output_format == "mermaid":
        return to_mermaid(definition)
    if output_format == "dot":
        return to_dot(definition, title)
    if output_format == "svg":
        return to_svg(definition, title)
    return to_png(definition, title)


def without_resume_gates(block: dict[str, Any]) -> dict[str, Any]:
    """The definition as people reason about it: each step's gates (resume, cache lookup) and the
    states that reuse an earlier result left out, transitions going to the step itself; completion
    markers left out, transitions going to the state after them."""

    def target(name: str) -> str | None:
        while marker_role(name):  # a completion marker: on to the state after it
            body = block["States"][name]
            name = body.get("Next") or body.get("Default")
            if name is None:
                return None
        return name.rpartition(".")[0] if gate_role(name) in GATE_ROLES else name

    def state(body: dict[str, Any]) -> dict[str, Any]:
        body = dict(body)
        for key in ("Next", "Default"):
            if key in body:
                body[key] = target(body[key])
                if body[key] is None:
                    del body[key]
                    body["End"] = True
        if "Choices" in body:
            body["Choices"] = [{**rule, "Next": target(rule["Next"])} for rule in body["Choices"]]
        if "Catch" in body:
            body["Catch"] = [{**catch, "Next": target(catch["Next"])} for catch in body["Catch"]]
        if "Branches" in body:
            branches = [without_resume_gates(branch) for branch in body["Branches"]]
            waits = marker_waits(body["Branches"])
            body["Branches"] = [_one_block(branches, waits)] if waits else branches
        if "ItemProcessor" in body:
            body["ItemProcessor"] = without_resume_gates(body["ItemProcessor"])
        return body

    states = {name: state(body) for name, body in block["States"].items() if gate_role(name) is None}
    return {**block, "StartAt": target(block["StartAt"]), "States": states}


def _one_block(branches: list[dict[str, Any]], waits: dict[str, list[str]]) -> dict[str, Any]:
    """A Parallel whose branches wait for each other's completion markers, drawn as the graph it runs:
    one block, an arrow from each step waited for to the step that waits."""
    states: dict[str, Any] = {}
    for branch in branches:
        for name, body in branch["States"].items():
            states[name] = {**body, "Edges": _edges(body, branch["States"])}
    for step, needs in waits.items():
        for need in needs:
            if need in states:
                states[need]["Edges"].append((step, ""))
    return {"StartAt": branches[0]["StartAt"], "States": states}


def is_failure_state(name: str) -> bool:
    return name.endswith(_FAILURE_SUFFIXES) or ".unmatched." in name or bool(_RULE_FAILURE.search(name))


def _edges(body: dict[str, Any], states: dict[str, Any]) -> list[tuple[str, str]]:
    """(target, label) of a state's visible transitions.

    A transition into an alert is drawn to the state after it: a user's `fail` step
    (its alert is the compiler's) and a choice's route to `fail` stay connected; the
    failure path the compiler adds to a task is not drawn (the task's red mark says it).
    A node of the steps view lists its edges itself.
    """
    if "Edges" in body:
        return [tuple(edge) for edge in body["Edges"]]  # type: ignore[misc]
    out: list[tuple[str, str]] = []
    for index, rule in enumerate(body.get("Choices", []), start=1):
        out.append((rule["Next"], _rule_label(rule, index)))
    if "Default" in body:
        out.append((body["Default"], "default"))
    choice_targets = {_through_alert(target, states) for target, _ in out}
    if "Next" in body:
        out.append((body["Next"], ""))
    for catch in body.get("Catch", []):
        out.append((catch["Next"], "on " + ", ".join(catch["ErrorEquals"])))
    merged: dict[str, list[str]] = {}
    for target, label in out:
        shown = _through_alert(target, states)
        if not is_failure_state(shown) or shown in choice_targets:
            merged.setdefault(shown, []).append(label)
    return [(target, " / ".join(label for label in labels if label)) for target, labels in merged.items()]


def _through_alert(target: str, states: dict[str, Any]) -> str:
    body = states.get(target, {})
    if is_failure_state(target) and body.get("Type") == "Task" and "Next" in body:
        return body["Next"]
    return target


def _fails(body: dict[str, Any]) -> bool:
    """Whether a state leads to the compiler's failure path (alert, then fail): a task on error,
    or the last step of a catch's handler path."""
    targets = [c["Next"] for c in body.get("Catch", [])] + ([body["Next"]] if "Next" in body else [])
    return any(is_failure_state(target) for target in targets)


def _rule_label(rule: dict[str, Any], index: int) -> str:
    for key, value in rule.items():
        if key in ("Next", "Variable"):
            continue
        if key == "Not":
            inner = _rule_label(value, index)
            return inner.replace(" = ", " ≠ ") if " = " in inner else f"not ({inner})"
        if key in ("And", "Or"):
            return f"{'all' if key == 'And' else 'any'} of {len(value)} tests"
        variable = rule.get("Variable", "").removeprefix("$.").replace("steps.", "").replace(".content", "")
        test = key.removesuffix("Path")
        for word in ("String", "Numeric", "Boolean", "Timestamp"):
            test = test.removeprefix(word)
        symbol = {
            "Equals": "=",
            "GreaterThan": ">",
            "GreaterThanEquals": ">=",
            "LessThan": "<",
            "LessThanEquals": "<=",
            "Matches": "~",
            "IsPresent": "present",
            "IsNull": "null",
        }.get(test, test)
        shown = str(value).removeprefix("$.") if isinstance(value, str) else str(value).lower()
        return f"{variable.split('.')[-1]} {symbol} {shown}"
    return f"rule {index}"


def _visible(block: dict[str, Any]) -> list[str]:
    states = block["States"]
    shown = {t for body in states.values() for t, _ in _edges(body, states)}
    return [name for name in states if not is_failure_state(name) or name in shown]


def _dashed(label: str) -> bool:
    """A transition taken on an error, or a wait the compiler added."""
    return label.startswith("on ") or label == ADDED_WAIT


ADDED_WAIT = "added wait"
_STEP_TYPES = {"choice": "Choice", "wait": "Wait", "succeed": "Succeed", "fail": "Fail"}


def steps_view(workflow: Any, graph: Any, plan: Any) -> dict[str, Any]:
    """The spec's own dependency graph as a block the renderers draw: a node per step, an edge per
    need, choice route and catch, and a dashed edge per wait the compiler had to add."""
    edges: dict[str, list[tuple[str, str]]] = {name: [] for name in workflow.steps}
    for name, needs in graph.needs.items():
        for need in needs:
            edges[need].append((name, ""))
    for target, jumps in graph.jumps.items():
        for jump in jumps:
            edges[jump.source].append((target, "on error" if jump.kind == "catch" else "choice"))
    for added in plan.added:
        edges[added.waits_for].append((added.step, ADDED_WAIT))
    steps = workflow.steps.items()
    states = {name: {"Type": _STEP_TYPES.get(step.type, "Task"), "Edges": edges[name]} for name, step in steps}
    return {"StartAt": next(iter(workflow.steps)), "States": states}


# -- Mermaid and DOT ---------------------------------------------------------


LEGEND_NOTE = "dashed arrows: on error, or a wait the compiler added; diamonds: choices; rounded: succeed and fail"


def to_mermaid(definition: dict[str, Any]) -> str:
    lines = ["flowchart TD", f"  %% {LEGEND_NOTE}"]
    ids: dict[str, str] = {}

    def node_id(name: str) -> str:
        return ids.setdefault(name, f"s{len(ids)}")

    def block(states: dict[str, Any], visible: list[str], indent: str) -> None:
        for name in visible:
            body = states[name]
            label = name.replace('"', "'")
            kind = body["Type"]
            if kind in ("Parallel", "Map"):
                lines.append(f'{indent}subgraph {node_id(name)}["{label} ({kind.lower()})"]')
                lines.append(f"{indent}  direction TB")
                for branch in inner_blocks(body):
                    block(branch["States"], _visible(branch), indent + "  ")
                lines.append(f"{indent}end")
            elif kind == "Choice":
                lines.append(f'{indent}{node_id(name)}{{"{label}"}}')
            elif kind in ("Succeed", "Fail"):
                lines.append(f'{indent}{node_id(name)}(["{label}"])')
            else:
                lines.append(f'{indent}{node_id(name)}["{label}"]')
        for name in visible:
            for target, label in _edges(states[name], states):
                line = "-.->" if _dashed(label) else "-->"
                arrow = f'{line}|"{label}"|' if label else line
                lines.append(f"{indent}{node_id(name)} {arrow} {node_id(target)}")

    block(definition["States"], _visible(definition), "  ")
    return "\n".join(lines) + "\n"


def to_dot(definition: dict[str, Any], title: str = "") -> str:
    """DOT text; a Parallel or Map is a dashed cluster between a fork and a join point."""
    lines = [
        "digraph workflow {",
        f"  // {LEGEND_NOTE}",
        f'  label="{_dot_escape(title)}"; labelloc=t; fontname="Helvetica";',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    counter = [0]

    def entry(states: dict[str, Any], name: str) -> str:
        return f"{name}.fork" if states[name]["Type"] in ("Parallel", "Map") else name

    def exit_(states: dict[str, Any], name: str) -> str:
        return f"{name}.join" if states[name]["Type"] in ("Parallel", "Map") else name

    def block(states: dict[str, Any], visible: list[str], indent: str) -> list[str]:
        """Draw a States block; return its end states (where a branch finishes)."""
        ends = []
        for name in visible:
            body = states[name]
            kind = body["Type"]
            fill, line = COLORS.get(kind, COLORS["Pass"])
            if kind in ("Parallel", "Map"):
                counter[0] += 1
                lines.append(f"{indent}subgraph cluster_{counter[0]} {{")
                lines.append(
                    f'{indent}  label="{_dot_escape(name)} ({kind.lower()})"; style="dashed,filled"; '
                    f'fillcolor="{fill}"; color="{line}"; fontsize=10;'
                )
                fork, join = _dot_escape(f"{name}.fork"), _dot_escape(f"{name}.join")
                lines.append(f'{indent}  "{fork}" [shape=point, width=0.08];')
                lines.append(f'{indent}  "{join}" [shape=point, width=0.08];')
                for branch in inner_blocks(body):
                    branch_states = branch["States"]
                    branch_ends = block(branch_states, _visible(branch), indent + "  ")
                    start = _dot_escape(entry(branch_states, branch["StartAt"]))
                    lines.append(f'{indent}  "{fork}" -> "{start}";')
                    for end in branch_ends:
                        lines.append(f'{indent}  "{_dot_escape(exit_(branch_states, end))}" -> "{join}";')
                lines.append(f"{indent}}}")
            else:
                shape = "diamond" if kind == "Choice" else "box"
                style = '"filled"' if kind == "Choice" else '"rounded,filled"'
                lines.append(
                    f'{indent}"{_dot_escape(name)}" [label="{_dot_escape(name)}", shape={shape}, '
                    f'style={style}, fillcolor="{fill}", color="{line}"];'
                )
            if body.get("End") or kind == "Succeed":
                ends.append(name)
            for target, label in _edges(body, states):
                style = ", style=dashed" if _dashed(label) else ""
                lines.append(
                    f'{indent}"{_dot_escape(exit_(states, name))}" -> '
                    f'"{_dot_escape(entry(states, target))}" [label="{_dot_escape(label)}"{style}];'
                )
        return ends

    block(definition["States"], _visible(definition), "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_png(definition: dict[str, Any], title: str = "") -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            "PNG output needs Graphviz's `dot` program, which is not installed "
            "(apt-get install graphviz, or brew install graphviz); SVG, Mermaid and DOT need nothing"
        )
    result = subprocess.run(
        [dot, "-Tpng"], input=to_dot(definition, title).encode(), capture_output=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise GraphvizMissing(f"Graphviz failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


# -- SVG ---------------------------------------------------------------------


@dataclass
class _Box:
    """A laid-out state: leaf box, or container of laid-out branches."""

    name: str
    kind: str
    failing: bool
    width: float = 0
    height: float = 0
    x: float = 0
    y: float = 0
    branches: list[_Layout] = field(default_factory=list)


@dataclass
class _Layout:
    """A States block laid out in layers."""

    start: str
    boxes: dict[str, _Box]
    layers: list[list[str]]
    edges: list[tuple[str, str, str]]
    width: float = 0
    height: float = 0
    x: float = 0
    y: float = 0


def _layout(block: dict[str, Any]) -> _Layout:
    states = block["States"]
    visible = _visible(block)
    edges = [(name, target, label) for name in visible for target, label in _edges(states[name], states)]
    depth = {name: 0 for name in visible}
    order = _topological(block["StartAt"], visible, edges)
    for name in order:
        for source, target, _ in edges:
            if source == name and target in depth:
                depth[target] = max(depth[target], depth[name] + 1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for name in order:
        layers[depth[name]].append(name)
    boxes = {}
    for name in visible:
        body = states[name]
        box = _Box(name, body["Type"], _fails(body))
        if box.kind in ("Parallel", "Map"):
            box.branches = [_layout(b) for b in inner_blocks(body)]
            box.width = sum(b.width for b in box.branches) + GAP_X * (len(box.branches) - 1) + 2 * PAD
            box.width = max(box.width, len(name) * CHAR_WIDTH + 2 * PAD)
            box.height = max(b.height for b in box.branches) + 2 * PAD + 18
        else:
            box.width = max(90, len(name) * CHAR_WIDTH + 28 + (14 if box.failing else 0))
            box.height = NODE_HEIGHT
        boxes[name] = box
    layout = _Layout(block["StartAt"], boxes, [layer for layer in layers if layer], edges)
    layout.width = max(sum(boxes[n].width for n in layer) + GAP_X * (len(layer) - 1) for layer in layout.layers)
    layout.height = sum(max(boxes[n].height for n in layer) for layer in layout.layers)
    layout.height += GAP_Y * (len(layout.layers) - 1)
    return layout


def _topological(start: str, names: list[str], edges: list[tuple[str, str, str]]) -> list[str]:
    incoming = {name: 0 for name in names}
    for source, target, _ in edges:
        if source in incoming and target in incoming:
            incoming[target] += 1
    ready = [start] if start in incoming and incoming[start] == 0 else []
    ready += [n for n in names if incoming[n] == 0 and n != start]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for source, target, _ in edges:
            if source == name and target in incoming:
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
    return order + [n for n in names if n not in order]


def _place(layout: _Layout, x: float, y: float) -> None:
    layout.x, layout.y = x, y
    top = y
    for layer in layout.layers:
        row_width = sum(layout.boxes[n].width for n in layer) + GAP_X * (len(layer) - 1)
        left = x + (layout.width - row_width) / 2
        row_height = max(layout.boxes[n].height for n in layer)
        for name in layer:
            box = layout.boxes[name]
            box.x, box.y = left, top + (row_height - box.height) / 2
            left += box.width + GAP_X
            if box.branches:
                inner_left = (
                    box.x + (box.width - (sum(b.width for b in box.branches) + GAP_X * (len(box.branches) - 1))) / 2
                )
                for branch in box.branches:
                    _place(branch, inner_left, box.y + PAD + 18)
                    inner_left += branch.width + GAP_X
        top += row_height + GAP_Y


def to_svg(definition: dict[str, Any], title: str = "") -> str:
    layout = _layout(definition)
    margin = 20
    header = 30 if title else 0
    _place(layout, margin, margin + header)
    width, height = max(layout.width + 2 * margin, 720), layout.height + 2 * margin + header + LEGEND_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    if title:
        parts.append(
            f'<text x="{margin}" y="{margin + 14}" font-size="16" font-weight="bold">{html.escape(title)}</text>'
        )
    _draw(layout, parts)
    parts += _legend(margin, margin + header + layout.height + margin / 2)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


LEGEND = (
    ("Task", "task"),
    ("Choice", "choice"),
    ("Map", "for_each (Map)"),
    ("Parallel", "parallel"),
    ("Succeed", "succeed"),
    ("Fail", "fail"),
)


def _legend(x: float, y: float) -> list[str]:
    """A row under the picture: what the colours, the red mark and the dashed arrows mean."""
    parts = []
    for kind, meaning in LEGEND:
        fill, line = COLORS[kind]
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="12" height="12" rx="3" fill="{fill}" stroke="{line}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="{y + 10:.0f}" font-size="10">{meaning}</text>')
        x += 24 + len(meaning) * 6
    parts.append(f'<circle cx="{x + 6:.0f}" cy="{y + 6:.0f}" r="4" fill="#c0392b"/>')
    parts.append(f'<text x="{x + 14:.0f}" y="{y + 10:.0f}" font-size="10">alerts and fails on error</text>')
    x += 160
    parts.append(
        f'<path d="M {x:.0f} {y + 6:.0f} L {x + 24:.0f} {y + 6:.0f}" stroke="#555" stroke-dasharray="4 3" '
        'marker-end="url(#arrow)"/>'
    )
    parts.append(f'<text x="{x + 30:.0f}" y="{y + 10:.0f}" font-size="10">on error, or an added wait</text>')
    return parts


def _draw(layout: _Layout, parts: list[str]) -> None:
    for source, target, label in layout.edges:
        a, b = layout.boxes[source], layout.boxes[target]
        x1, y1 = a.x + a.width / 2, a.y + a.height
        x2, y2 = b.x + b.width / 2, b.y
        dashed = ' stroke-dasharray="4 3"' if _dashed(label) else ""
        if y2 > y1:
            mid = y1 + GAP_Y / 3
            path = f"M {x1:.1f} {y1:.1f} L {x1:.1f} {mid:.1f} L {x2:.1f} {mid:.1f} L {x2:.1f} {y2:.1f}"
        else:  # a jump back up (not produced today, drawn plainly if it is)
            path = f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}"
        parts.append(
            f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"{dashed}/>'
        )
        if label:
            shown = label if len(label) <= 34 else label[:33] + "…"
            parts.append(
                f'<text x="{x2:.1f}" y="{y2 - 5:.1f}" font-size="10" text-anchor="middle" '
                f'fill="#444"><title>{html.escape(label)}</title>{html.escape(shown)}</text>'
            )
    for box in layout.boxes.values():
        fill, line = COLORS.get(box.kind, COLORS["Pass"])
        if box.branches:
            parts.append(
                f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
                f'rx="6" fill="{fill}" stroke="{line}" stroke-dasharray="5 3"/>'
            )
            parts.append(
                f'<text x="{box.x + 8:.1f}" y="{box.y + 15:.1f}" fill="{line}" font-weight="bold">'
                f"{html.escape(box.name)} ({box.kind.lower()})</text>"
            )
            for branch in box.branches:
                _draw(branch, parts)
            continue
        radius = 18 if box.kind in ("Succeed", "Fail") else 6
        parts.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
            f'rx="{radius}" fill="{fill}" stroke="{line}" stroke-width="1.4"/>'
        )
        if box.kind == "Choice":
            parts.append(f'<text x="{box.x + 6:.1f}" y="{box.y + 11:.1f}" font-size="9" fill="{line}">choice</text>')
        parts.append(
            f'<text x="{box.x + box.width / 2:.1f}" y="{box.y + box.height / 2 + 4:.1f}" '
            f'text-anchor="middle">{html.escape(box.name)}</text>'
        )
        if box.failing:
            parts.append(
                f'<circle cx="{box.x + box.width - 10:.1f}" cy="{box.y + 10:.1f}" r="4" fill="#c0392b">'
                "<title>alerts and fails the workflow on error</title></circle>"
            )
