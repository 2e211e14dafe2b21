"""Loading: positions, duplicate keys, and hostile input that must end in a clear error."""

from __future__ import annotations

import pytest

from sfn_builder.loader import MAX_DEPTH, load_bytes, load_text
from sfn_builder.problems import SpecError


def error_of(raw: bytes | str) -> str:
    with pytest.raises(SpecError) as caught:
        if isinstance(raw, bytes):
            load_bytes(raw, "spec.yaml")
        else:
            load_text(raw, "spec.yaml")
    return "\n".join(p.render() for p in caught.value.problems)


def test_positions_of_keys_and_values():
    document = load_text("version: 1\nsteps:\n  a:\n    type: wait\n    seconds: 5\n", "f.yaml")
    assert document.locate(("steps", "a", "seconds")).line == 5
    assert document.locate(("steps", "a", "seconds")).column == 14
    assert document.locate(("steps", "a", "seconds"), key=True).column == 5
    assert document.locate(("steps", "missing", "x")).line == 3  # deepest existing ancestor


def test_json_is_read_with_positions():
    document = load_text('{\n  "version": 1,\n  "steps": {"a": {"type": "wait"}}\n}\n', "f.json")
    assert document.data["steps"]["a"]["type"] == "wait"
    assert document.locate(("steps", "a")).line == 3


def test_duplicate_keys_are_errors_with_both_lines():
    message = error_of("version: 1\nsteps:\n  a: {type: wait}\n  a: {type: succeed}\n")
    assert "spec.yaml:4:3: error: duplicate key 'a' (first written at line 3)" in message


def test_keys_keep_their_text():
    document = load_text("on: 1\n1: x\nyes: true\n")
    assert set(document.data) == {"on", "1", "yes"}
    assert document.data["yes"] is True


def test_a_scalar_s_style_decides_its_type_every_time():
    text = "a: 123\nb: '123'\nc: >-\n  123\nd: 123\ne: true\nf: |-\n  true\n"
    for _ in range(2):  # the second load reads plain scalars from the loader's cache
        data = load_text(text, "t.yaml").data
        assert data == {"a": 123, "b": "123", "c": "123", "d": 123, "e": True, "f": "true"}


def test_merge_keys_apply_with_explicit_keys_winning():
    document = load_text("base: &b {image: x, role: r}\nstep:\n  <<: *b\n  image: y\n")
    assert document.data["step"] == {"image": "y", "role": "r"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "the spec is empty"),
        ("# only a comment\n\n", "the spec is empty"),
        ("- a\n- b\n", "but this file holds a list"),
        ("just text\n", "but this file holds the str 'just text'"),
        (b"version: 1\n\x00\x01\x02", "spec.yaml:2:1: error: this is a binary file"),
        (b"name: caf\xe9\n", "spec.yaml:1:10: error: the file is not valid UTF-8 (byte 0xe9)"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("a: !!python/object:os.system x\n", "unsupported YAML tag"),
        ("a: !!binary aGVsbG8=\n", "unsupported YAML tag"),
        ("a: [1, 2\n", "spec.yaml:1:4: error: invalid YAML"),  # where the bracket opens
        ("a: *nowhere\n", "spec.yaml:1:4: error: unknown alias '*nowhere'"),
        ("? [a, b]\n: 1\n", "a mapping key must be a plain string"),
    ],
)
def test_bad_input_gets_one_clear_error(raw, expected):
    assert expected in error_of(raw)


def test_absurd_nesting_is_rejected_not_recursed():
    deep = "a: " + "[" * 100_000 + "]" * 100_000 + "\n"
    assert f"nests deeper than {MAX_DEPTH} levels" in error_of(deep)


def test_billion_laughs_is_rejected():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 10):
        previous = f"*a{n - 1}"
        lines.append(f"a{n}: &a{n} [{', '.join([previous] * 9)}]")
    message = error_of("\n".join(lines) + "\n")
    assert "aliases expand to more than 250,000 values" in message


def test_file_errors_name_the_file(tmp_path):
    from sfn_builder.loader import load_file

    with pytest.raises(SpecError) as caught:
        load_file(str(tmp_path / "nope.yaml"))
    assert caught.value.problems[0].render().endswith("nope.yaml: error: no such file")
    with pytest.raises(SpecError) as caught:
        load_file(str(tmp_path))
    assert "this is a directory" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        ("version: 1\nname: x\nsteps:\n\ta:\n    type: wait\n", 4, "indented with a tab"),
        ("version: 1\nsteps:\n  a:\n    type: wait\n    seconds: 5\n   comment: hi\n", 6, "indentation does not match"),
        ("version: 1\nname: x: y\n", 2, "must be quoted"),
        ("version: 1\nname x\nsteps:\n  a: {type: wait}\n", 2, "a key needs ':'"),
        ('version: 1\nname: "x\nsteps: {}\n', 2, "this quote is never closed"),
        ("version: 1\nname: [x\nsteps: {}\n", 2, "this bracket is never closed"),
    ],
)
def test_yaml_syntax_errors_point_at_the_mistake_with_a_hint(text, line, hint):
    with pytest.raises(SpecError) as raised:
        load_text(text, "spec.yaml")
    (problem,) = raised.value.problems
    assert problem.position is not None and problem.position.line == line, problem.render()
    assert hint in (problem.hint or ""), problem.render()
