"""A task's request against the 256 KiB Step Functions gives a task's input.

Past it the execution ends with States.DataLimitExceeded, which no retry or catch handles (so no step
alert): `validate` refuses what the spec writes literally, at the field that holds it, and `simulate`
fails a run whose evaluated Parameters pass it, as AWS does.
"""

from __future__ import annotations

import json

import pytest

from sfn_builder.validate import analyze_file

LIMIT = 256 * 1024
HEAD = """\
version: 1
name: sized
input:
  blob: {type: string, default: x}
notifications:
  topic: {name: sized-alerts}
steps:
"""


def lambda_step(payload: str, *, name: str = "call", more: str = "") -> str:
    return (
        f"  {name}:\n    type: lambda\n    function: arn:aws:lambda:eu-west-1:111122223333:function:f\n"
        f"{more}    payload:\n{payload}"
    )


def too_large(analysis) -> list:
    return [p for p in analysis.problems if "States.DataLimitExceeded" in p.message]


@pytest.mark.parametrize(
    ("payload", "line", "path"),
    [
        # one value too large alone: placed at it
        (f"      data: {'x' * (LIMIT + 10)}\n", 12, ("steps", "call", "payload", "data")),
        # many values, none too large alone, together past the limit: placed at the payload
        ("".join(f"      k{i}: {'x' * 30_000}\n" for i in range(9)), 11, ("steps", "call", "payload")),
        # the text around a reference is literal: it counts
        (f"      data: 'day ${{input.blob}} {'x' * (LIMIT + 10)}'\n", 12, ("steps", "call", "payload", "data")),
    ],
)
def test_a_request_whose_written_values_pass_256_kib_is_refused_where_they_are(write_spec, payload, line, path):
    analysis = analyze_file(write_spec(HEAD + lambda_step(payload)))
    (problem,) = too_large(analysis)
    assert problem.severity.name == "ERROR" and problem.path == path and problem.position.line == line
    assert "256 KiB" in problem.message and "S3" in problem.hint


@pytest.mark.parametrize(
    "payload",
    [
        f"      data: {'x' * (LIMIT - 1000)}\n",  # under the limit with the rest of the request
        "".join(f"      k{i}: '${{input.blob}}'\n" for i in range(5_000)),  # references: known at run time only
    ],
)
def test_what_fits_or_is_known_at_run_time_only_passes(write_spec, payload):
    analysis = analyze_file(write_spec(HEAD + lambda_step(payload)))
    assert analysis.ok and not too_large(analysis), [p.render() for p in analysis.problems]


def test_a_request_member_written_in_request_is_placed_there(write_spec):
    text = HEAD + (
        "  job:\n    type: batch\n    job_queue: arn:aws:batch:eu-west-1:111122223333:job-queue/q\n"
        "    job_definition: arn:aws:batch:eu-west-1:111122223333:job-definition/d:1\n"
        "    request:\n      Parameters:\n"
        f"        big: {'x' * (LIMIT + 10)}\n"
    )
    (problem,) = too_large(analyze_file(write_spec(text)))
    assert problem.path == ("steps", "job", "request", "Parameters", "big") and problem.position.line == 14


def test_simulate_fails_a_task_whose_evaluated_input_passes_256_kib_without_a_step_alert(cli, write_spec, tmp_path):
    """Two reads of a 200 KB input value make a 400 KB task input: States.DataLimitExceeded, which the
    step's catch-all does not catch; the execution's alert is the one alert."""
    spec = write_spec(
        HEAD
        + lambda_step("      {}\n", name="first")
        + lambda_step(
            "      a: '${input.blob}'\n      b: '${input.blob}'\n",
            more="    needs: [first]\n    catch: [{errors: [States.ALL], next: succeed}]\n",
        )
    )
    given = tmp_path / "input.json"
    given.write_text(json.dumps({"blob": "y" * 200_000}))
    code, out, _ = cli("simulate", spec, "--input", f"@{given}")
    assert code == 1
    assert "failed    call            States.DataLimitExceeded" in out
    assert "Alerts published: 1" in out and "execution-alerts" in out
    code, out, _ = cli("simulate", spec, "--input", json.dumps({"blob": "y" * 100_000}))
    assert code == 0, out
