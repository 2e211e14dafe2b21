"""Mutated specs never crash the compiler: every outcome is problems or a definition."""

from __future__ import annotations

from conftest import WORKFLOWS
from hypothesis import given
from hypothesis import strategies as st

from sfn_builder.compiler import compile_analysis
from sfn_builder.loader import load_text
from sfn_builder.problems import SpecError
from sfn_builder.validate import analyze

TEXTS = [w.read_text() for w in WORKFLOWS]
VALUES = [
    "1",
    "-1",
    "0",
    "[]",
    "{}",
    "null",
    "true",
    "'x'",
    "[a, b]",
    "{a: 1}",
    "'${input.x}'",
    "'${steps.train.x}'",
    "'${item}'",
    "fail",
    "succeed",
    "2h",
    "'s3://b/k'",
    "/opt/ml/processing/x",
    "'${'",
    "ml.m5.xlarge",
    "[fail]",
]


@st.composite
def mutated_specs(draw):
    lines = draw(st.sampled_from(TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "replace"]))
        if operation == "delete":
            del lines[n]
        elif operation == "duplicate":
            lines.insert(n, lines[draw(st.integers(0, len(lines) - 1))])
        elif ":" in lines[n]:
            lines[n] = lines[n].split(":", 1)[0] + ": " + draw(st.sampled_from(VALUES))
    return "\n".join(lines) + "\n"


@given(mutated_specs())
def test_a_mutated_spec_gives_problems_or_a_definition(text):
    try:
        document = load_text(text, "mutated.yaml")
    except SpecError as error:
        assert error.problems
        return
    compilation = compile_analysis(analyze(document))
    assert compilation.ok or any(p.is_error for p in compilation.problems)
    for problem in compilation.problems:
        assert problem.render().startswith("mutated.yaml")
