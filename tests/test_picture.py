"""`sfn-build graph`: pictures that show every step, readable at 30 steps."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ElementTree

import pytest
from conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"


def thirty_steps(write_spec) -> str:
    lines = ["version: 1", "name: thirty", "steps:"]
    for n in range(30):
        needs = [] if n < 3 else [f"step_{n - 3}"] + ([f"step_{n - 2}"] if n % 4 == 0 else [])
        lines += [f"  step_{n}:", "    type: wait", "    seconds: 1", f"    needs: [{', '.join(needs)}]"]
    return write_spec("\n".join(lines) + "\n")


def boxes(svg_text: str) -> list[tuple[float, float, float, float, str]]:
    root = ElementTree.fromstring(svg_text)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("rx") in ("6", "18") and "stroke-dasharray" not in r.attrib]
    texts = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle" and t.get("font-size") is None]
    return [
        (float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")), t.text or "")
        for r, t in zip(rects, texts, strict=True)
    ]


def test_svg_of_30_steps_is_readable(cli, write_spec, tmp_path):
    target = tmp_path / "g.svg"
    code, _, err = cli("graph", thirty_steps(write_spec), "-o", str(target))
    assert code == 0, err
    placed = boxes(target.read_text())
    names = {b[4] for b in placed}
    assert {f"step_{n}" for n in range(30)} <= names
    for a, b in [(a, b) for i, a in enumerate(placed) for b in placed[i + 1 :]]:
        apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
        assert apart, f"{a[4]} overlaps {b[4]}"
    for _x, _, width, _, name in placed:
        assert width >= len(name) * 7, f"{name} does not fit its box"
    root = ElementTree.fromstring(target.read_text())
    assert float(root.get("width")) < 2000


def test_mermaid_and_dot_name_every_step(cli, tmp_path):
    spec = str(ROOT / "workflows" / "churn-training.yaml")
    for suffix, start in (("mmd", "flowchart TD"), ("dot", "digraph workflow")):
        target = tmp_path / f"g.{suffix}"
        assert cli("graph", spec, "-o", str(target))[0] == 0
        text = target.read_text()
        assert text.startswith(start)
        for step in ("clean_events", "clean_users", "shard_features", "train", "evaluate", "quality_gate", "register"):
            assert step in text
    assert '"quality_gate" -> "register"' in (tmp_path / "g.dot").read_text()


@pytest.mark.skipif(shutil.which("dot") is None, reason="PNG needs Graphviz's dot (installed by .ci/run)")
def test_png(cli, tmp_path):
    target = tmp_path / "g.png"
    code, _, err = cli("graph", str(ROOT / "workflows" / "modeling-units.yaml"), "-o", str(target))
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_graphviz_is_a_clear_error(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = cli("graph", str(ROOT / "workflows" / "modeling-units.yaml"), "-o", str(tmp_path / "g.png"))
    assert code == 1
    assert "PNG output needs Graphviz" in err


def test_every_edge_is_kept_a_user_fail_step_reached_by_a_catch_included(cli, write_spec, tmp_path):
    spec = write_spec(
        "version: 1\nname: edges\nsteps:\n"
        "  work:\n    type: lambda\n    function: f\n    catch: [{errors: [States.ALL], next: tidy}]\n"
        "  tidy:\n    type: lambda\n    function: g\n    catch: [{errors: [States.ALL], next: give_up}]\n"
        "  give_up:\n    type: fail\n    error: TidyFailed\n"
    )
    target = tmp_path / "g.dot"
    assert cli("graph", spec, "-o", str(target))[0] == 0
    text = target.read_text()
    assert '"work" -> "tidy" [label="on States.ALL", style=dashed];' in text
    assert '"tidy" -> "give_up" [label="on States.ALL", style=dashed];' in text


def test_the_steps_view_draws_the_spec_s_graph_with_the_added_waits_dashed(cli, write_spec, tmp_path):
    spec = write_spec(  # an "N": c needs a; d needs a and b: expressing it with Parallel states adds a wait
        "version: 1\nname: n\nparallelism: nested\nsteps:\n"
        "  a: {type: wait, seconds: 1}\n  b: {type: wait, seconds: 1}\n"
        "  c: {type: wait, seconds: 1, needs: [a]}\n  d: {type: wait, seconds: 1, needs: [a, b]}\n"
    )
    target = tmp_path / "g.mmd"
    code, _, err = cli("graph", spec, "--view", "steps", "-o", str(target))
    assert code == 0, err
    text = target.read_text()
    ids = {line.split('["')[1].split('"')[0]: line.split("[")[0].strip() for line in text.splitlines() if '["' in line}
    assert f"{ids['a']} --> {ids['c']}" in text and f"{ids['b']} --> {ids['d']}" in text
    assert '-.->|"added wait"|' in text


def test_the_svg_has_a_legend(cli, tmp_path):
    target = tmp_path / "g.svg"
    assert cli("graph", str(ROOT / "workflows" / "churn-training.yaml"), "-o", str(target))[0] == 0
    text = target.read_text()
    for meaning in ("task", "choice", "for_each (Map)", "alerts and fails on error", "on error, or an added wait"):
        assert f">{meaning}</text>" in text
