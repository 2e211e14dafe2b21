"""The JSON Schema: valid 2020-12, documented field by field, strict about unknown fields."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, WORKFLOWS
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sfn_builder.includes import load_spec

SCHEMA = json.loads((ROOT / "schemas" / "workflow.schema.json").read_text())


def properties(node, path="$"):
    """Every (path, property schema) in the schema (`if` conditions are not fields)."""
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            yield f"{path}.{name}", child
        for key, child in node.items():
            if key != "if":
                yield from properties(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from properties(child, f"{path}[{index}]")


def test_schema_is_valid_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_every_field_has_a_description_and_an_example():
    missing = [path for path, child in properties(SCHEMA) if not (child.get("description") and child.get("examples"))]
    assert missing == []


def test_unknown_fields_are_rejected_everywhere():
    open_objects = []

    def walk(node, path):
        if isinstance(node, dict):
            closed = node.get("additionalProperties") is False or "allOf" in node  # allOf: each type closes it
            if node.get("type") == "object" and "properties" in node and not closed:
                open_objects.append(path)
            for key, child in node.items():
                walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]")

    walk(SCHEMA, "$")
    assert open_objects == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.stem for w in WORKFLOWS])
def test_examples_point_editors_at_the_schema(workflow: Path):
    first = workflow.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/workflow.schema.json"
    assert list(Draft202012Validator(SCHEMA).iter_errors(yaml.safe_load(workflow.read_text()))) == []


def test_the_spec_md_example_is_the_churn_example():
    spec_md = ROOT.parent / "shared" / "SPEC.md"
    if not spec_md.exists():
        pytest.skip("shared/SPEC.md is not beside this checkout")
    block = re.search(r"```yaml\n(.*?)```", spec_md.read_text(), re.S).group(1)
    ours = (ROOT / "workflows" / "churn-training.yaml").read_text()
    assert yaml.safe_load(block) == yaml.safe_load(ours)


BROKEN = [
    {"version": 1, "name": "x", "steps": {"a": {"type": "processing", "imgae": "x", "instance_count": 0}}},
    {"version": 1, "name": "x", "steps": {"a": {"type": "choice", "choices": [{"when": 3}]}, "b": {}}},
    {"version": 1, "name": "x", "steps": {"a": {"type": "procesing"}, "b": {"type": "wait", "seconds": "2 h"}}},
    {"version": 1, "name": "x", "steps": {"a": {"type": "batch", "array_size": 1, "retry": [{}]}}, "extra": 1},
    {"version": 1, "steps": [], "schedule": {"expression": 5}},
]


@pytest.mark.parametrize("data", BROKEN + [yaml.safe_load(w.read_text()) for w in WORKFLOWS])
def test_dispatch_on_step_type_gives_the_schemas_own_errors(data):
    from sfn_builder.schema import full_schema_problems, schema_problems

    def key(problems):
        return sorted((p.path, p.message) for p in problems)

    assert key(schema_problems(data)) == key(full_schema_problems(data))


def _leaf_schemas():
    """Every subschema of the workflow schema that `leaf_checks` can test directly."""
    from sfn_builder.leaf_checks import leaf_test
    from sfn_builder.schema import workflow_schema

    found, stack = {}, [workflow_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if leaf_test(node) is not None:
                found[json.dumps(node, sort_keys=True)] = node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return list(found.values())


LEAF_SCHEMAS = _leaf_schemas()
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=70),
    st.sampled_from(["ml.m5.xlarge", "2h", "30s", "s3://b/k", "x" * 64, "", "processing", "Completed", "1", "true"]),
)
_keys = st.sampled_from(["source", "destination", "name", "uri", "x", "type", "mode", "input"])
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=5),
    st.lists(st.sampled_from(["a", "b"]), max_size=4),
    st.dictionaries(_keys, _scalars, max_size=4),
    st.lists(st.dictionaries(_keys, _scalars, max_size=4), max_size=3),
)


def test_the_leaf_checks_cover_the_common_fields():
    assert len(LEAF_SCHEMAS) > 30


@pytest.mark.parametrize("schema", LEAF_SCHEMAS, ids=lambda schema: json.dumps(schema, sort_keys=True)[:60])
@given(value=_values)
def test_a_leaf_check_accepts_only_what_the_schema_accepts(schema, value):
    from sfn_builder.leaf_checks import leaf_test

    if leaf_test(schema)(value):
        assert Draft202012Validator(schema).is_valid(value), (schema, value)


_POOL = ["s3://bucket/key/", "/opt/ml/processing/input", "input-1", "File", "x", "1h", 1, True, 0.5, ["a-1"], {}]
OBJECT_LEAVES = [schema for schema in LEAF_SCHEMAS if schema.get("type") == "object" and schema.get("required")]


def _minimal_instance(schema):
    """The schema's required properties, each with the first of its examples (or the pool) it accepts."""
    instance = {}
    for name in schema["required"]:
        subschema = schema.get("properties", {}).get(name, {})
        candidates = [*subschema.get("examples", []), *_POOL]
        instance[name] = next(value for value in candidates if Draft202012Validator(subschema).is_valid(value))
    return instance


