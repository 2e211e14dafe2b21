"""A Draft 2020-12 validator that does not descend into leaves it can see are valid.

Most of a spec is strings, numbers and lists of strings under simple schemas
(`{"type": "string", "minLength": 1}`). jsonschema builds a child validator for
each of them; here `properties` and `items` first run a direct test of such a
leaf and descend only when the test cannot vouch for the value. The test
accepts only values the full check would accept, so the errors are the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend

_ANNOTATIONS = frozenset({"description", "title", "markdownDescription", "examples", "default", "deprecated"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
}
LeafTest = Callable[[Any], bool]
_tests: dict[int, tuple[Any, LeafTest | None]] = {}  # id(schema) -> (schema, its test); the schema keeps the id


def leaf_test(schema: Any) -> LeafTest | None:
    """A test that is True only for values `schema` accepts; None when the schema is not a simple leaf."""
    known = _tests.get(id(schema))
    if known is None:
        known = _tests[id(schema)] = (schema, _make_test(schema))
    return known[1]


def _make_test(schema: Any) -> LeafTest | None:
    if not isinstance(schema, dict):
        return None
    keywords = {key: value for key, value in schema.items() if key not in _ANNOTATIONS}
    kind = keywords.pop("type", None)
    if kind == "array":
        return _array_test(keywords)
    if kind == "object":
        return _object_test(keywords)
    if isinstance(kind, list) and sorted(kind) == ["array", "object"]:
        return _array_or_object_test(keywords)
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    if kind is not None and not (kinds and all(isinstance(k, str) and k in _TYPES for k in kinds)):
        return None
    tests = [lambda value: any(_TYPES[k](value) for k in kinds)] if kinds else []
    for keyword, bound in keywords.items():
        test = _keyword_test(kinds[0] if len(kinds) == 1 else "", keyword, bound)
        if test is None:
            return None
        tests.append(test)
    return (lambda value: all(test(value) for test in tests)) if tests else None


def _array_test(keywords: dict[str, Any]) -> LeafTest | None:
    """Lists of leaves, with a size and (for strings) uniqueness."""
    item_test = leaf_test(keywords.pop("items", {"type": ["string", "number", "boolean"]}))
    low, high = keywords.pop("minItems", 0), keywords.pop("maxItems", None)
    unique = keywords.pop("uniqueItems", False)
    if item_test is None or keywords:
        return None

    def test(value: Any) -> bool:
        if not isinstance(value, list) or len(value) < low or (high is not None and len(value) > high):
            return False
        if not all(map(item_test, value)):
            return False
        return not unique or (all(isinstance(item, str) for item in value) and len(set(value)) == len(value))

    return test


def _object_test(keywords: dict[str, Any]) -> LeafTest | None:
    """Mappings of leaves: named properties, required ones, and what other keys may hold."""
    properties = keywords.pop("properties", {})
    required = tuple(keywords.pop("required", ()))
    others = keywords.pop("additionalProperties", True)
    if keywords or not isinstance(properties, dict):
        return None
    property_tests = {name: leaf_test(subschema) for name, subschema in properties.items()}
    other_test = None if isinstance(others, bool) else leaf_test(others)
    if None in property_tests.values() or (other_test is None and not isinstance(others, bool)):
        return None

    def test(value: Any) -> bool:
        if not isinstance(value, dict) or not all(name in value for name in required):
            return False
        for key, item in value.items():
            item_test = property_tests.get(key, other_test)
            if item_test is None:  # not a named property: additionalProperties true or false
                if others is False:
                    return False
            elif not item_test(item):
                return False
        return True

    return test


def _array_or_object_test(keywords: dict[str, Any]) -> LeafTest | None:
    array_keywords = {k: v for k, v in keywords.items() if k in ("items", "minItems", "maxItems", "uniqueItems")}
    object_keywords = {k: v for k, v in keywords.items() if k not in array_keywords}
    array_test, object_test = _array_test(array_keywords), _object_test(object_keywords)
    if array_test is None or object_test is None:
        return None
    return lambda value: array_test(value) if isinstance(value, list) else object_test(value)


def _keyword_test(kind: str, keyword: str, bound: Any) -> LeafTest | None:
    """`kind` is the one type the schema allows, or "" (any, or several)."""
    if keyword in ("enum", "const"):
        options = bound if keyword == "enum" else [bound]
        if isinstance(options, list) and all(isinstance(option, str) for option in options):
            members = frozenset(options)
            return lambda value: isinstance(value, str) and value in members
        return None
    if kind == "string":
        if keyword == "minLength":
            return lambda value: len(value) >= bound
        if keyword == "maxLength":
            return lambda value: len(value) <= bound
        if keyword == "pattern":
            pattern = ecma_pattern(bound)
            return lambda value: pattern.search(value) is not None
    if kind in ("integer", "number") and isinstance(bound, int | float) and not isinstance(bound, bool):
        if keyword == "minimum":
            return lambda value: value >= bound
        if keyword == "maximum":
            return lambda value: value <= bound
    return None


_FULL = Draft202012Validator.VALIDATORS


def _properties(validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    unproven = {}
    for name, subschema in properties.items():
        if name in instance:
            test = leaf_test(subschema)
            if test is None or not test(instance[name]):
                unproven[name] = subschema
    if unproven:
        yield from _FULL["properties"](validator, unproven, instance, schema)


def _items(validator: Any, items: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    test = leaf_test(items)
    if test is not None and isinstance(instance, list) and "prefixItems" not in schema and all(map(test, instance)):
        return
    yield from _FULL["items"](validator, items, instance, schema)


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` with JSON Schema's (ECMA-262's) meaning: `$` is the end of the text.

    Python's `$` also matches before a final newline, so `^[a-z]+$` would let `"name\\n"`
    through; each unescaped `$` becomes `\\Z`.
    """
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


LeafCheckingValidator = extend(
    Draft202012Validator, {"properties": _properties, "items": _items, "pattern": _pattern}
)
