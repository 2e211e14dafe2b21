"""A Draft 2020-12 validator that does not descend into leaves it can see are valid.

Most of a spec is strings, numbers and lists of strings under simple schemas
(`{"type": "string", "minLength": 1}`). jsonschema builds a child validator for
each of them; here `properties` and `items` first run a direct test of such a
leaf (module `schema_tests`) and descend only when the test cannot vouch for the
value. The test accepts only values the full check would accept, so the errors
are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend

from .schema_tests import Test, Tests, ecma_pattern

_TESTS = Tests({})  # no definitions: a schema with a `$ref` is not a leaf here


def leaf_test(schema: Any) -> Test | None:
    """A test that is True only for values `schema` accepts; None when it cannot be tested directly."""
    return _TESTS.test(schema)


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


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


LeafCheckingValidator = extend(
    Draft202012Validator, {"properties": _properties, "items": _items, "pattern": _pattern}
)