@pytest.mark.parametrize("schema", OBJECT_LEAVES, ids=lambda schema: ",".join(schema["required"]))
def test_a_leaf_check_of_a_mapping_agrees_on_missing_and_unknown_keys(schema):
    from sfn_builder.leaf_checks import leaf_test

    test = leaf_test(schema)
    valid = _minimal_instance(schema)
    assert test(valid) and Draft202012Validator(schema).is_valid(valid)
    unknown = {**valid, "no_such_field": "x"}
    assert test(unknown) == Draft202012Validator(schema).is_valid(unknown)
    missing = dict(list(valid.items())[1:])
    assert not test(missing) and not Draft202012Validator(schema).is_valid(missing)


def test_the_direct_test_of_the_whole_schema_passes_only_what_jsonschema_passes():
    """Specs the direct test passes skip jsonschema (module `schema_tests`): it must never pass a spec with
    a problem. Fuzzed specs (mutated examples and specs generated from the schema) and the examples."""
    from fuzz import cases

    from sfn_builder.schema import _plainly_valid, full_schema_problems

    test = _plainly_valid
    passed = 0
    for _, raw in cases(1500, seed=20261122):
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and test(data):
            passed += 1
            assert full_schema_problems(data) == [], raw
    for workflow in WORKFLOWS:  # as validated: with the files it includes
        assert test(load_spec(str(workflow)).data)
    assert passed > 50  # the test is useful: it vouches for many specs


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, 3.0),  # JSON Schema: 3.0 is an integer
        ({"enum": [1, "a"]}, 1.0),
        ({"const": True}, 1),
        ({"uniqueItems": True}, [1, 1.0]),
        ({"uniqueItems": True}, [{"a": 1}, {"a": 1.0}]),
        ({"if": {"properties": {"t": {"const": "x"}}}, "then": {"required": ["y"]}, "else": {"maxProperties": 1}},
         {"t": "x"}),
        ({"pattern": "^a$"}, "a\n"),
        ({"anyOf": [{"type": "string"}, {"minimum": 3}]}, 2),
        ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, 2),
    ],
)
def test_the_direct_tests_agree_with_jsonschema_on_its_fine_points(schema, value):
    from sfn_builder.leaf_checks import LeafCheckingValidator  # jsonschema, with ECMA's `$` in patterns
    from sfn_builder.schema_tests import Tests

    test = Tests(schema).test(schema)
    assert test is not None
    valid = LeafCheckingValidator(schema).is_valid(value)
    if "uniqueItems" in schema:  # floats among the items: left to jsonschema (the test says no)
        assert not test(value)
    else:
        assert test(value) == valid, (schema, value)
