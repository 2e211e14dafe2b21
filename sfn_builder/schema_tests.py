"""Direct tests of JSON Schema (Draft 2020-12) fragments: True only for values the schema accepts.

A test is made once per schema and answers with plain Python checks. It never
accepts a value the schema refuses; a schema using a keyword it does not know,
or a value it cannot judge for sure (a list holding floats under
`uniqueItems`), makes it answer False or None, and jsonschema then decides and
says why. Valid specs, the common case, are so checked without importing
jsonschema at all (module `schema`); `leaf_checks` uses the same tests to skip
plainly valid leaves inside jsonschema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

Test = Callable[[Any], bool]
_ANNOTATIONS = frozenset(
    {
        "description", "title", "markdownDescription", "examples", "default", "deprecated",
        "$schema", "$id", "$comment", "$defs",
    }
)
_TYPES: dict[str, Test] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` with JSON Schema's (ECMA-262's) meaning: `$` is the end of the text.

    Python's `$` also matches before a final newline, so `^[a-z]+$` would let `"name\\n"`
    through; each unescaped `$` becomes `\\Z`.
    """
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


class Tests:
    """Tests of the schemas under one root (whose `$defs` its `$ref`s name)."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.definitions = root.get("$defs", {})
        self.made: dict[int, tuple[Any, Test | None]] = {}  # id(schema) -> (schema, test); the schema keeps the id
        self.refs: dict[str, Test | None] = {}
        self.making: set[str] = set()

    def test(self, schema: Any) -> Test | None:
        """A test True only for values `schema` accepts; None when it uses what these tests do not know."""
        known = self.made.get(id(schema))
        if known is None:
            known = self.made[id(schema)] = (schema, self._make(schema))
        return known[1]

    def _make(self, schema: Any) -> Test | None:
        if schema is True or schema == {}:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, dict):
            return None
        tests: list[Test] = []
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS or keyword in _PART_OF:
                continue
            maker = _KEYWORDS.get(keyword)
            test = maker(self, argument, schema) if maker is not None else None
            if test is None:
                return None
            tests.append(test)
        if not tests:
            return lambda value: True
        if len(tests) == 1:
            return tests[0]
        return lambda value: all(test(value) for test in tests)

    def reference(self, ref: Any, _schema: dict[str, Any]) -> Test | None:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or ref[8:] not in self.definitions:
            return None
        name = ref[8:]
        if name in self.making:  # a recursive reference: its test is read when it is called
            return lambda value: (self.refs.get(name) or _refuse)(value)
        if name not in self.refs:
            self.making.add(name)
            self.refs[name] = self.test(self.definitions[name])
            self.making.discard(name)
        return self.refs[name]


def _refuse(_value: Any) -> bool:
    return False  # (a recursive definition these tests do not know: not proven valid)


def _type(tests: Tests, kind: Any, _schema: dict[str, Any]) -> Test | None:
    kinds = [kind] if isinstance(kind, str) else kind
    if not isinstance(kinds, list) or not kinds or not all(k in _TYPES for k in kinds):
        return None
    checks = [_TYPES[k] for k in kinds]
    return checks[0] if len(checks) == 1 else lambda value: any(check(value) for check in checks)


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema has it: 1 equals 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_json_equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _enum(_tests: Tests, options: Any, _schema: dict[str, Any]) -> Test | None:
    if not isinstance(options, list):
        return None
    if all(isinstance(option, str) for option in options):
        members = frozenset(options)
        return lambda value: isinstance(value, str) and value in members
    return lambda value: any(_json_equal(value, option) for option in options)


def _const(_tests: Tests, option: Any, _schema: dict[str, Any]) -> Test:
    return lambda value: _json_equal(value, option)


def _length(bound: Any, compare: Callable[[int, Any], bool]) -> Test | None:
    if not isinstance(bound, int) or isinstance(bound, bool):
        return None
    return lambda value: not isinstance(value, str) or compare(len(value), bound)


def _pattern(_tests: Tests, pattern: Any, _schema: dict[str, Any]) -> Test | None:
    if not isinstance(pattern, str):
        return None
    compiled = ecma_pattern(pattern)
    return lambda value: not isinstance(value, str) or compiled.search(value) is not None


def _bound(compare: Callable[[Any, Any], bool]) -> Callable[[Tests, Any, dict[str, Any]], Test | None]:
    def make(_tests: Tests, bound: Any, _schema: dict[str, Any]) -> Test | None:
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            return None
        number = _TYPES["number"]
        return lambda value: not number(value) or compare(value, bound)

    return make


def _properties(tests: Tests, properties: Any, schema: dict[str, Any]) -> Test | None:
    """`properties` with `additionalProperties` (both judged here: the latter depends on the former)."""
    if not isinstance(properties, dict):
        return None
    named = {name: tests.test(subschema) for name, subschema in properties.items()}
    others = schema.get("additionalProperties", True)
    other_test = tests.test(others)
    if None in named.values() or other_test is None or "patternProperties" in schema:
        return None

    if others is True or others == {}:  # other keys are free: only the named ones are looked at

        def named_only(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            return all(check(value[name]) for name, check in named.items() if name in value)

        return named_only

    def test(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            check = named.get(key, other_test)
            if not check(item):
                return False
        return True

    return test


def _additional(tests: Tests, others: Any, schema: dict[str, Any]) -> Test | None:
    if "properties" in schema:
        return lambda value: True  # judged with `properties`
    if "patternProperties" in schema:
        return None
    return _properties(tests, {}, schema)


def _required(_tests: Tests, names: Any, _schema: dict[str, Any]) -> Test | None:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    return lambda value: not isinstance(value, dict) or all(name in value for name in names)


def _property_names(tests: Tests, subschema: Any, _schema: dict[str, Any]) -> Test | None:
    check = tests.test(subschema)
    if check is None:
        return None
    return lambda value: not isinstance(value, dict) or all(map(check, value))


def _count(kind: type, compare: Callable[[int, Any], bool]) -> Callable[[Tests, Any, dict[str, Any]], Test | None]:
    def make(_tests: Tests, bound: Any, _schema: dict[str, Any]) -> Test | None:
        if not isinstance(bound, int) or isinstance(bound, bool):
            return None
        return lambda value: not isinstance(value, kind) or compare(len(value), bound)

    return make


def _items(tests: Tests, subschema: Any, schema: dict[str, Any]) -> Test | None:
    check = tests.test(subschema)
    if check is None or "prefixItems" in schema:
        return None
    return lambda value: not isinstance(value, list) or all(map(check, value))


def _unique(_tests: Tests, unique: Any, _schema: dict[str, Any]) -> Test | None:
    if unique is False:
        return lambda value: True
    if unique is not True:
        return None

    def test(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        if any(map(_has_float, value)):
            return False  # 1 and 1.0 are the same item: left to jsonschema
        seen = {json.dumps(item, sort_keys=True) for item in value}
        return len(seen) == len(value)

    return test


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(map(_has_float, value))
    return isinstance(value, dict) and any(map(_has_float, value.values()))


def _all_of(tests: Tests, schemas: Any, _schema: dict[str, Any]) -> Test | None:
    checks = [tests.test(s) for s in schemas] if isinstance(schemas, list) else [None]
    if None in checks:
        return None
    return lambda value: all(check(value) for check in checks)


def _any_of(tests: Tests, schemas: Any, _schema: dict[str, Any]) -> Test | None:
    checks = [tests.test(s) for s in schemas] if isinstance(schemas, list) else [None]
    if None in checks:
        return None
    return lambda value: any(check(value) for check in checks)


def _one_of(tests: Tests, schemas: Any, _schema: dict[str, Any]) -> Test | None:
    checks = [tests.test(s) for s in schemas] if isinstance(schemas, list) else [None]
    if None in checks:
        return None
    return lambda value: sum(1 for check in checks if check(value)) == 1


def _if(tests: Tests, condition: Any, schema: dict[str, Any]) -> Test | None:
    """`if` with its `then` and `else`. The condition's test must be exact both ways: a value it
    refuses takes the `else` branch, so only conditions made of `const`/`enum`/`required`/`type`
    on properties are trusted."""
    if not _exact(condition):
        return None
    check = tests.test(condition)
    then, otherwise = tests.test(schema.get("then", True)), tests.test(schema.get("else", True))
    if check is None or then is None or otherwise is None:
        return None
    return lambda value: then(value) if check(value) else otherwise(value)


def _exact(condition: Any) -> bool:
    """Whether a condition's test is True exactly for the values the schema accepts (not merely only)."""
    if not isinstance(condition, dict):
        return isinstance(condition, bool)
    for keyword, argument in condition.items():
        if keyword in _ANNOTATIONS or keyword in ("const", "enum", "required", "type"):
            continue
        if keyword == "properties" and isinstance(argument, dict) and all(map(_exact, argument.values())):
            continue
        return False
    return True


# Keywords judged together with another one.
_PART_OF = frozenset({"then", "else"})
_KEYWORDS: dict[str, Callable[[Tests, Any, dict[str, Any]], Test | None]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": lambda _t, bound, _s: _length(bound, lambda n, b: n >= b),
    "maxLength": lambda _t, bound, _s: _length(bound, lambda n, b: n <= b),
    "pattern": _pattern,
    "minimum": _bound(lambda v, b: v >= b),
    "maximum": _bound(lambda v, b: v <= b),
    "exclusiveMinimum": _bound(lambda v, b: v > b),
    "exclusiveMaximum": _bound(lambda v, b: v < b),
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "propertyNames": _property_names,
    "minProperties": _count(dict, lambda n, b: n >= b),
    "maxProperties": _count(dict, lambda n, b: n <= b),
    "items": _items,
    "minItems": _count(list, lambda n, b: n >= b),
    "maxItems": _count(list, lambda n, b: n <= b),
    "uniqueItems": _unique,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "if": _if,
    "$ref": Tests.reference,
}
