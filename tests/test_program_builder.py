"""moto's programs built from the definitions' JSON (module `program_builder`) are the programs moto's own
parser makes, component by component, and what the builder does not make goes to that parser."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, WORKFLOWS

sys.path.insert(0, str(ROOT / "bench"))

from specs import spec

from sfn_builder.asl import compact
from sfn_builder.compiler import compile_analysis
from sfn_builder.loader import load_text
from sfn_builder.simulate import interpreter
from sfn_builder.validate import analyze, analyze_file

SPECS = [*WORKFLOWS, *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


def difference(ours: Any, moto: Any, path: str = "program") -> str | None:
    """Where two component trees differ (types, values, lists, mappings, attributes), or None."""
    if type(ours) is not type(moto):
        return f"{path}: {type(ours).__name__} is not {type(moto).__name__}"
    if isinstance(ours, str | int | float | bool | enum.Enum) or ours is None:
        return None if ours == moto else f"{path}: {ours!r} != {moto!r}"
    if isinstance(ours, list | tuple):
        if len(ours) != len(moto):
            return f"{path}: {len(ours)} items, not {len(moto)}"
        found = (difference(a, b, f"{path}[{n}]") for n, (a, b) in enumerate(zip(ours, moto, strict=True)))
        return next((each for each in found if each), None)
    if isinstance(ours, dict):
        if list(ours) != list(moto):
            return f"{path}: keys {list(ours)} != {list(moto)}"
        return next((d for key in ours if (d := difference(ours[key], moto[key], f"{path}.{key}"))), None)
    if not hasattr(ours, "__dict__"):
        return None if ours == moto else f"{path}: {ours!r} != {moto!r}"
    return difference(vars(ours), vars(moto), path)


def definitions(compilation: Any) -> list[str]:
    assert compilation.ok, compilation.problems
    texts = [compilation.compact_json(), *(compact(part) for part in compilation.parts.values())]
    return [interpreter._with_simulated_items(text) for text in texts]


def built_and_parsed(text: str) -> tuple[Any, Any]:
    from sfn_builder.simulate.program_builder import build_program

    interpreter.install()
    return build_program(text, interpreter.two_stage_parse), interpreter.two_stage_parse(text)


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.name)
def test_every_example_s_program_is_the_one_moto_s_parser_makes(path: Path):
    for text in definitions(compile_analysis(analyze_file(str(path)))):
        built, parsed = built_and_parsed(text)
        assert built is not None
        assert difference(built, parsed) is None


@pytest.mark.parametrize("shape", ["chain", "fanout", "dag"])
def test_the_bench_graphs_programs_with_their_markers_are_the_ones_moto_s_parser_makes(shape: str):
    notifications = "notifications: {topic: {name: bench-alerts}}\n"
    for text in definitions(compile_analysis(analyze(load_text(notifications + spec(shape, 40), "bench.yaml")))):
        built, parsed = built_and_parsed(text)
        assert difference(built, parsed) is None


def _program(states: dict[str, Any]) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states}, ensure_ascii=False)


def test_a_state_the_builder_does_not_make_is_parsed_by_moto_and_the_rest_built():
    text = _program(
        {
            "first": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.r", "Next": "jsonata"},
            "jsonata": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "Next": "last"},
            "last": {"Type": "Succeed"},
        }
    )
    built, parsed = built_and_parsed(text)
    assert built is not None
    assert difference(built, parsed) is None


def test_strings_keep_what_moto_reads_of_their_escapes():
    """State names, paths and literal values with escapes: moto reads some as written and some decoded."""
    text = (
        '{"StartAt": "caf\\u00e9", "States": {"caf\\u00e9": {"Type": "Pass", "Comment": "a \\"quoted\\" word",'
        ' "Parameters": {"say": "tab\\there", "who.$": "States.Format(\'{} \\"x\\"\', $.name)"}, "Next": "end"},'
        ' "end": {"Type": "Fail", "Error": "E\\u0021", "Cause": "line\\nbreak"}}}'
    )
    built, parsed = built_and_parsed(text)
    assert built is not None
    assert difference(built, parsed) is None


def test_a_value_written_two_ways_is_left_to_moto_s_parser():
    text = '{"StartAt": "a", "States": {"a": {"Type": "Pass", "Result": ["caf\\u00e9", "café"], "End": true}}}'
    built, parsed = built_and_parsed(text)
    assert built is None
    assert difference(interpreter.program_of(text), parsed) is None


def test_a_definition_moto_cannot_read_still_gets_moto_s_error():
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException

    interpreter.install()
    with pytest.raises(ASLParserException):
        interpreter.program_of('{"StartAt": "a", "States": {"a": {"Type": "Nope"}}}')


@pytest.mark.parametrize(
    "text",
    [
        "States.Format('bench-{}', States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 4))",
        "States.Format('a \\{b\\} it\\'s {} \\\\ done', $.steps.x[0].y)",
        "States.Format('{}', States.Format('\\{{}\\}', $.a))",
        "States.Hash($$.Execution.Id, 'MD5')",
        "States.Array('--step', '1', true, false, -3, 0, $.input.run_date, $)",
        "States.JsonToString($.steps['odd key'])",
    ],
)
def test_an_intrinsic_function_is_made_as_moto_s_parser_makes_it(text: str):
    from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser

    from sfn_builder.simulate.intrinsic_builder import build_function

    interpreter.install()
    assert difference(build_function(text), IntrinsicParser.parse(text)[0]) is None


@pytest.mark.parametrize(
    "text",
    ["States.MathAdd($.n, 1.5)", "States.Format('{}', $v)", "States.Format ('x')", "States.Nope()", "States.UUID() x"],
)
def test_what_the_intrinsic_reader_does_not_know_is_left_to_moto_s_parser(text: str):
    from sfn_builder.simulate.intrinsic_builder import Unsupported, build_function

    with pytest.raises(Unsupported):
        build_function(text)


def _renamed(document: Any, rng: Any, odd: list[str]) -> Any:
    """The definition with some states renamed, and comments and literal values extended, with odd text."""
    names: dict[str, str] = {}

    def collect(program: dict[str, Any]) -> None:
        for name, state in program["States"].items():
            names[name] = name + "".join(rng.choice(odd) for _ in range(3)) if rng.random() < 0.3 else name
            for inner in [*state.get("Branches", []), state.get("Iterator"), state.get("ItemProcessor")]:
                if inner:
                    collect(inner)

    def rewrite(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {names.get(k, k) if key == "States" else k: rewrite(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(item, key) for item in value]
        if key in ("Next", "Default", "StartAt"):
            return names.get(value, value)
        if key in ("Comment", "Cause") or (key in ("S3Uri", "Value", "Message") and isinstance(value, str)):
            return value + "".join(rng.choice(odd) for _ in range(3))
        return value

    collect(document)
    return rewrite(document)


def test_names_comments_and_values_with_quotes_escapes_and_other_scripts_build_as_moto_parses_them():
    import random

    rng = random.Random(7)
    odd = ['"', "\\", "/", "\n", "\t", "'", "{", "}", "é", "ß", "😀", "\u0001", "$", "(", " "]
    texts = [text for path in SPECS[:4] for text in definitions(compile_analysis(analyze_file(str(path))))]
    for case in range(12):
        document = _renamed(json.loads(texts[case % len(texts)]), rng, odd)
        text = json.dumps(document, ensure_ascii=case % 2 == 0)
        built, parsed = built_and_parsed(text)
        assert built is not None and difference(built, parsed) is None, case
        assert difference(interpreter.program_of(text), parsed) is None, case
