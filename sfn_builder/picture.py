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

_FAILURE_SUFFIXES = (".alert", ".failed", ".rethrow", ".unmatched")
_RULE_FAILURE = re.compile(r"\.rule-\d+(\.alert)?$")  # a choice rule that leads to fail
NODE_HEIGHT = 36
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
    if output_format == "mermaid":
        return to_mermaid(definition)
    if output_format == "dot":
        return to_dot(definition, title)
    if output_format == "svg":
        return to_svg(definition, title)
    return to_png(definition, title)


def is_failure_state(name: str) -> bool:
    return name.endswith(_FAILURE_SUFFIXES) or ".unmatched." in name or bool(_RULE_FAILURE.search(name))


def _edges(body: dict[str, Any], states: dict[str, Any]) -> list[tuple[str, str]]:
    """(target, label) of a state's visible transitions.

    A choice's route to `fail` is shown, straight to its Fail state (the alert
    before it is left out); a task's failure path is not.
    """
    out: list[tuple[str, str]] = []
    for index, rule in enumerate(body.get("Choices", []), start=1):
        out.append((_through_alert(rule["Next"], states), _rule_label(rule, index)))
    if "Default" in body:
        out.append((_through_alert(body["Default"], states), "default"))
    choice_targets = {target for target, _ in out}
    if "Next" in body:
        out.append((body["Next"], ""))
    for catch in body.get("Catch", []):
        out.append((catch["Next"], "on " + ", ".join(catch["ErrorEquals"])))
    merged: dict[str, list[str]] = {}
    for target, label in out:
        if not is_failure_state(target) or target in choice_targets:
            merged.setdefault(target, []).append(label)
    return [(target, " / ".join(label for label in labels if label)) for target, labels in merged.items()]


def _through_alert(target: str, states: dict[str, Any]) -> str:
    body = states.get(target, {})
    if is_failure_state(target) and body.get("Type") == "Task" and "Next" in body:
        return body["Next"]
    return target


def _fails(body: dict[str, Any]) -> bool:
    """Whether a task has the compiler's failure path (alert, then fail)."""
    return any(is_failure_state(c["Next"]) for c in body.get("Catch", []))


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
    shown = {t for body in states.values() if body["Type"] == "Choice" for t, _ in _edges(body, states)}
    return [name for name in states if not is_failure_state(name) or name in shown]


# -- Mermaid and DOT ---------------------------------------------------------


def to_mermaid(definition: dict[str, Any]) -> str:
    lines = ["flowchart TD"]
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
                for branch in body.get("Branches") or [body["Iterator"]]:
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
                arrow = f'-->|"{label}"|' if label else "-->"
                lines.append(f"{indent}{node_id(name)} {arrow} {node_id(target)}")

    block(definition["States"], _visible(definition), "  ")
    return "\n".join(lines) + "\n"


def to_dot(definition: dict[str, Any], title: str = "") -> str:
    """DOT text; a Parallel or Map is a dashed cluster between a fork and a join point."""
    lines = [
        "digraph workflow {",
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
                for branch in body.get("Branches") or [body["Iterator"]]:
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
                lines.append(
                    f'{indent}"{_dot_escape(exit_(states, name))}" -> '
                    f'"{_dot_escape(entry(states, target))}" [label="{_dot_escape(label)}"];'
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
            box.branches = [_layout(b) for b in body.get("Branches") or [body["Iterator"]]]
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
    width, height = layout.width + 2 * margin, layout.height + 2 * margin + header
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
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _draw(layout: _Layout, parts: list[str]) -> None:
    for source, target, label in layout.edges:
        a, b = layout.boxes[source], layout.boxes[target]
        x1, y1 = a.x + a.width / 2, a.y + a.height
        x2, y2 = b.x + b.width / 2, b.y
        dashed = ' stroke-dasharray="4 3"' if label.startswith("on ") else ""
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
