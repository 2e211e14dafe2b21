"""The command line: exit codes, messages, files written, and no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import MINIMAL, ROOT, WORKFLOWS


def test_validate_all_examples(cli):
    code, out, err = cli("validate", *map(str, WORKFLOWS))
    assert code == 0, err
    assert out.count(": valid (") == len(WORKFLOWS)


def test_validate_reports_errors_and_exits_1(cli, write_spec):
    bad = write_spec(MINIMAL.replace("ml.m5.xlarge", "ml.m5.xlarg"))
    good = write_spec(MINIMAL, "good.yaml")
    code, out, err = cli("validate", good, bad)
    assert code == 1
    assert f"{good}: valid (1 step)" in out
    assert f"{bad}:7:20: error: defaults.sagemaker.instance_type: 'ml.m5.xlarg' is not an instance type" in err
    assert "hint: did you mean 'ml.m5.xlarge'" in err
    assert f"{bad}: 1 error" in err


def test_compile_writes_the_definition(cli, write_spec, tmp_path):
    target = tmp_path / "out.json"
    code, _, err = cli("compile", write_spec(MINIMAL), "-o", str(target))
    assert code == 0, err
    assert json.loads(target.read_text())["States"]["prep"]["Type"] == "Task"


def test_compile_to_stdout(cli, write_spec):
    code, out, _ = cli("compile", write_spec(MINIMAL))
    assert code == 0
    assert json.loads(out)["StartAt"] == "input.read"  # no defaults to merge


def test_compile_of_an_invalid_spec_writes_nothing(cli, write_spec, tmp_path):
    target = tmp_path / "out.json"
    code, out, err = cli(
        "compile", write_spec(MINIMAL.replace("type: processing", "type: procesing")), "-o", str(target)
    )
    assert code == 1
    assert "unknown step type 'procesing'" in err
    assert not target.exists() and out == ""


def test_unwritable_output_is_a_clear_error(cli, write_spec, tmp_path):
    code, _, err = cli("compile", write_spec(MINIMAL), "-o", str(tmp_path / "no" / "such" / "dir.json"))
    assert code == 1
    assert "cannot write" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [(), ("compile",), ("frobnicate", "x.yaml"), ("validate",), ("graph", "x.yaml"), ("compile", "a", "b")],
)
def test_usage_errors_exit_2(cli, args):
    code, _, err = cli(*args)
    assert code == 2
    assert "usage: sfn-build" in err


def test_graph_format_must_be_known(cli, write_spec, tmp_path):
    code, _, err = cli("graph", write_spec(MINIMAL), "-o", str(tmp_path / "g.gif"))
    assert code == 2
    assert "cannot tell the format" in err


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01",
        b"\xff\xfe",
        b"- 1\n",
        b"version: [\n",
        b"a: *x\n",
        b"{}",
        b"steps: 3\n",
        b"version: 1\nname: x\nsteps: {a: {type: choice, choices: [{}]}}\n",
        b"version: 1\nname: x\nsteps: {a: {type: processing, inputs: [{}], arguments: 5}}\n",
    ],
)
def test_bad_input_never_shows_a_traceback(cli, tmp_path, content):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    for command in ("validate", "compile"):
        code, _, err = cli(command, str(path))
        assert code == 1, err
        assert "Traceback" not in err and "internal error" not in err
        assert err.startswith(str(path))


def test_console_script_runs_without_aws_credentials_or_region(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)  # no ~/.aws either
    result = subprocess.run(
        [sys.executable, "-m", "sfn_builder", "compile", str(ROOT / "workflows" / "churn-training.yaml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["StartAt"] == "input.defaults"
    assert result.stderr == "", "the SDKs' warnings and log lines must not reach users"


def test_the_readme_spec_is_valid(tmp_path):
    import re

    from sfn_builder.validate import analyze_file

    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "version: 1" in b)
    path = tmp_path / "readme.yaml"
    path.write_text(block)
    analysis = analyze_file(str(path))
    assert analysis.ok and not analysis.problems, [p.render() for p in analysis.problems]


def test_validate_can_report_problems_as_json_for_ci_and_editors(cli, write_spec):
    spec = write_spec("version: 1\nname: demo\nsteps:\n  a:\n    type: wait\n    needs: [b]\n    seconds: 1\n")
    code, out, err = cli("validate", spec, "--format", "json")
    assert code == 1 and err == ""
    (problem,) = json.loads(out)
    assert problem == {
        "file": spec,
        "line": 6,
        "column": 13,
        "severity": "error",
        "path": "steps.a.needs[0]",
        "message": "there is no step 'b'",
        "hint": problem["hint"],
    }


def test_a_warning_is_shown_once_per_command(cli, write_spec):
    spec = write_spec(
        "version: 1\nname: demo\nsteps:\n  tell:\n    type: lambda\n    function: f\n"
        "    payload: {}\n    retry: [{errors: [States.ALL]}]\n  pause:\n    type: wait\n    seconds: 1\n"
        "    retry: [{errors: [States.ALL]}]\n"
    )
    for command in (["validate"], ["compile", "-o", "-"], ["simulate"]):
        code, _, err = cli(*command[:1], spec, *command[1:])
        assert code == 0, err
        assert err.count("'retry' has no effect on a wait step") == 1, (command, err)
