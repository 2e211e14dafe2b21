"""Parsed definitions are kept between runs (only this user's own files are trusted); an emulator
running older code says so."""

from __future__ import annotations

import os

from conftest import ROOT, compile_text

from sfn_builder.simulate import engine, program_cache
from sfn_builder.simulate.mock_config import success_case


def parse_counting(calls: list[int]):
    def parse():
        calls.append(1)
        return {"parsed": True}

    return parse


def test_a_definition_is_parsed_once_and_then_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[int] = []
    assert program_cache.load_or_parse('{"StartAt": "a"}', parse_counting(calls)) == {"parsed": True}
    assert program_cache.load_or_parse('{"StartAt": "a"}', parse_counting(calls)) == {"parsed": True}
    assert len(calls) == 1
    program_cache.load_or_parse('{"StartAt": "b"}', parse_counting(calls))
    assert len(calls) == 2


def test_a_file_others_may_write_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[int] = []
    program_cache.load_or_parse("{}", parse_counting(calls))
    (stored,) = (tmp_path / "sfn-build" / "programs").glob("*.pickle")
    os.chmod(stored, 0o666)
    program_cache.load_or_parse("{}", parse_counting(calls))
    assert len(calls) == 2


def test_a_run_from_a_stored_program_is_the_same_run(tmp_path, monkeypatch, write_spec):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    definition = compile_text(write_spec, (ROOT / "workflows" / "nightly-features.yaml").read_text()).definition
    runs = [engine.run(definition, "nightly", {}, success_case(definition, {})) for _ in range(2)]
    assert list((tmp_path / "sfn-build" / "programs").glob("*.pickle"))
    assert [v.state for v in runs[0].path] == [v.state for v in runs[1].path]
    assert runs[0].status == runs[1].status == "SUCCEEDED"


def test_an_emulator_started_by_other_sfn_build_code_is_told(tmp_path, monkeypatch):
    import json

    from sfn_builder.deploy import local

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert not local.outdated()  # none recorded
    record = local.state_dir() / "state.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": 1, "log": "x", "code": "older"}))
    assert local.outdated()
    record.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": 1, "log": "x", "code": local.code_digest()}))
    assert not local.outdated()


def test_the_two_stage_parse_gives_moto_s_own_program_for_every_example():
    """SLL first, LL only on an error (ANTLR's two-stage parse): the same program, pickled byte for byte."""
    import pickle

    from conftest import WORKFLOWS

    from sfn_builder.asl import compact
    from sfn_builder.compiler import compile_analysis
    from sfn_builder.simulate import interpreter
    from sfn_builder.validate import analyze_file

    interpreter.install()
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    for workflow in WORKFLOWS:
        text = compact(compile_analysis(analyze_file(str(workflow))).definition)
        ours = pickle.dumps(interpreter.two_stage_parse(text))
        assert ours == pickle.dumps(AmazonStateLanguageParser.parse(text)[0]), workflow.name


def test_a_definition_the_fast_stage_cannot_read_gets_moto_s_own_error():
    import pytest

    from sfn_builder.simulate import interpreter

    interpreter.install()
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException

    with pytest.raises(ASLParserException):
        interpreter.two_stage_parse('{"StartAt": "a", "States": {"a": {"Type": "Nope"}}}')


